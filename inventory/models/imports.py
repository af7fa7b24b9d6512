"""CSV stock imports from the back office: the job and the rows it refused."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
