"""The aggregation: idempotent, incremental equal to a full recomputation, the beat tasks and the rebuild
command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import OrderEvent
from reporting import aggregation, tasks
from reporting.models import KpiDay, KpiProductDay, KpiReasonDay, KpiStockDay, KpiWatermark
from tests.reporting.builder import D, at, build

pytestmark = pytest.mark.django_db

FIRST, LAST = D - timedelta(days=3), D + timedelta(days=3)


def snapshot(tenant) -> dict:
    """Every KPI row of the tenant, without ids."""
    found = {}
    for model in (KpiDay, KpiProductDay, KpiReasonDay, KpiStockDay):
        rows = model.objects.for_tenant(tenant).values()
        found[model.__name__] = sorted(tuple(sorted((k, str(v)) for k, v in row.items() if k != "id")) for row in rows)
    return found


def test_rebuilding_twice_changes_nothing(tenant):
    build(tenant)
    aggregation.rebuild(tenant=tenant, first=FIRST, last=LAST)
    once = snapshot(tenant)
    aggregation.rebuild(tenant=tenant, first=FIRST, last=LAST)

    assert snapshot(tenant) == once
    assert KpiDay.objects.for_tenant(tenant).filter(day=D, location=None).get().orders == 4


def test_the_incremental_update_equals_a_full_recomputation(tenant, monkeypatch):
    data = build(tenant)
    # The update rebuilds the placement days of the orders that moved, and today; the data set is in March 2026.
    monkeypatch.setattr(aggregation, "today_for", lambda tenant: LAST)
    aggregation.rebuild(tenant=tenant, first=FIRST, last=LAST)
    aggregation.update(tenant=tenant)
    # Later, O4's cancellation is followed by a late event on O1 (a second delivery scan) and O5 is cancelled.
    o1, o5 = data.orders[0], data.orders[4]
    data.builder.event(o1, "tracking", at(15, 9))
    o5.status = "cancelled"
    o5.save(update_fields=["status"])
    data.builder.event(o5, "cancelled", at(15, 10), message="payment_failed")
    days = aggregation.update(tenant=tenant)
    incremental = snapshot(tenant)

    for model in (KpiDay, KpiProductDay, KpiReasonDay, KpiStockDay):
        model.objects.for_tenant(tenant).delete()
    aggregation.rebuild(tenant=tenant, first=FIRST, last=LAST)

    assert D in days and D - timedelta(days=1) in days
    assert incremental == snapshot(tenant)
    cancelled = KpiReasonDay.objects.for_tenant(tenant).filter(kind="cancellation").values_list("day", "reason")
    assert sorted(cancelled) == [(D - timedelta(days=1), "payment_failed"), (D, "customer_request")]


def test_the_watermark_moves_and_a_run_with_nothing_new_rebuilds_only_today(tenant, monkeypatch):
    build(tenant)
    monkeypatch.setattr(aggregation, "today_for", lambda tenant: LAST)
    aggregation.update(tenant=tenant)
    mark = KpiWatermark.objects.for_tenant(tenant).get()
    assert mark.last_event_id == OrderEvent.objects.for_tenant(tenant).latest("id").id
    # Nothing new, and the events are older than the look-back: only today is rebuilt.
    OrderEvent.objects.for_tenant(tenant).update(at=at(1, 0))
    KpiWatermark.objects.for_tenant(tenant).update(updated_at=at(20, 0))

    assert aggregation.update(tenant=tenant) == [LAST]


def test_the_beat_task_updates_tenants_with_new_events_only(tenant, other_tenant):
    build(tenant)

    assert tasks.update_kpis() == 1
    assert tasks.update_kpis() == 0
    assert KpiWatermark.objects.for_tenant(tenant).exists()
    assert not KpiWatermark.objects.for_tenant(other_tenant).exists()


def test_the_nightly_task_recomputes_recent_days(tenant):
    build(tenant)

    assert tasks.recompute_recent_kpis() >= 1


def test_rebuild_kpis_rebuilds_a_range_with_a_progress_bar(tenant):
    build(tenant)
    out = StringIO()

    call_command("rebuild_kpis", "--tenant", tenant.slug, "--from", "2026-02-01", "--to", "2026-03-31", stdout=out)

    assert "59/59 days" in out.getvalue() and "rebuilt for 59 days" in out.getvalue()
    assert KpiDay.objects.for_tenant(tenant).filter(day=D, location=None).get().orders == 4


def test_rebuild_kpis_refuses_a_backwards_range(tenant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_kpis", "--tenant", tenant.slug, "--from", "2026-03-31", "--to", "2026-03-01")
