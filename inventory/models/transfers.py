"""Stock moving between locations: a transfer and its lines (requested, shipped, received)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


class Transfer(TenantModel):
    """Stock moving from one location to another: requested, shipped (in transit), received."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=32)
    source = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("from"))
    destination = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="transfer_unique_number"),
            models.CheckConstraint(condition=~Q(source=models.F("destination")), name="transfer_distinct_locations"),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="transfer_tenant_status_idx")]

    def __str__(self):
        return self.number


class TransferLine(TenantModel):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    # Filled on receipt; fewer than `quantity` means units were lost in transit (recorded, not re-credited).
    received_quantity = models.PositiveIntegerField(_("received quantity"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "transfer", "product"], name="transfer_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity}"
