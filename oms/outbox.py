"""Transactional outbox.

`emit()` writes the event inside the caller's transaction and, after commit, hands it to Celery. If the
broker is unreachable then, the event simply stays pending and the periodic sweep hands it over again.
Processing an event runs the handlers that apps registered for its topic and fans it out to the
tenant's webhook subscriptions (a channel-bound one gets only the events whose payload names its channel),
all in one transaction that also marks the event processed: an event processed twice (a re-sent message,
two workers) does its work once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from oms.db import insert_rows
from oms.events import check_topic
from oms.models import OutboxEvent, WebhookDelivery, WebhookSubscription

log = logging.getLogger("oms.outbox")
_HANDLERS: dict[str, list[str]] = {}
# The Celery tasks that carry an event and a webhook delivery to a worker. oms.tasks calls this module, so this
# module never imports it: OmsConfig.ready() registers them in every process (web, worker, beat, commands).
_TASKS: dict[str, object] = {}


def register_tasks(*, process_event, process_events, deliver_webhook) -> None:
    """Name the tasks that publish(), publish_many() and enqueue_delivery() hand work to:
    `task.apply_async((id,), retry=False)`, `process_events` with a list of ids."""
    _TASKS.update(process_event=process_event, process_events=process_events, deliver_webhook=deliver_webhook)


def _task(name: str):
    try:
        return _TASKS[name]
    except KeyError:
        raise RuntimeError(f"No {name} task registered with the outbox: is the oms app installed?") from None


def register_handler(topic: str, handler_path: str) -> None:
    """Apps call this from AppConfig.ready(): `handler(event)` runs for every event of that topic.

    The handler runs inside the transaction that marks the event processed: if it raises, nothing of it is
    kept and the event is tried again later. It should still be idempotent (safe to run twice).
    """
    paths = _HANDLERS.setdefault(topic, [])
    if handler_path not in paths:
        paths.append(handler_path)


def emit(tenant, topic: str, payload: dict) -> OutboxEvent:
    """Record an event in the caller's transaction; it is published after commit (or by the sweep)."""
    return emit_many(tenant, [(topic, payload)])[0]


def emit_many(tenant, events: list[tuple[str, dict]]) -> list[OutboxEvent]:
    """Record events [(topic, payload)] in the caller's transaction in one statement; each is published after
    commit, in this order (or by the sweep).

    `published_at` is written with the event: the hand-over happens right after the commit, and recording it
    then would cost every business transaction a second commit. A hand-over that fails clears it again.
    """
    for topic, _payload in events:
        check_topic(topic)
    if not events:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit() belongs inside the business transaction")
    now = timezone.now()
    rows = [
        OutboxEvent(tenant=tenant, topic=topic, payload=payload, created_at=now, published_at=now)
        for topic, payload in events
    ]
    ids = insert_rows(rows)
    # robust: once committed, the change stands; a hand-over that fails is logged and left to the sweep, never
    # answered as an error to a caller whose order (say) was accepted.
    transaction.on_commit(lambda: _publish_all(ids), robust=True)
    return rows


def _publish_all(event_ids: list[int]) -> None:
    if len(event_ids) == 1:
        publish(event_ids[0], recorded=True)
    else:
        publish_many(event_ids)


def publish_many(event_ids: list[int]) -> bool:
    """Hand several events (one transaction's, `published_at` recorded) to the broker as one message, processed
    one after the other by one worker, each in its own transaction; False (and a log line) when the broker cannot
    take it now: they stay pending for the sweep. A batch of allocations emits hundreds of events at once, and one
    message per event cost it more than its own SQL."""
    try:
        _task("process_events").apply_async((list(event_ids),), retry=False)
    except Exception:  # broker down: the events stay pending and the sweep re-sends them one by one
        log.warning("outbox publish failed; the sweep will retry", extra={"event_ids": event_ids}, exc_info=True)
        OutboxEvent.all_tenants.filter(id__in=event_ids).update(published_at=None)
        return False
    return True


def publish(event_id: int, *, recorded: bool = False) -> bool:
    """Hand one event to the broker; False (and a log line) when the broker cannot take it now.

    `recorded`: the hand-over time is already on the row (emit() wrote it); otherwise it is written here.
    """
    task = _task("process_event")
    try:
        task.apply_async((event_id,), retry=False)
    except Exception:  # broker down: the event stays pending and the sweep re-sends it
        log.warning("outbox publish failed; the sweep will retry", extra={"event_id": event_id}, exc_info=True)
        OutboxEvent.all_tenants.filter(id=event_id).update(published_at=None)
        return False
    if not recorded:
        OutboxEvent.all_tenants.filter(id=event_id).update(published_at=timezone.now())
    return True


def process_event(event_id: int) -> bool:
    """Run the topic's handlers and create the webhook deliveries, once. Returns False if already done."""
    try:
        return _process(event_id)
    except Exception:
        # Nothing of this try was kept; count it so that an event failing again and again stands out.
        OutboxEvent.all_tenants.filter(id=event_id).update(attempts=F("attempts") + 1)
        log.exception("outbox event processing failed; the sweep will retry", extra={"event_id": event_id})
        raise


def _process(event_id: int) -> bool:
    delivery_ids = []
    with transaction.atomic():
        event = (
            OutboxEvent.all_tenants.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(id=event_id, processed_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        for path in _HANDLERS.get(event.topic, []):
            import_string(path)(event)
        event_channel = event.payload.get("channel") if isinstance(event.payload, dict) else None
        subscriptions = (
            WebhookSubscription.objects.for_tenant(event.tenant)
            .filter(active=True)
            .select_related("channel")
            .order_by("id")
        )
        for subscription in subscriptions:
            if subscription.wants(event.topic, channel=event_channel):
                delivery, created = WebhookDelivery.all_tenants.get_or_create(
                    tenant=event.tenant, subscription=subscription, event=event
                )
                if created:
                    delivery_ids.append(delivery.id)
        event.processed_at = timezone.now()
        event.attempts += 1
        event.save(update_fields=["processed_at", "attempts"])
        for delivery_id in delivery_ids:
            transaction.on_commit(lambda d=delivery_id: enqueue_delivery(d), robust=True)
    return True


def enqueue_delivery(delivery_id: int) -> bool:
    """Hand a webhook delivery to the broker; when it cannot take it, the delivery sweep re-sends it."""
    task = _task("deliver_webhook")
    try:
        task.apply_async((delivery_id,), retry=False)
    except Exception:
        log.warning("webhook enqueue failed; the sweep will retry", extra={"delivery_id": delivery_id}, exc_info=True)
        return False
    return True


def sweep(now=None) -> int:
    """Re-send events still unprocessed some time after they were written or last handed over (the broker or
    the worker was down, or the message was lost). Returns how many were handed over."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.OMS_OUTBOX_RESEND_AFTER_SECONDS)
    ids = list(
        OutboxEvent.all_tenants.filter(processed_at__isnull=True, created_at__lt=cutoff)
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=cutoff))
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    sent = 0
    for event_id in ids:
        if not publish(event_id):
            break  # the broker is down: the next sweep tries again
        sent += 1
    return sent


def sweep_deliveries(now=None) -> int:
    """Re-enqueue webhook deliveries that are due but whose message was lost."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.all_tenants.filter(
            status=WebhookDelivery.Status.PENDING,
            subscription__active=True,
            next_attempt_at__lt=now - timedelta(seconds=60),
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:1000]
    )
    sent = 0
    for delivery_id in ids:
        if not enqueue_delivery(delivery_id):
            break
        sent += 1
    return sent
