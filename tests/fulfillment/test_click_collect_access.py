"""Who may work click & collect: a clerk works their own store's pickups only (another store's, another tenant's
ids are 404 before the body is read), only a manager, an admin or the stores' system unlocks a hand-over, and the
pickup code is never shown to the store: not in any API answer or page a clerk reads, not stored in clear."""

import json

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.allocation import allocate_order
from oms.demo import receiver_path
from oms.events import MASK
from oms.models import AuditEntry, OutboxEvent
from orders.models import OrderEvent
from tests import factories
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db

BAD_BODY = {"surely": "not a field", "pickup_code": 42, "lines": "all"}
STEPS = ("ready", "collect", "unlock")


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def ready_pickup(api, tenant, store, shop) -> tuple[FulfillmentOrder, str]:
    body = order_body(shop, delivery={"method": "pickup", "pickup_location": store.code})
    order_id = api.post("/api/v1/orders/", body, format="json").json()["id"]
    allocate_order(tenant=tenant, order_id=order_id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=order_id)
    for step in ("accept", "pick", "pack", "ready"):
        assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
    code = OutboxEvent.objects.for_tenant(tenant).filter(topic="order.ready_for_pickup").latest("id").payload
    return fulfillment, code["pickup_code"]


def test_a_clerk_cannot_see_or_work_another_stores_pickups(api, tenant, shop, user_client):
    other_store = factories.LocationFactory(tenant=tenant, code="WEB-LYO", kind="store", pickup=True)
    factories.ChannelLocationFactory(tenant=tenant, channel=shop.channel, location=other_store, priority=9)
    for product in shop.products:
        stock(tenant, product, other_store, 3)
    theirs, code = ready_pickup(api, tenant, other_store, shop)
    clerk = user_client("store_clerk", locations=[shop.store])

    assert clerk.get(f"/api/v1/fulfillments/{theirs.id}/").status_code == 404
    for step in ("ready", "collect"):
        answer = clerk.post(f"/api/v1/fulfillments/{theirs.id}/{step}/", BAD_BODY, content_type="application/json")
        assert answer.status_code == 404, (step, answer.status_code)
    # Unlocking is not a clerk's part at all: 403 whatever the id, as for every refused part.
    unlock = clerk.post(f"/api/v1/fulfillments/{theirs.id}/unlock/", BAD_BODY, content_type="application/json")
    assert unlock.status_code == 403
    refused = clerk.post(
        f"/api/v1/fulfillments/{theirs.id}/collect/", {"pickup_code": code}, content_type="application/json"
    )
    assert refused.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "ready_for_pickup" and theirs.pickup_attempts == 0


def test_another_tenants_ids_are_404_before_the_body_is_read(api, tenant, shop, other_api):
    fulfillment, _code = ready_pickup(api, tenant, shop.store, shop)

    for step in STEPS:
        answer = other_api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", BAD_BODY, format="json")
        assert answer.status_code == 404, (step, answer.status_code)


def test_a_channel_key_cannot_hand_over_or_unlock(api, tenant, shop):
    from tests.conftest import make_api_client

    fulfillment, code = ready_pickup(api, tenant, shop.store, shop)
    shop_key = make_api_client(tenant, channel=shop.channel)

    collect = shop_key.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": code}, format="json")
    unlock = shop_key.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, format="json")

    assert collect.status_code == 403 and unlock.status_code == 403


def test_back_office_and_viewers_cannot_unlock_and_the_stores_system_can(api, tenant, shop, user_client):
    fulfillment, _code = ready_pickup(api, tenant, shop.store, shop)
    for step in range(5):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": f"NOPE{step}"}, format="json")

    for role in ("back_office", "viewer", "store_clerk"):
        client = user_client(role, locations=[shop.store] if role == "store_clerk" else ())
        answer = client.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, content_type="application/json")
        assert answer.status_code == 403, role
    assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, format="json").status_code == 200
    assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/unlock/", {}, format="json").status_code == 409


def test_the_pickup_code_never_reaches_the_store_and_is_never_stored_in_clear(
    api, tenant, shop, user_client, client, settings
):
    settings.OMS_DEMO = True
    settings.OMS_PUBLIC_URL = "http://testserver"
    fulfillment, code = ready_pickup(api, tenant, shop.store, shop)
    # What the shop's endpoint received, as the demo's receiver keeps it.
    event = OutboxEvent.objects.for_tenant(tenant).filter(topic="order.ready_for_pickup").latest("id")
    body = json.dumps({"id": str(event.id), "type": event.topic, "data": event.payload}).encode()
    client.post(receiver_path(tenant.slug), body, content_type="application/json", HTTP_OMS_EVENT=event.topic)
    clerk = user_client("store_clerk", locations=[shop.store])

    pages = [
        clerk.get("/api/v1/fulfillments/"),
        clerk.get(f"/api/v1/fulfillments/{fulfillment.id}/"),
        clerk.get(f"/fulfillment/{fulfillment.id}/"),
        clerk.get(f"/fulfillment/{fulfillment.id}/pick-list/"),
        clerk.get(f"/fulfillment/{fulfillment.id}/packing-slip/"),
        clerk.get("/fulfillment/board/"),
        clerk.get("/demo/webhooks/"),
    ]

    assert all(page.status_code == 200 for page in pages), [page.status_code for page in pages]
    assert all(code not in page.content.decode() for page in pages)
    inbox = pages[-1].content.decode()
    assert "order.ready_for_pickup" in inbox and MASK in inbox
    fulfillment.refresh_from_db()
    stored = [
        fulfillment.pickup_code_hash,
        *OrderEvent.objects.for_tenant(tenant).values_list("message", flat=True),
        *[json.dumps(after) for after in OrderEvent.objects.for_tenant(tenant).values_list("after", flat=True)],
        *[json.dumps(changes) for changes in AuditEntry.objects.for_tenant(tenant).values_list("changes", flat=True)],
    ]
    assert all(code not in text for text in stored)
