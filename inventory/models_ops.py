"""Stock operations: transfers between locations, cycle counts, low-stock alert rules, CSV import jobs.

Imported at the end of inventory/models.py so that Django registers these models with the app.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel

__all__ = ["Transfer", "TransferLine", "CycleCount", "CycleCountLine", "StockAlertRule", "StockImportJob",
           "StockImportRejection"]


class Transfer(TenantModel):
    """Stock moving from one location to another: requested, shipped (in transit), received."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=32)
    source = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("from"))
    destination = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("to"))
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


class CycleCount(TenantModel):
    """A physical count of some SKUs at one location; completing it posts the variances as `count` movements."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=32)
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("location"))
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
    movement = models.ForeignKey("inventory.StockMovement", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "count", "product", "lot_code"],
                                               name="count_line_unique_product_lot")]
        indexes = [models.Index(fields=["tenant", "posted_at"], name="count_line_posted_idx",
                                condition=Q(posted_at__isnull=False))]

    def __str__(self):
        return f"{self.product} lot {self.lot_code}" if self.lot_code else str(self.product)


class StockAlertRule(TenantModel):
    """A low-stock threshold for one SKU, at one location or over one channel's sourcing pool.

    Available stock at or below `threshold` is low: `stock.low` is emitted once, when the rule goes low,
    and `stock.recovered` once, when it climbs back above the threshold.
    """

    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    location = models.ForeignKey("inventory.Location", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("location"))
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+", verbose_name=_("channel"))
    threshold = models.PositiveIntegerField(_("threshold"))
    is_low = models.BooleanField(_("low"), default=False)
    last_available = models.IntegerField(_("last available"), null=True, blank=True)
    changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("low-stock alert")
        verbose_name_plural = _("low-stock alerts")
        constraints = [
            models.CheckConstraint(condition=Q(location__isnull=False, channel__isnull=True)
                                   | Q(location__isnull=True, channel__isnull=False),
                                   name="alert_rule_location_xor_channel"),
            models.UniqueConstraint(fields=["tenant", "product", "location"], name="alert_rule_unique_location",
                                    condition=Q(location__isnull=False)),
            models.UniqueConstraint(fields=["tenant", "product", "channel"], name="alert_rule_unique_channel",
                                    condition=Q(channel__isnull=False)),
        ]
        indexes = [models.Index(fields=["tenant", "product"], name="alert_rule_tenant_product_idx")]

    def __str__(self):
        return f"{self.product} @ {self.scope} ≤ {self.threshold}"

    @property
    def scope(self):
        return self.location if self.location_id else self.channel


class StockImportJob(TenantModel):
    """A CSV of adjustments or counts uploaded from the back office, applied in the background by chunks."""

    class Mode(models.TextChoices):
        ADJUSTMENTS = "adjustments", _("Adjustments (deltas)")
        SNAPSHOT = "snapshot", _("Snapshot (absolute counts)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(_("file"), max_length=200)
    content = models.TextField(editable=False)
    as_of = models.DateTimeField(_("counted as of"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stock import")
        verbose_name_plural = _("stock imports")
        indexes = [models.Index(fields=["tenant", "created_at"], name="import_tenant_created_idx")]

    def __str__(self):
        return self.file_name

    @property
    def percent(self) -> int:
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 100

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class StockImportRejection(TenantModel):
    """A row of an import that was not applied, with the reason: the downloadable error report."""

    job = models.ForeignKey(StockImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField(_("line"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    location = models.CharField(_("location"), max_length=40, blank=True)
    quantity = models.CharField(_("quantity"), max_length=32, blank=True)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("rejected import row")
        verbose_name_plural = _("rejected import rows")
        ordering = ["line"]
        indexes = [models.Index(fields=["tenant", "job", "line"], name="import_rejection_line_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.line}"
