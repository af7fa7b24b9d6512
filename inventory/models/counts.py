"""Cycle counts: a count of a location and its lines, posted as variances to the ledger."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


class CycleCount(TenantModel):
    """A physical count of some SKUs at one location; completing it posts the variances as `count` movements."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=32)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)
    completed_by = models.CharField(_("completed by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("cycle count")
        verbose_name_plural = _("cycle counts")
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="count_unique_number")]
        indexes = [models.Index(fields=["tenant", "status"], name="count_tenant_status_idx")]

    def __str__(self):
        return self.number


class CycleCountLine(TenantModel):
    """One SKU of a count, or one lot of a lot-tracked SKU. `expected` is the on-hand the ledger held at
    `counted_at` (of the SKU, or of the lot when `lot_code` is set), `variance` = counted - expected.

    A lot-tracked SKU is counted either as a whole (no lot: a shortfall is taken earliest expiry first, a
    surplus is refused because new units must name their lot) or lot by lot (each line posts to its lot,
    created with `expires_on` when it is new), never both in one count.

    Stock accuracy (reporting) reads completed lines: share of lines with zero variance, or
    1 - sum(|variance|) / sum(expected).
    """

    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    # Denormalised from the count so that accuracy per location and day is one indexed query.
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    lot_code = models.CharField(_("lot"), max_length=64, blank=True, default="")
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    counted = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    expected = models.IntegerField(_("expected"), null=True, blank=True)
    variance = models.IntegerField(_("variance"), null=True, blank=True)
    movement = models.ForeignKey(
        "inventory.StockMovement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "count", "product", "lot_code"], name="count_line_unique_product_lot"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "posted_at"], name="count_line_posted_idx", condition=Q(posted_at__isnull=False)
            )
        ]

    def __str__(self):
        return f"{self.product} lot {self.lot_code}" if self.lot_code else str(self.product)
