"""A real Celery worker process, Redis broker and test database: events become signed webhook POSTs."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from oms import outbox, webhooks
from oms.models import OutboxEvent, WebhookDelivery
from tests.oms.conftest import CLOSED_BROKER, broker_at, subscribe
from tests.workers import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker"), pytest.mark.django_db(transaction=True)]


def delivered(subscription):
    return (
        WebhookDelivery.objects.for_tenant(subscription.tenant)
        .filter(subscription=subscription, status=WebhookDelivery.Status.SUCCEEDED)
        .first()
    )


def test_a_committed_event_reaches_the_receiver_signed(worker, tenant, receiver):
    subscription = subscribe(tenant, url=receiver.url, events=["order.placed"])

    with transaction.atomic():
        event = outbox.emit(tenant, "order.placed", {"order_id": 7})

    wait_until(lambda: delivered(subscription) is not None, worker, what="a succeeded delivery")
    [request] = receiver.requests
    assert request["headers"]["OMS-Event"] == "order.placed"
    assert request["headers"]["OMS-Event-Id"] == str(event.event_id)
    assert webhooks.verify(subscription.secret, request["headers"]["OMS-Signature"], request["body"])
    event.refresh_from_db()
    assert event.published_at is not None and event.processed_at is not None
    assert delivered(subscription).attempt_log.get().status_code == 200


def test_an_event_emitted_while_the_broker_is_down_is_delivered_after_the_sweep(worker, tenant, receiver, settings):
    settings.OMS_OUTBOX_RESEND_AFTER_SECONDS = 30
    subscription = subscribe(tenant, url=receiver.url, events=["*"])

    with broker_at(CLOSED_BROKER):
        with transaction.atomic():  # the order is accepted; its after-commit publish fails
            event = outbox.emit(tenant, "order.placed", {"order_id": 8})
    time.sleep(1)
    event.refresh_from_db()
    assert event.published_at is None and event.processed_at is None
    assert receiver.requests == []

    assert outbox.sweep(now=timezone.now() + timedelta(minutes=1)) == 1

    wait_until(lambda: delivered(subscription) is not None, worker, what="the swept event's delivery")
    assert [r["headers"]["OMS-Event-Id"] for r in receiver.requests] == [str(event.event_id)]
    assert OutboxEvent.objects.for_tenant(tenant).get(id=event.id).processed_at is not None
