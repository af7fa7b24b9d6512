"""Signed webhook deliveries to a real local HTTP receiver: retries with backoff, refusals, no redirects."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from oms import outbox, tasks, webhooks
from oms.models import WebhookDelivery
from tests.oms.conftest import emit_committed, subscribe

pytestmark = pytest.mark.django_db


def delivery_for(tenant, url, topic="order.placed", payload=None):
    subscription = subscribe(tenant, url=url, events=[topic])
    event = emit_committed(tenant, topic, payload or {"order_id": 42})
    outbox.process_event(event.id)
    return WebhookDelivery.objects.for_tenant(tenant).get(subscription=subscription, event=event)


def deliver(delivery):
    """Run the delivery task as a worker would (in-process)."""
    tasks.deliver_webhook.apply((delivery.id,))
    delivery.refresh_from_db()
    return delivery


def make_due(delivery):
    """As if the backoff had elapsed."""
    WebhookDelivery.all_tenants.filter(id=delivery.id).update(next_attempt_at=timezone.now())


def test_the_receiver_gets_a_signed_post_with_event_headers(tenant, receiver):
    delivery = deliver(delivery_for(tenant, receiver.url, payload={"order_id": 42}))

    [request] = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/oms"
    assert headers["OMS-Event"] == "order.placed"
    assert headers["OMS-Event-Id"] == str(delivery.event.event_id)
    assert abs(int(headers["OMS-Timestamp"]) - time.time()) < 60
    assert headers["OMS-Signature"].startswith(f"t={headers['OMS-Timestamp']},v1=")
    body = json.loads(request["body"])
    assert body["type"] == "order.placed"
    assert body["id"] == str(delivery.event.event_id)
    assert body["tenant"] == "acme"
    assert body["data"] == {"order_id": 42}
    assert delivery.status == "succeeded"
    assert delivery.delivered_at is not None
    assert delivery.attempt_log.get().status_code == 200


def test_verify_accepts_the_signature_and_rejects_a_tampered_body(tenant, receiver):
    delivery = deliver(delivery_for(tenant, receiver.url))
    [request] = receiver.requests
    secret, header, body = delivery.subscription.secret, request["headers"]["OMS-Signature"], request["body"]

    assert webhooks.verify(secret, header, body) is True
    assert webhooks.verify(secret, header, body.replace(b"42", b"43")) is False
    assert webhooks.verify("whsec_wrong", header, body) is False
    assert webhooks.verify(secret, "v1=deadbeef", body) is False
    assert webhooks.verify(secret, header, body, now=time.time() + 3600) is False  # replayed much later


def test_the_event_id_stays_the_same_across_retries(tenant, receiver):
    receiver.statuses = [503]
    delivery = deliver(delivery_for(tenant, receiver.url))
    make_due(delivery)
    deliver(delivery)

    first, second = receiver.requests
    assert first["headers"]["OMS-Event-Id"] == second["headers"]["OMS-Event-Id"]
    assert (first["headers"]["OMS-Delivery-Attempt"], second["headers"]["OMS-Delivery-Attempt"]) == ("1", "2")


def test_a_server_error_records_the_attempt_and_backs_off(tenant, receiver):
    receiver.default_status = 500
    before = timezone.now()

    delivery = deliver(delivery_for(tenant, receiver.url))

    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    attempt = delivery.attempt_log.get()
    assert (attempt.number, attempt.status_code) == (1, 500)
    backoff = webhooks.backoff_seconds(1)
    wait = timedelta(seconds=backoff)
    assert before + wait <= delivery.next_attempt_at <= timezone.now() + wait


def test_a_delivery_not_yet_due_is_not_sent_early(tenant, receiver):
    receiver.default_status = 500
    delivery = deliver(delivery_for(tenant, receiver.url))

    deliver(delivery)  # a duplicate message arriving before the backoff elapsed

    assert len(receiver.requests) == 1
    assert delivery.attempts == 1


def test_backoff_grows_and_is_capped():
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff_seconds(50) == 6 * 3600


def test_after_the_maximum_attempts_the_delivery_fails(tenant, receiver, settings):
    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.default_status = 500
    delivery = delivery_for(tenant, receiver.url)

    for _ in range(3):
        make_due(delivery)
        delivery = deliver(delivery)

    assert delivery.status == "failed"
    assert delivery.attempts == 3
    assert [a.number for a in delivery.attempt_log.all()] == [1, 2, 3]
    make_due(delivery)
    deliver(delivery)
    assert len(receiver.requests) == 3  # a failed delivery is not tried again by itself


def test_a_failed_delivery_can_be_redelivered_with_a_fresh_budget(tenant, receiver, settings):
    from oms.actors import Actor

    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500]
    delivery = deliver(delivery_for(tenant, receiver.url))
    assert delivery.status == "failed"

    webhooks.redeliver(tenant=tenant, actor=Actor.system("tests"), delivery_id=delivery.id)
    delivery = deliver(delivery)

    assert delivery.status == "succeeded"
    assert [a.number for a in delivery.attempt_log.all()] == [1, 2]


def test_a_loopback_target_is_refused_without_a_connection(tenant, receiver, settings):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False

    delivery = deliver(delivery_for(tenant, receiver.url))

    assert receiver.requests == []
    assert delivery.status == "pending"
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("refused")
    assert "127.0.0.1" in attempt.error


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "10.1.2.3",
        "192.168.1.1",
        "169.254.169.254",
        "[::1]",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
    ],
)
def test_private_and_special_addresses_are_refused(tenant, settings, host):
    settings.OMS_WEBHOOK_ALLOW_PRIVATE = False

    delivery = deliver(delivery_for(tenant, f"http://{host}:9/hook"))

    assert delivery.attempt_log.get().error.startswith("refused")


def test_redirects_are_not_followed(tenant, make_receiver):
    first, target = make_receiver(), make_receiver()
    first.default_status = 302
    first.redirect_to = target.url

    delivery = deliver(delivery_for(tenant, first.url))

    assert len(first.requests) == 1
    assert target.requests == []
    assert delivery.status == "pending"
    assert delivery.last_status_code == 302
    assert "redirect" in delivery.attempt_log.get().error


def test_an_unreachable_receiver_is_a_failed_attempt(tenant, receiver):
    url = receiver.url
    receiver.close()

    delivery = deliver(delivery_for(tenant, url))

    assert delivery.status == "pending"
    assert delivery.attempt_log.get().error


def test_the_sweep_re_enqueues_deliveries_left_overdue(tenant, receiver, eager):
    receiver.statuses = [500]
    delivery = deliver(delivery_for(tenant, receiver.url))
    WebhookDelivery.all_tenants.filter(id=delivery.id).update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    assert outbox.sweep_deliveries() == 1

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(receiver.requests) == 2


def test_a_paused_subscription_holds_its_deliveries_until_switched_on(tenant, receiver):
    delivery = delivery_for(tenant, receiver.url)
    delivery.subscription.active = False
    delivery.subscription.save()

    deliver(delivery)
    assert receiver.requests == []
    assert delivery.status == "pending"

    delivery.subscription.active = True
    delivery.subscription.save()
    assert deliver(delivery).status == "succeeded"
