"""Who may see and work fulfilment orders and shipments: another tenant's ids (and another channel's, and for a
store clerk another store's) are 404 before any body is read; channel keys read and never work; viewers read."""

import pytest

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.allocation import allocate_order
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

BAD_BODY = {"surely": "not a field", "reason": 42, "carrier": "???", "status": "lost", "exclude": "x"}


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


@pytest.fixture
def shipped(api, tenant, shop):
    """An order routed to the first warehouse and shipped, and a second order routed and pending."""
    orders = []
    for _ in range(2):
        answer = api.post("/api/v1/orders/", order_body(shop), format="json")
        orders.append(answer.json()["id"])
        allocate_order(tenant=tenant, order_id=orders[-1])
    first = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=orders[0])
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{first.id}/{step}/", {}, format="json")
    api.post(f"/api/v1/fulfillments/{first.id}/ship/", {"carrier": "dpd"}, format="json")
    pending = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=orders[1])
    return {"order": orders[1], "fulfillment": pending.id, "shipment": Shipment.objects.for_tenant(tenant).get().id}


def _routes(ids):
    f, s, o = ids["fulfillment"], ids["shipment"], ids["order"]
    return [
        ("get", f"/api/v1/fulfillments/{f}/"),
        *[("post", f"/api/v1/fulfillments/{f}/{step}/") for step in ("accept", "pick", "pack", "ship", "reject")],
        ("get", f"/api/v1/shipments/{s}/"),
        ("post", f"/api/v1/shipments/{s}/events/"),
        ("post", f"/api/v1/orders/{o}/reroute/"),
    ]


def test_another_tenants_ids_are_404_before_the_body_is_read(shipped, other_api):
    for method, url in _routes(shipped):
        answer = getattr(other_api, method)(url, BAD_BODY, format="json") if method == "post" else other_api.get(url)
        assert answer.status_code == 404, (url, answer.status_code, answer.content)
    assert other_api.get("/api/v1/fulfillments/").json()["results"] == []
    assert other_api.get("/api/v1/shipments/").json()["results"] == []


def test_another_channels_key_sees_nothing_and_its_own_key_reads_but_never_works(tenant, shop, shipped):
    stranger = make_api_client(tenant, channel=build_shop(tenant, code="MKT").channel)
    for method, url in _routes(shipped):
        answer = getattr(stranger, method)(url, BAD_BODY, format="json") if method == "post" else stranger.get(url)
        # Another channel's rows do not exist for it; working fulfilment is no channel key's job, whatever the id.
        assert answer.status_code == (404 if method == "get" else 403), url

    own = make_api_client(tenant, channel=shop.channel)
    assert own.get(f"/api/v1/fulfillments/{shipped['fulfillment']}/").status_code == 200
    assert len(own.get("/api/v1/fulfillments/").json()["results"]) == 2
    refused = own.post(f"/api/v1/fulfillments/{shipped['fulfillment']}/accept/", {}, format="json")
    assert refused.status_code == 403
    assert own.post(f"/api/v1/orders/{shipped['order']}/reroute/", {}, format="json").status_code == 403
    events = own.post(f"/api/v1/shipments/{shipped['shipment']}/events/", {"status": "in_transit"}, format="json")
    assert events.status_code == 403
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=shipped["fulfillment"]).status == "pending"


def test_a_store_clerk_sees_and_works_only_their_stores_fulfilment(user_client, tenant, shop, shipped):
    clerk = user_client("store_clerk", locations=[shop.store])
    warehouse_work = shipped["fulfillment"]

    assert clerk.get(f"/api/v1/fulfillments/{warehouse_work}/").status_code == 404
    assert clerk.post(f"/api/v1/fulfillments/{warehouse_work}/accept/", BAD_BODY).status_code == 404
    assert clerk.get("/api/v1/fulfillments/").json()["results"] == []
    assert clerk.get(f"/api/v1/shipments/{shipped['shipment']}/").status_code == 404

    store_work = FulfillmentOrder.objects.for_tenant(tenant).get(id=warehouse_work)
    store_work.location = shop.store
    store_work.save()
    accepted = clerk.post(f"/api/v1/fulfillments/{warehouse_work}/accept/", {}, content_type="application/json")
    assert accepted.status_code == 200


def test_viewers_and_managers_read_and_cannot_work(user_client, shipped):
    for role in ("viewer", "manager"):
        client = user_client(role)
        assert client.get(f"/api/v1/fulfillments/{shipped['fulfillment']}/").status_code == 200
        assert client.get("/api/v1/shipments/").status_code == 200
        assert client.post(f"/api/v1/fulfillments/{shipped['fulfillment']}/accept/", {}).status_code == 403
        assert client.post(f"/api/v1/orders/{shipped['order']}/reroute/", {}).status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/fulfillments/", "/api/v1/shipments/"])
@pytest.mark.parametrize("order", ["²", "1" * 40, "-3"])
def test_an_order_filter_that_is_not_an_id_is_a_400(api, path, order):
    answer = api.get(path, {"order": order})

    assert answer.status_code == 400 and "order" in answer.json()["errors"]
