"""The demo's webhook receiver: it keeps what it is sent with the signature check, refuses on demand so that
retries show, belongs to a tenant like everything else, and does not exist outside the demo."""

import json
import time

import pytest

from oms import outbox, tasks, webhooks
from oms.demo import receiver, receiver_path
from oms.models import DemoReceivedWebhook, Role, WebhookDelivery
from tests.oms.conftest import emit_committed, subscribe

pytestmark = pytest.mark.django_db

BODY = b'{"id":"e1","type":"order.placed","data":{"order_id":7}}'


@pytest.fixture
def in_the_demo(settings):
    settings.OMS_DEMO = True
    settings.OMS_PUBLIC_URL = "http://testserver"


def post(client, tenant, *, secret=None, body=BODY, signature=None, attempt="1"):
    timestamp = int(time.time())
    if signature is None:
        signature = f"t={timestamp},v1={webhooks.sign(secret, timestamp, body)}" if secret else ""
    return client.post(
        receiver_path(tenant.slug),
        body,
        content_type="application/json",
        HTTP_OMS_EVENT="order.placed",
        HTTP_OMS_EVENT_ID="e1",
        HTTP_OMS_DELIVERY_ATTEMPT=attempt,
        HTTP_OMS_SIGNATURE=signature,
    )


def test_a_signed_delivery_is_kept_with_its_signature_verified(client, tenant, in_the_demo):
    subscription = subscribe(tenant, url="http://testserver" + receiver_path(tenant.slug))

    response = post(client, tenant, secret=subscription.secret)

    assert response.status_code == 200
    received = DemoReceivedWebhook.objects.for_tenant(tenant).get()
    assert (received.topic, received.event_id, received.attempt, received.signature_verified, received.answered) == (
        "order.placed",
        "e1",
        1,
        True,
        200,
    )
    assert json.loads(received.body)["data"] == {"order_id": 7}


@pytest.mark.parametrize("signature", ["", "t=1,v1=deadbeef", "garbage"])
def test_a_delivery_without_a_valid_signature_is_kept_as_not_verified(client, tenant, in_the_demo, signature):
    subscribe(tenant, url="http://testserver" + receiver_path(tenant.slug))

    response = post(client, tenant, signature=signature)

    assert response.status_code == 200
    assert DemoReceivedWebhook.objects.for_tenant(tenant).get().signature_verified is False


def test_another_subscriptions_secret_does_not_verify(client, tenant, in_the_demo):
    subscribe(tenant, url="http://testserver" + receiver_path(tenant.slug))
    elsewhere = subscribe(tenant, url="https://hooks.example.com/oms")

    post(client, tenant, secret=elsewhere.secret)

    assert DemoReceivedWebhook.objects.for_tenant(tenant).get().signature_verified is False


def test_the_receiver_refuses_the_next_deliveries_it_was_told_to_then_accepts(client, tenant, in_the_demo, user_client):
    staff = user_client(Role.BACK_OFFICE)
    assert staff.post("/demo/webhooks/", {"count": "2"}).status_code == 302

    answers = [post(client, tenant).status_code for _ in range(3)]

    assert answers == [503, 503, 200]
    kept = DemoReceivedWebhook.objects.for_tenant(tenant).order_by("id")
    assert [r.answered for r in kept] == [503, 503, 200]
    assert receiver.pending_refusals(tenant=tenant) == 0


def test_refusals_are_per_tenant(client, tenant, other_tenant, in_the_demo):
    from oms.actors import Actor

    receiver.refuse_next(tenant=tenant, actor=Actor.system("tests"), count=1)

    assert post(client, other_tenant).status_code == 200
    assert post(client, tenant).status_code == 503


def test_the_page_lists_the_tenants_deliveries_only(client, tenant, other_tenant, in_the_demo, user_client):
    subscription = subscribe(tenant, url="http://testserver" + receiver_path(tenant.slug))
    post(client, tenant, secret=subscription.secret)
    post(client, other_tenant, body=b'{"note":"globex-only"}')
    viewer = user_client(Role.VIEWER)

    page = viewer.get("/demo/webhooks/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "order.placed" in html and "order_id" in html and "Verified" in html
    assert "globex-only" not in html
    assert 'name="count"' not in html  # the refusal control is for staff


def test_only_staff_may_make_the_receiver_refuse(tenant, in_the_demo, user_client):
    viewer = user_client(Role.VIEWER)

    assert viewer.post("/demo/webhooks/", {"count": "5"}).status_code == 403
    assert receiver.pending_refusals(tenant=tenant) == 0


@pytest.mark.parametrize("count", ["-1", "101", "lots"])
def test_a_refusal_count_out_of_bounds_is_a_form_error(tenant, in_the_demo, user_client, count):
    admin = user_client(Role.ADMIN)

    response = admin.post("/demo/webhooks/", {"count": count})

    assert response.status_code == 200
    assert response.context["form"].errors["count"]
    assert receiver.pending_refusals(tenant=tenant) == 0


def test_the_webhooks_page_links_to_the_receiver_in_the_demo_only(tenant, user_client, settings):
    staff = user_client(Role.ADMIN)
    settings.OMS_DEMO = False
    assert "/demo/webhooks/" not in staff.get("/settings/webhooks/").content.decode()
    settings.OMS_DEMO = True
    assert "/demo/webhooks/" in staff.get("/settings/webhooks/").content.decode()
    assert "/demo/webhooks/" in staff.get("/").content.decode()  # the home tile, for every role


def test_outside_the_demo_the_receiver_does_not_exist(client, tenant, user_client, settings):
    settings.OMS_DEMO = False
    subscription = subscribe(tenant, url="http://testserver" + receiver_path(tenant.slug))

    assert post(client, tenant, secret=subscription.secret).status_code == 404
    assert user_client(Role.ADMIN).get("/demo/webhooks/").status_code == 404
    assert not DemoReceivedWebhook.objects.for_tenant(tenant).exists()


def test_an_unknown_tenant_or_a_get_is_refused(client, tenant, in_the_demo):
    assert client.post("/demo/webhooks/nobody/receive/", BODY, content_type="application/json").status_code == 404
    assert client.get(receiver_path(tenant.slug)).status_code == 405


def test_a_body_with_a_nul_byte_is_kept(client, tenant, in_the_demo):
    assert post(client, tenant, body=b'{"a":"\x00"}').status_code == 200
    assert "\x00" not in DemoReceivedWebhook.objects.for_tenant(tenant).get().body


@pytest.mark.django_db(transaction=True)
def test_a_real_delivery_fails_while_refused_then_succeeds_on_retry_verified(tenant, live_server, settings):
    """The sender (oms.webhooks) and the receiver over HTTP: a refusal is a failed attempt, the retry succeeds."""
    from oms.actors import Actor

    settings.OMS_DEMO = True
    subscription = subscribe(tenant, url=live_server.url + receiver_path(tenant.slug), events=["order.placed"])
    receiver.refuse_next(tenant=tenant, actor=Actor.system("tests"), count=1)
    event = emit_committed(tenant, "order.placed", {"order_id": 7})
    outbox.process_event(event.id)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get(subscription=subscription)

    tasks.deliver_webhook.apply((delivery.id,))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 503)
    WebhookDelivery.all_tenants.filter(id=delivery.id).update(next_attempt_at=delivery.created_at)
    tasks.deliver_webhook.apply((delivery.id,))
    delivery.refresh_from_db()

    assert delivery.status == "succeeded"
    kept = list(DemoReceivedWebhook.objects.for_tenant(tenant).order_by("id"))
    assert [(r.answered, r.attempt, r.signature_verified, r.event_id) for r in kept] == [
        (503, 1, True, str(event.event_id)),
        (200, 2, True, str(event.event_id)),
    ]
