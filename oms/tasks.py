"""Platform tasks: thin, idempotent, late-acked; they load by id and call the services."""

from celery import shared_task
from django.db import DatabaseError

from oms import outbox, rls, webhooks
from oms.api.idempotency import purge_expired
from oms.models import OutboxEvent, WebhookDelivery

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
# Longer waits are left to the delivery sweep: a message held that long by a worker would outlive the
# broker's visibility timeout and be delivered twice.
MAX_RETRY_COUNTDOWN = 1800


@shared_task(name="oms.process_outbox_event", bind=True, max_retries=10, **RELIABLE)
def process_outbox_event(self, event_id: int):
    try:
        if rls.bind_to_row(OutboxEvent, event_id) is None:
            return
        outbox.process_event(event_id)
    except DatabaseError as exc:  # transient: retry with backoff; the sweep is the last resort
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc


@shared_task(name="oms.process_outbox_events", bind=True, max_retries=10, **RELIABLE)
def process_outbox_events(self, event_ids: list):
    """Several events handed over in one message, each processed in its own transaction. Those the database
    refused for now are retried together; one whose handler fails is left to the sweep, as a single event's is."""
    again = []
    try:
        owners = rls.tenants_of(OutboxEvent, event_ids)
    except DatabaseError as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc
    for event_id in event_ids:
        if event_id not in owners:
            continue
        try:
            rls.bind(owners[event_id])  # a batch holds one tenant's events: set once
            outbox.process_event(event_id)
        except DatabaseError:
            again.append(event_id)
        except Exception:  # noqa: BLE001 - logged and counted by process_event; the sweep sends it again
            continue
    if again:
        raise self.retry(args=(again,), countdown=min(2**self.request.retries, 300))


@shared_task(name="oms.deliver_webhook", bind=True, max_retries=None, **RELIABLE)
def deliver_webhook(self, delivery_id: int):
    if rls.bind_to_row(WebhookDelivery, delivery_id) is None:
        return
    wait = webhooks.attempt_delivery(delivery_id)
    # An eager run (CELERY_TASK_ALWAYS_EAGER) cannot wait, and long waits are the sweep's: the delivery stays
    # pending with its next_attempt_at, and sweep_webhook_deliveries sends it again when due. Each try is recorded
    # on the delivery; the attempt count there bounds the retries.
    if wait is not None and wait <= MAX_RETRY_COUNTDOWN and not self.request.is_eager:
        raise self.retry(countdown=wait)


@shared_task(name="oms.sweep_outbox", **RELIABLE)
def sweep_outbox():
    with rls.all_tenants("outbox sweep"):
        return outbox.sweep()


@shared_task(name="oms.sweep_webhook_deliveries", **RELIABLE)
def sweep_webhook_deliveries():
    with rls.all_tenants("webhook delivery sweep"):
        return outbox.sweep_deliveries()


@shared_task(name="oms.purge_idempotency_keys", **RELIABLE)
def purge_idempotency_keys():
    with rls.all_tenants("idempotency key purge"):
        return purge_expired()
