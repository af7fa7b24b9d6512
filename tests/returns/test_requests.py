"""Return requests through the API: the RMA number, who may ask for which order, malformed requests, the order's
timeline and the events."""

import pytest

from oms.models import OutboxEvent, Role
from orders.models import EventKind, OrderEvent
from returns.models import Return
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.returns.support import place, return_body, shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


@pytest.fixture
def shop_key(tenant, shop):
    return make_api_client(tenant, channel=shop.channel)


def test_a_shop_requests_a_return_and_gets_its_rma_number(tenant, shop, shop_key):
    order = shipped_order(tenant, shop)

    answer = shop_key.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 1, "too_small"), comment="Runs small", outcome="refund"),
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["number"] == "RMA-000001" and body["status"] == "requested"
    assert body["order"] == order.id and body["channel"] == shop.channel.code and body["outcome"] == "refund"
    assert [(line["sku"], line["quantity"], line["reason"]) for line in body["lines"]] == [(shop.a.sku, 1, "too_small")]
    assert answer["Location"] == f"/api/v1/returns/{body['id']}/"
    assert shop_key.get(f"/api/v1/returns/{body['id']}/").json()["number"] == "RMA-000001"


def test_rma_numbers_are_gap_free_a_refused_request_takes_none(tenant, shop, api):
    order = shipped_order(tenant, shop)

    first = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "too_small")), format="json")
    refused = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 5, "too_small")), format="json")
    second = api.post("/api/v1/returns/", return_body(order, (shop.b.sku, 1, "defective")), format="json")

    assert refused.status_code == 409
    assert [first.json()["number"], second.json()["number"]] == ["RMA-000001", "RMA-000002"]


def test_a_shop_key_cannot_ask_back_another_channels_order_nor_see_its_returns(tenant, shop, api):
    other_shop = build_shop(tenant, code="MKT")
    theirs = shipped_order(tenant, other_shop)
    ours = shipped_order(tenant, shop)
    made = api.post("/api/v1/returns/", return_body(theirs, (other_shop.a.sku, 1, "too_small")), format="json")
    key = make_api_client(tenant, channel=shop.channel)
    own = key.post("/api/v1/returns/", return_body(ours, (shop.a.sku, 1, "too_small")), format="json")

    refused = key.post("/api/v1/returns/", return_body(theirs, (other_shop.a.sku, 1, "too_small")), format="json")

    assert refused.status_code == 404
    assert key.get(f"/api/v1/returns/{made.json()['id']}/").status_code == 404
    assert key.post(f"/api/v1/returns/{made.json()['id']}/cancel/", {}, format="json").status_code == 404
    assert [row["id"] for row in key.get("/api/v1/returns/").json()["results"]] == [own.json()["id"]]
    assert Return.objects.for_tenant(tenant).count() == 2


def test_a_store_clerk_takes_back_an_order_bought_online_at_their_store(tenant, shop, user_client):
    shop.store.accepts_returns = True
    shop.store.save()
    order = shipped_order(tenant, shop)
    clerk = user_client(Role.STORE_CLERK, locations=[shop.store])

    answer = clerk.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 2, "changed_mind"), method="store"),
        content_type="application/json",
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["location"] == shop.store.code and answer.json()["channel"] == shop.channel.code
    assert [row["number"] for row in clerk.get("/api/v1/returns/").json()["results"]] == ["RMA-000001"]


def test_a_store_clerk_cannot_take_a_return_at_another_store_nor_see_its_returns(tenant, shop, user_client, api):
    other_store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store", accepts_returns=True)
    shop.store.accepts_returns = True
    shop.store.save()
    order = shipped_order(tenant, shop)
    at_lyon = api.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 1, "too_small"), method="store", location="LYO"),
        format="json",
    )
    clerk = user_client(Role.STORE_CLERK, locations=[shop.store])

    elsewhere = clerk.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 1, "too_small"), method="store", location=other_store.code),
        content_type="application/json",
    )

    assert elsewhere.status_code == 404
    assert clerk.get(f"/api/v1/returns/{at_lyon.json()['id']}/").status_code == 404
    assert clerk.get("/api/v1/returns/").json()["results"] == []


def test_a_return_location_must_accept_returns(tenant, shop, api):
    order = shipped_order(tenant, shop)

    answer = api.post(
        "/api/v1/returns/",
        return_body(order, (shop.a.sku, 1, "too_small"), method="store", location=shop.wh1.code),
        format="json",
    )

    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["location"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body, other: body["lines"][0].update(reason="no_such_reason"), "lines"),
        (lambda body, other: body["lines"][0].update(order_line=other), "lines"),
        (lambda body, other: body["lines"].append(dict(body["lines"][0])), "lines"),
        (lambda body, other: body["lines"][0].update(quantity=0), "lines"),
        (lambda body, other: body.update(method="drone"), "method"),
        (lambda body, other: body.update(outcome="exchange"), "exchange_lines"),
        (lambda body, other: body.update(exchange_lines=[{"sku": "WEB-A", "quantity": 1}]), "exchange_lines"),
        (
            lambda body, other: body.update(outcome="exchange", exchange_lines=[{"sku": "NOPE", "quantity": 1}]),
            "exchange_lines",
        ),
        (lambda body, other: body.update(status="approved"), "status"),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_field(tenant, shop, api, change, field):
    order = shipped_order(tenant, shop)
    other_line = place(tenant, shop).lines.first().id
    body = return_body(order, (shop.a.sku, 1, "too_small"))
    change(body, other_line)

    answer = api.post("/api/v1/returns/", body, format="json")

    assert answer.status_code == 400, answer.json()
    assert {key.split(".")[0].split("[")[0] for key in answer.json()["errors"]} == {field}
    assert not Return.objects.for_tenant(tenant).exists()


def test_an_exchange_names_products_of_the_catalogue(tenant, shop, api):
    order = shipped_order(tenant, shop)

    answer = api.post(
        "/api/v1/returns/",
        return_body(
            order, (shop.a.sku, 1, "too_small"), outcome="exchange", exchange_lines=[{"sku": shop.c.sku, "quantity": 1}]
        ),
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["exchange_lines"] == [{"sku": shop.c.sku, "quantity": 1}]


def test_the_order_timeline_and_the_outbox_tell_of_the_request(tenant, shop, api):
    order = shipped_order(tenant, shop)

    number = api.post("/api/v1/returns/", return_body(order, (shop.a.sku, 1, "damaged")), format="json").json()[
        "number"
    ]

    noted = OrderEvent.objects.for_tenant(tenant).filter(order=order, kind=EventKind.RETURN_REQUESTED).get()
    assert number in noted.message
    event = OutboxEvent.objects.for_tenant(tenant).filter(topic="return.requested").get()
    assert event.payload["number"] == number and event.payload["channel"] == shop.channel.code
    assert event.payload["lines"][0]["reason"] == "damaged"


def test_the_same_idempotency_key_makes_one_return(tenant, shop, api):
    order = shipped_order(tenant, shop)
    body = return_body(order, (shop.a.sku, 1, "too_small"))

    first = api.post("/api/v1/returns/", body, format="json", HTTP_IDEMPOTENCY_KEY="rma-1")
    again = api.post("/api/v1/returns/", body, format="json", HTTP_IDEMPOTENCY_KEY="rma-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Return.objects.for_tenant(tenant).count() == 1


def test_the_list_filters_by_status_order_and_channel(tenant, shop, api):
    first, second = shipped_order(tenant, shop), shipped_order(tenant, shop)
    one = api.post("/api/v1/returns/", return_body(first, (shop.a.sku, 1, "too_small")), format="json").json()
    two = api.post("/api/v1/returns/", return_body(second, (shop.a.sku, 1, "too_small")), format="json").json()
    api.post(f"/api/v1/returns/{two['id']}/approve/", {}, format="json")

    def ids(query):
        return [row["id"] for row in api.get(f"/api/v1/returns/?{query}").json()["results"]]

    assert ids("status=approved") == [two["id"]]
    assert ids(f"order={first.id}") == [one["id"]]
    assert ids(f"channel={shop.channel.code}") == [two["id"], one["id"]]
    assert ids("channel=NONE") == []
    assert api.get("/api/v1/returns/?status=lost").status_code == 400
