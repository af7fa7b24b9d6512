"""Returns (RMA): the request, its lines, the tenant's reasons and the request's timeline.

A return is numbered gap-free per tenant (RMA-000123), belongs to one order and names the order lines it takes
back. Its status changes only through returns.services (the map is returns/states.py). Receipt, disposition,
refunds and exchanges build on the fields kept here: each line's `quantity_received` and `disposition`, the
return's `outcome` and `location`, and the exchange lines."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    REFUNDED = "refunded", _("Refunded")
    EXCHANGED = "exchanged", _("Exchanged")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class ReturnMethod(models.TextChoices):
    MAIL = "mail", _("By mail")
    STORE = "store", _("In store")


class ReturnOutcome(models.TextChoices):
    REFUND = "refund", _("Refund")
    EXCHANGE = "exchange", _("Exchange")
    STORE_CREDIT = "store_credit", _("Store credit")


class ReturnReason(TenantModel):
    """One of the tenant's reasons for a return, with its labels and who pays the return shipping."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    code = models.SlugField(_("code"), max_length=40, db_index=False)  # the unique constraint leads with the tenant
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_fr = models.CharField(_("label (French)"), max_length=120)
    customer_pays_shipping = models.BooleanField(_("customer pays return shipping"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return reason")
        verbose_name_plural = _("return reasons")
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="returnreason_unique_code")]

    def __str__(self):
        return self.code

    def label(self, language: str | None) -> str:
        """The label in a language (French for `fr`, `fr-ca`, ...; English otherwise)."""
        return self.label_fr if (language or "").lower().startswith("fr") else self.label_en


class Return(TenantModel):
    """A return request (RMA) for units of one order."""

    tenant = tenant_field(db_index=False)  # the unique constraints and indexes lead with the tenant
    number = models.CharField(_("number"), max_length=32)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns", verbose_name=_("order"))
    channel = models.ForeignKey(
        "channels.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("channel"),
        help_text=_("the order's sales channel"),
    )
    status = models.CharField(_("status"), max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    method = models.CharField(_("method"), max_length=8, choices=ReturnMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ReturnOutcome.choices, blank=True)
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
        help_text=_("the store where the customer brings the return back"),
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    auto_approved = models.BooleanField(_("approved automatically"), default=False)
    decision_reason = models.CharField(_("reason of the decision"), max_length=500, blank=True)
    requested_by = models.CharField(_("requested by"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="return_unique_number"),
            models.UniqueConstraint(fields=["tenant", "sequence"], name="return_unique_sequence"),
        ]
        indexes = [
            models.Index(fields=["tenant", "order"], name="return_tenant_order_idx"),
            models.Index(fields=["tenant", "status", "requested_at"], name="return_tenant_status_idx"),
            models.Index(fields=["tenant", "channel"], name="return_tenant_channel_idx"),
        ]

    def __str__(self):
        return self.number


class ReturnLine(TenantModel):
    """Units of one order line asked back, with the reason; what arrives is recorded on the line too."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return"))
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.ForeignKey(ReturnReason, on_delete=models.PROTECT, related_name="lines", verbose_name=_("reason"))
    quantity_received = models.PositiveIntegerField(_("quantity received"), default=0)
    disposition = models.CharField(_("disposition"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "order_line"], name="returnline_tenant_line_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="returnline_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(quantity_received__lte=models.F("quantity")), name="returnline_received_le_qty"
            ),
        ]


class ExchangeLine(TenantModel):
    """What the customer wants instead, for an exchange: a product of the catalogue and its units."""

    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="exchange_lines", verbose_name=_("return"))
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("exchange line")
        verbose_name_plural = _("exchange lines")
        ordering = ["id"]


class ReturnEvent(TenantModel):
    """The return's timeline: who did what, when."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="events", verbose_name=_("return"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor_label = models.CharField(_("by"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24)
    status = models.CharField(_("status after"), max_length=16, choices=ReturnStatus.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("return event")
        verbose_name_plural = _("return events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "rma", "at"], name="returnevent_rma_at_idx")]
