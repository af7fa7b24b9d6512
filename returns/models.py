"""Returns (RMA): the request, its lines, the tenant's reasons, what came back and what became of it, the money
given back, and the request's timeline.

A return is numbered gap-free per tenant (RMA-000123), belongs to one order and names the order lines it takes
back. Its status changes only through returns.services (the map is returns/states.py). Each receipt records the
units that arrived at a location and their disposition; the refund (or the store credit) and the exchange's
replacement order follow from them once everything is in."""

from decimal import Decimal

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


class Disposition(models.TextChoices):
    """What becomes of a returned unit, decided when it is received and inspected."""

    RESTOCK = "restock", _("Back to sellable stock")
    DAMAGED = "damaged", _("Damaged: kept apart, not sellable")
    WRITE_OFF = "write_off", _("Written off")
    TO_VENDOR = "to_vendor", _("Held for the vendor")


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment", _("To the original payment")
    STORE_CREDIT = "store_credit", _("Store credit")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SETTLED = "settled", _("Settled")


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
    exchange_order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replacement order"),
        help_text=_("an exchange's replacement order, placed when the exchange is requested"),
    )
    amount_due = models.DecimalField(
        _("amount due"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("what the customer owes for an exchange worth more than the returned items"),
    )
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


class ReturnReceipt(TenantModel):
    """Units of a return line received at a location, inspected, and what became of them."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("return"))
    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("line"))
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    disposition = models.CharField(_("disposition"), max_length=16, choices=Disposition.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.CharField(_("received by"), max_length=200)

    class Meta:
        verbose_name = _("return receipt")
        verbose_name_plural = _("return receipts")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["tenant", "rma"], name="returnreceipt_tenant_rma_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="returnreceipt_quantity_positive")
        ]


class Refund(TenantModel):
    """Money given back for a return: to the original payment (pending until the payment side settles it with its
    reference) or as store credit (settled at once). The credit note is the legal document of the same amount,
    less any return shipping fee."""

    tenant = tenant_field(db_index=False)  # the indexes below lead with the tenant
    rma = models.ForeignKey(Return, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("return"))
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=16, choices=RefundMethod.choices)
    status = models.CharField(_("status"), max_length=8, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    credit_note = models.ForeignKey(
        "orders.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit note"),
    )
    # How the amount was reached: per line, shipping, fee, exchange difference (returns.money).
    breakdown = models.JSONField(_("breakdown"), default=dict, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settled_by = models.CharField(_("settled by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="refund_tenant_status_idx"),
            models.Index(fields=["tenant", "rma"], name="refund_tenant_rma_idx"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]


class StoreCredit(TenantModel):
    """An amount the customer may spend later, recorded for a return settled as store credit."""

    tenant = tenant_field(db_index=False)  # the index below leads with the tenant
    customer = models.ForeignKey(
        "orders.Customer", on_delete=models.PROTECT, related_name="store_credits", verbose_name=_("customer")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="+", verbose_name=_("refund"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("store credit")
        verbose_name_plural = _("store credits")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "customer"], name="storecredit_customer_idx")]
        constraints = [models.UniqueConstraint(fields=["tenant", "refund"], name="storecredit_unique_refund")]


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
