"""The transactional outbox: emit inside the transaction, publish after commit, process once, sweep the rest."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from oms import outbox
from oms.models import OutboxEvent, WebhookDelivery
from tests.oms.conftest import CLOSED_BROKER, broker_at, emit_committed, subscribe

HANDLED = []


def record_event(event):
    HANDLED.append((event.topic, event.payload))


def failing_handler(event):
    raise RuntimeError("handler broke")


@pytest.fixture
def handlers(monkeypatch):
    """A private handler registry, so that registrations in a test stay in it."""
    monkeypatch.setattr(outbox, "_HANDLERS", {})
    HANDLED.clear()
    yield outbox._HANDLERS
    HANDLED.clear()


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_raises(tenant):
    with pytest.raises(RuntimeError, match="transaction"):
        outbox.emit(tenant, "order.placed", {"order_id": 1})
    assert not OutboxEvent.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_an_event_rolled_back_with_its_transaction_is_never_published(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                outbox.emit(tenant, "order.placed", {"order_id": 1})
                raise ValueError("the business change failed")
        except ValueError:
            pass

    assert callbacks == []
    assert not OutboxEvent.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_a_registered_handler_runs_with_the_event(tenant, handlers):
    outbox.register_handler("order.placed", "tests.oms.test_outbox.record_event")
    outbox.register_handler("order.placed", "tests.oms.test_outbox.record_event")  # registering twice is harmless
    event = emit_committed(tenant, "order.placed", {"order_id": 7})

    assert outbox.process_event(event.id) is True

    assert HANDLED == [("order.placed", {"order_id": 7})]


@pytest.mark.django_db
def test_handlers_of_other_topics_do_not_run(tenant, handlers):
    outbox.register_handler("stock.low", "tests.oms.test_outbox.record_event")
    event = emit_committed(tenant, "order.placed")

    outbox.process_event(event.id)

    assert HANDLED == []


@pytest.mark.django_db
def test_an_event_is_processed_once_even_if_processing_runs_twice(tenant, handlers):
    outbox.register_handler("order.placed", "tests.oms.test_outbox.record_event")
    subscribe(tenant, events=["order.placed"])
    event = emit_committed(tenant, "order.placed")

    assert outbox.process_event(event.id) is True
    assert outbox.process_event(event.id) is False

    assert len(HANDLED) == 1
    assert WebhookDelivery.objects.for_tenant(tenant).count() == 1
    event.refresh_from_db()
    assert event.processed_at is not None
    assert event.attempts == 1


@pytest.mark.django_db
def test_a_failing_handler_keeps_the_event_pending_with_nothing_written(tenant, handlers):
    outbox.register_handler("order.placed", "tests.oms.test_outbox.failing_handler")
    subscribe(tenant, events=["*"])
    event = emit_committed(tenant, "order.placed")

    with pytest.raises(RuntimeError):
        outbox.process_event(event.id)

    event.refresh_from_db()
    assert event.processed_at is None
    assert event.attempts == 1  # the failed try is counted
    assert not WebhookDelivery.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_processing_creates_one_delivery_per_matching_active_subscription(tenant, other_tenant):
    wants_it = subscribe(tenant, events=["order.placed"])
    wants_all = subscribe(tenant, events=["*"])
    subscribe(tenant, events=["stock.low"])
    subscribe(tenant, events=["order.placed"], active=False)
    subscribe(other_tenant, events=["*"])
    event = emit_committed(tenant, "order.placed")

    outbox.process_event(event.id)

    deliveries = WebhookDelivery.all_tenants.filter(event=event)
    assert sorted(d.subscription_id for d in deliveries) == sorted([wants_it.id, wants_all.id])
    assert {d.tenant_id for d in deliveries} == {tenant.id}
    assert {d.status for d in deliveries} == {"pending"}


@pytest.mark.django_db
def test_processing_an_unknown_event_does_nothing():
    assert outbox.process_event(987654321) is False


@pytest.mark.django_db
def test_sweep_resends_only_events_left_unprocessed_long_enough(tenant, settings, eager):
    settings.OMS_OUTBOX_RESEND_AFTER_SECONDS = 30
    now = timezone.now()
    stuck = emit_committed(tenant, "order.placed")
    recent = emit_committed(tenant, "order.placed")
    # Handed over at commit 31 s ago and still not processed: the message was lost (or the process died first).
    OutboxEvent.all_tenants.filter(id=stuck.id).update(
        created_at=now - timedelta(seconds=31), published_at=now - timedelta(seconds=31)
    )
    OutboxEvent.all_tenants.filter(id=recent.id).update(created_at=now - timedelta(seconds=5))
    recent_handed_over = OutboxEvent.all_tenants.get(id=recent.id).published_at

    assert outbox.sweep(now=now) == 1

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.processed_at is not None and stuck.published_at >= now
    assert recent.processed_at is None and recent.published_at == recent_handed_over


@pytest.mark.django_db
def test_sweep_leaves_processed_and_just_republished_events_alone(tenant, settings, eager):
    settings.OMS_OUTBOX_RESEND_AFTER_SECONDS = 30
    now = timezone.now()
    done = emit_committed(tenant)
    outbox.process_event(done.id)
    in_queue = emit_committed(tenant)
    OutboxEvent.all_tenants.filter(id__in=[done.id, in_queue.id]).update(created_at=now - timedelta(minutes=10))
    OutboxEvent.all_tenants.filter(id=in_queue.id).update(published_at=now - timedelta(seconds=5))

    assert outbox.sweep(now=now) == 0


@pytest.mark.django_db
def test_publish_with_the_broker_down_returns_false_and_the_event_stays_pending(tenant):
    event = emit_committed(tenant)

    started = time.monotonic()
    with broker_at(CLOSED_BROKER):
        assert outbox.publish(event.id) is False
    assert time.monotonic() - started < 5

    event.refresh_from_db()
    assert event.published_at is None and event.processed_at is None


def _take_published(app, event_id, timeout=5.0):
    """The message the broker holds for process_outbox_event(event_id), taken off the queue as a worker would."""
    deadline = time.monotonic() + timeout
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("default", no_ack=True)
        try:
            while time.monotonic() < deadline:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                args = message.payload[0] if isinstance(message.payload, (list, tuple)) else []
                if message.headers.get("task") == "oms.process_outbox_event" and list(args) == [event_id]:
                    return message
        finally:
            queue.close()
    return None


@pytest.mark.django_db(transaction=True)
def test_an_event_emitted_while_redis_is_down_is_processed_once_redis_is_back(tenant, settings):
    """The order was accepted (its transaction committed) although the broker could not take the event;
    the sweep hands it over once the broker answers again, and a worker processes it."""
    from oms.tasks import process_outbox_event

    settings.OMS_OUTBOX_RESEND_AFTER_SECONDS = 30
    subscribe(tenant, events=["order.placed"])
    with broker_at(CLOSED_BROKER):
        with transaction.atomic():  # the business transaction commits; its after-commit publish fails
            event = outbox.emit(tenant, "order.placed", {"order_id": 1})
        assert outbox.sweep(now=timezone.now() + timedelta(minutes=1)) == 0  # still down: nothing handed over
    event.refresh_from_db()
    assert event.published_at is None and event.processed_at is None

    with broker_at(settings.CELERY_BROKER_URL) as app:
        assert outbox.sweep(now=timezone.now()) == 0  # too recent to re-send yet
        assert outbox.sweep(now=timezone.now() + timedelta(minutes=1)) == 1
        message = _take_published(app, event.id)
    assert message is not None
    event.refresh_from_db()
    assert event.published_at is not None and event.processed_at is None

    process_outbox_event.apply(args=message.payload[0], kwargs=message.payload[1])

    event.refresh_from_db()
    assert event.processed_at is not None
    assert WebhookDelivery.objects.for_tenant(tenant).filter(event=event).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_hand_over_that_fails_unexpectedly_after_commit_does_not_fail_the_committed_change(tenant, monkeypatch):
    def broken(event_id, **kwargs):
        raise RuntimeError("the broker client is broken")

    monkeypatch.setattr(outbox, "publish", broken)
    with transaction.atomic():  # leaves without raising although the after-commit hand-over does
        event = outbox.emit(tenant, "order.placed", {"order_id": 1})

    assert OutboxEvent.all_tenants.filter(id=event.id, processed_at__isnull=True).exists()
