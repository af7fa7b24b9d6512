"""Building the KPI tables (reporting/models.py) from the source rows, one tenant at a time.

There is one way to compute a day's figures: `rebuild(tenant, first, last)` deletes the range's rows and writes
them again from the orders, fulfilments, returns, refunds, satisfaction responses, counts and the stock ledger, in
one transaction (reporting/sql.py). Everything else is a choice of days:
- `update(tenant)`, the incremental run (every 30 s on beat): the placement days of the orders whose timeline moved
  since the last run (a return, a refund, a shipment, a delivery all write on it), and today's stock;
- `recompute_recent(tenant)`, nightly: the last days, whatever happened;
- `rebuild_range(...)`, `manage.py rebuild_kpis`: any range of history, a month at a time.
So the incremental update equals a full recomputation by construction, and running any of them twice changes
nothing. A tenant's runs queue on a transaction-level advisory lock.
"""

import zoneinfo
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from oms.db import LOCK_ROW
from orders.models import Order, OrderEvent
from reporting import sql
from reporting.models import KpiDay, KpiProductDay, KpiReasonDay, KpiStockDay, KpiWatermark

TABLES = (KpiDay, KpiProductDay, KpiReasonDay, KpiStockDay)
# An order event committed late (its id taken before the last run's read, its commit after) is read again by
# looking back this far on top of the watermark; rebuilding a day twice is harmless.
LOOK_BACK = timedelta(minutes=5)
RECENT_DAYS = 7
CHUNK_DAYS = 31
_LOCK_NAMESPACE = 7_001


def zone_of(tenant) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tenant.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def today_for(tenant) -> date:
    return timezone.now().astimezone(zone_of(tenant)).date()


def day_start(tenant, day: date) -> datetime:
    """The instant `day` begins in the tenant's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone_of(tenant))


def stock_tolerance(tenant) -> int:
    """Units a counted row may differ from the expected and still count as accurate (settings, 0 by default)."""
    value = (tenant.settings or {}).get("stock_accuracy_tolerance", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def rebuild(*, tenant, first: date, last: date) -> None:
    """Write the KPI rows of the days `first`..`last` (inclusive) again from the source rows."""
    if last < first:
        return
    params = {
        "tenant": tenant.id,
        "tz": str(zone_of(tenant)),
        "start": day_start(tenant, first),
        "end": day_start(tenant, last + timedelta(days=1)),
        "first": first,
        "last": last,
        "tolerance": stock_tolerance(tenant),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, tenant.id])
        for model in TABLES:
            model.objects.for_tenant(tenant).filter(day__gte=first, day__lte=last).delete()
        for statement in (
            sql.ORDER_DAYS,
            sql.PRODUCT_DAYS,
            sql.RETURN_REASON_DAYS,
            sql.CANCELLATION_REASON_DAYS,
            sql.STOCK_DAYS,
        ):
            cursor.execute(statement, params)


def rebuild_range(*, tenant, first: date, last: date, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild a range of history a month at a time (each month one transaction); `progress(done, total)` after
    each. Returns the number of days rebuilt."""
    total = (last - first).days + 1
    done = 0
    start = first
    while start <= last:
        end = min(start + timedelta(days=CHUNK_DAYS - 1), last)
        rebuild(tenant=tenant, first=start, last=end)
        done += (end - start).days + 1
        if progress is not None:
            progress(done, total)
        start = end + timedelta(days=1)
    return max(total, 0)


def spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges, in order."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [(first, last) for first, last in ranges]


def update(*, tenant) -> list[date]:
    """The incremental run: rebuild the placement days of the orders whose timeline moved since the last run, and
    today. Returns the days rebuilt."""
    with transaction.atomic():
        mark, _ = KpiWatermark.objects.for_tenant(tenant).get_or_create(tenant=tenant)
        mark = KpiWatermark.objects.for_tenant(tenant).select_for_update(**LOCK_ROW).get(id=mark.id)
        since = (mark.updated_at or timezone.now()) - LOOK_BACK
        moved = OrderEvent.objects.for_tenant(tenant).filter(id__gt=mark.last_event_id) | OrderEvent.objects.for_tenant(
            tenant
        ).filter(at__gte=since)
        newest = moved.aggregate(newest=Max("id"))["newest"]
        zone = zone_of(tenant)
        placed = (
            Order.objects.for_tenant(tenant).filter(id__in=moved.values("order_id")).values_list("placed_at", flat=True)
        )
        days = {moment.astimezone(zone).date() for moment in placed}
        days.add(today_for(tenant))
        for first, last in spans(days):
            rebuild(tenant=tenant, first=first, last=last)
        mark.last_event_id = max(mark.last_event_id, newest or 0)
        mark.updated_at = timezone.now()
        mark.save(update_fields=["last_event_id", "updated_at"])
    return sorted(days)


def recompute_recent(*, tenant, days: int = RECENT_DAYS) -> None:
    """The nightly run: the last `days` days and today, whatever the timelines say."""
    today = today_for(tenant)
    rebuild(tenant=tenant, first=today - timedelta(days=days), last=today)
