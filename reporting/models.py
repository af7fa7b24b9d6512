"""The KPI aggregate tables: what the dashboards and the KPI API read, never the orders themselves.

Order figures are kept per day of placement in the tenant's time zone (a cohort: the orders placed that day, and
what has happened to them since), per sales channel, and per fulfilment location. A row with no location holds the
channel's orders each counted once; a row with a location holds the orders with a part fulfilled there (an order
split over two locations counts at both). Durations are kept as the list of each order's seconds, so that the
percentiles of any range are exact. Stock figures are kept per day and location. Every row is rebuilt from the
source tables by reporting.aggregation, one tenant and range of days at a time: rebuilding is idempotent, and the
incremental update is the same rebuild of the days that changed.
"""

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.tenancy import TenantModel, tenant_field

ZERO = Decimal("0")


def _money(verbose):
    return models.DecimalField(verbose, max_digits=16, decimal_places=2, default=ZERO)


def _seconds(verbose):
    return ArrayField(models.IntegerField(), verbose_name=verbose, default=list, blank=True)


class KpiDay(TenantModel):
    """The orders placed on `day` through `channel` (fulfilled in part at `location`, when it is set)."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    day = models.DateField(_("day"))
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey("inventory.Location", on_delete=models.CASCADE, null=True, related_name="+")
    orders = models.IntegerField(_("orders placed"), default=0)
    order_value = _money(_("order value"))
    units_ordered = models.IntegerField(_("units ordered"), default=0)
    units_shipped = models.IntegerField(_("units shipped"), default=0)
    units_returned = models.IntegerField(_("units returned"), default=0)
    orders_cancelled = models.IntegerField(_("orders cancelled"), default=0)
    orders_backordered = models.IntegerField(_("orders backordered"), default=0)
    orders_routed = models.IntegerField(_("orders routed"), default=0)
    orders_split = models.IntegerField(_("orders split"), default=0)
    orders_first_time_filled = models.IntegerField(_("orders filled from the first allocation"), default=0)
    orders_received = models.IntegerField(_("orders delivered or collected"), default=0)
    orders_on_time = models.IntegerField(_("orders on time"), default=0)
    orders_with_promise = models.IntegerField(_("orders measured against a promise"), default=0)
    fulfillments = models.IntegerField(_("fulfilment orders"), default=0)
    fulfillments_rejected = models.IntegerField(_("fulfilment orders rejected"), default=0)
    refund_value = _money(_("refund value"))
    csat_sum = models.IntegerField(_("satisfaction scores, summed"), default=0)
    csat_responses = models.IntegerField(_("satisfaction responses"), default=0)
    processing_seconds = _seconds(_("placed to shipped (s)"))
    pickup_ready_seconds = _seconds(_("placed to ready for pickup (s)"))
    pickup_collect_seconds = _seconds(_("ready to collected (s)"))
    lead_seconds = _seconds(_("placed to delivered or collected (s)"))

    class Meta:
        verbose_name = _("KPI day")
        verbose_name_plural = _("KPI days")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "channel", "location"], name="kpiday_unique", nulls_distinct=False
            )
        ]


class KpiProductDay(TenantModel):
    """Units of one product in the orders placed on `day` through `channel`."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    day = models.DateField(_("day"))
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    units_ordered = models.IntegerField(_("units ordered"), default=0)
    units_shipped = models.IntegerField(_("units shipped"), default=0)
    units_returned = models.IntegerField(_("units returned"), default=0)
    order_value = _money(_("value ordered"))

    class Meta:
        verbose_name = _("KPI product day")
        verbose_name_plural = _("KPI product days")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "channel", "product"], name="kpiproductday_unique")
        ]


class ReasonKind(models.TextChoices):
    RETURN = "return", _("Return")
    CANCELLATION = "cancellation", _("Cancellation")


class KpiReasonDay(TenantModel):
    """Why units came back (`return`: units received, by the return's reason) or orders were cancelled
    (`cancellation`: orders, by the cancellation's reason), for the orders placed on `day` through `channel`."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    day = models.DateField(_("day"))
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=ReasonKind.choices)
    reason = models.CharField(_("reason"), max_length=120)
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("KPI reason day")
        verbose_name_plural = _("KPI reason days")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "channel", "kind", "reason"], name="kpireasonday_unique")
        ]


class KpiStockDay(TenantModel):
    """A location's stock on `day`: cycle-count rows counted and within tolerance, stock rows out of stock at the
    day's end, and the value on hand at cost at the day's end (of the products whose cost is known)."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    day = models.DateField(_("day"))
    location = models.ForeignKey("inventory.Location", on_delete=models.CASCADE, related_name="+")
    counted_rows = models.IntegerField(_("rows counted"), default=0)
    accurate_rows = models.IntegerField(_("rows within tolerance"), default=0)
    stockout_skus = models.IntegerField(_("SKUs out of stock"), default=0)
    inventory_value = models.DecimalField(_("value at cost"), max_digits=18, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("KPI stock day")
        verbose_name_plural = _("KPI stock days")
        constraints = [models.UniqueConstraint(fields=["tenant", "day", "location"], name="kpistockday_unique")]


class KpiWatermark(TenantModel):
    """Where the incremental update of a tenant's figures stopped: the last order event it read, and when."""

    tenant = tenant_field(db_index=False)
    last_event_id = models.BigIntegerField(_("last order event read"), default=0)
    updated_at = models.DateTimeField(_("updated at"), null=True)

    class Meta:
        verbose_name = _("KPI watermark")
        verbose_name_plural = _("KPI watermarks")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="kpiwatermark_unique_tenant")]


class DigestSubscription(TenantModel):
    """A member's choice of the weekly KPI e-mail, and the language it is written in (the one the member chose it
    in). `last_week` is the Monday of the last week it was sent for: a week's digest goes once."""

    tenant = tenant_field(db_index=False)  # the unique constraint leads with the tenant
    user = models.ForeignKey("oms.User", on_delete=models.CASCADE, related_name="+", db_index=False)
    weekly = models.BooleanField(_("weekly digest"), default=False)
    language = models.CharField(_("language"), max_length=10)
    last_week = models.DateField(_("last sent for the week of"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("KPI digest subscription")
        verbose_name_plural = _("KPI digest subscriptions")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="digestsubscription_unique_user")]
