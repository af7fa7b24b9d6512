"""The reporting queue's work: the incremental update of every tenant's KPIs (every 30 s on beat, so that the
figures are current within a minute of an event), the nightly recomputation of the recent days, and the weekly
digest e-mail (Monday mornings)."""

from celery import shared_task

from oms import rls
from oms.models import Tenant
from orders.models import OrderEvent
from reporting import aggregation, digest
from reporting.models import KpiWatermark

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}


def _tenants_to_update() -> list[int]:
    """Tenants with an order event past their watermark (a walk up the events' primary key from it), or never
    aggregated."""
    with rls.all_tenants("KPI update: the tenants with new order events"):
        marks = dict(KpiWatermark.all_tenants.values_list("tenant_id", "last_event_id"))
        return [
            tenant_id
            for tenant_id in Tenant.objects.filter(active=True).values_list("id", flat=True)
            if OrderEvent.all_tenants.filter(id__gt=marks.get(tenant_id, 0), tenant_id=tenant_id).exists()
        ]


@shared_task(name="reporting.update_kpis", soft_time_limit=240, time_limit=300, **RELIABLE)
def update_kpis() -> int:
    """On beat: rebuild the days that changed, tenant by tenant. Safe to run twice or at once (a tenant's runs
    queue on its watermark's row lock)."""
    updated = 0
    for tenant in Tenant.objects.filter(id__in=_tenants_to_update(), active=True):
        with rls.tenant(tenant.id):
            aggregation.update(tenant=tenant)
        updated += 1
    return updated


@shared_task(name="reporting.recompute_recent_kpis", soft_time_limit=1500, time_limit=1800, **RELIABLE)
def recompute_recent_kpis() -> int:
    """Nightly: every active tenant's last days, whatever the incremental runs saw."""
    count = 0
    for tenant in Tenant.objects.filter(active=True):
        with rls.tenant(tenant.id):
            aggregation.recompute_recent(tenant=tenant)
        count += 1
    return count


@shared_task(name="reporting.send_weekly_digests", soft_time_limit=1500, time_limit=1800, **RELIABLE)
def send_weekly_digests() -> int:
    """Mondays: each active tenant's subscribed members get the last seven days' digest, once a week however often
    this runs (reporting.digest)."""
    sent = 0
    for tenant in Tenant.objects.filter(active=True):
        with rls.tenant(tenant.id):
            sent += digest.send_weekly_digests(tenant=tenant)
    return sent
