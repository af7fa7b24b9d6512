"""Inventory tasks: reservation expiry, CSV import jobs and the low-stock sweep. Thin, idempotent, late-acked."""

import logging

from celery import shared_task
from django.db import DatabaseError

from inventory import alerts, services, sync
from inventory.models import StockImportJob
from oms import rls
from oms.models import Tenant

log = logging.getLogger("oms.inventory")
RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="inventory.expire_reservations", **RELIABLE)
def expire_reservations():
    """Release the holds past their expiry (beat, every 30 s); safe to run twice or in parallel."""
    with rls.all_tenants("reservation expiry sweep"):
        return services.expire_reservations()


@shared_task(name="inventory.process_stock_import", bind=True, max_retries=5, **RELIABLE)
def process_stock_import(self, job_id: int):
    """Apply an uploaded CSV; safe to run twice (resumes after the last committed chunk)."""
    if rls.bind_to_row(StockImportJob, job_id) is None:
        return None
    try:
        return sync.run_import_job(job_id=job_id)
    except DatabaseError as exc:
        if self.request.retries < self.max_retries and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 300)) from exc
        sync.fail_import_job(job_id=job_id, failure=str(exc))
        raise
    except Exception as exc:
        log.exception("stock import failed", extra={"job_id": job_id})
        sync.fail_import_job(job_id=job_id, failure=str(exc))
        raise


@shared_task(name="inventory.evaluate_stock_alerts", **RELIABLE)
def evaluate_stock_alerts():
    """Periodic sweep: catches stock that changed outside the stock operations (orders reserving, shipping)."""
    changed = 0
    for tenant in Tenant.objects.filter(active=True).order_by("id"):
        with rls.tenant(tenant.id):
            changed += alerts.evaluate_all(tenant=tenant)
    return changed


def enqueue_import(job_id: int) -> bool:
    """Hand the job to the workers; False when the broker cannot take it now (the progress page retries)."""
    try:
        process_stock_import.apply_async((job_id,), retry=False)
    except Exception:
        log.warning("could not enqueue the stock import; it will be retried", extra={"job_id": job_id}, exc_info=True)
        return False
    return True
