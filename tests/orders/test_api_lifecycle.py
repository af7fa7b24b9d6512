"""Reads, cancellations, holds and edits through the API; tenant and channel isolation of every endpoint."""

import pytest

from inventory.models import Reservation
from oms.actors import Actor
from oms.errors import IllegalTransition
from oms.models import OutboxEvent
from orders import services
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, level, order_body

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _place(api, shop, **overrides):
    response = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _ship(tenant, order, line_index=0, quantity=1):
    services.record_shipment(
        tenant=tenant,
        order_id=order["id"],
        actor=SYSTEM,
        lines=[services.LineQuantity(order["lines"][line_index]["id"], quantity)],
    )


# --- reads -----------------------------------------------------------------------------------------------


def test_the_detail_shows_lines_allocations_shipments_invoices_and_timeline(api, shop):
    order = _place(api, shop)

    detail = api.get(f"/api/v1/orders/{order['id']}/")

    assert detail.status_code == 200
    body = detail.json()
    assert body["lines"][0]["allocations"][0]["location"] == shop.wh1.code
    assert body["shipments"] == [] and body["invoices"] == []
    assert [event["kind"] for event in body["timeline"]] == ["placed"]
    assert body["timeline"][0]["actor"].startswith("api-key:")
    assert detail["ETag"] == '"1"'


def test_the_list_filters_by_status_channel_email_external_ref_and_dates(api, tenant, shop):
    first = _place(api, shop, external_ref="A-1")
    _place(api, shop, external_ref="B-2", customer={"email": "bob@example.com"})
    api.post(f"/api/v1/orders/{first['id']}/cancel/", {"reason": "customer changed mind"}, format="json")

    def refs(query):
        response = api.get(f"/api/v1/orders/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(order["external_ref"] for order in response.json()["results"])

    assert refs("") == ["A-1", "B-2"]
    assert refs("status=cancelled") == ["A-1"]
    assert refs("status=placed&status=cancelled") == ["A-1", "B-2"]
    assert refs(f"channel={shop.channel.code}") == ["A-1", "B-2"]
    assert refs("channel=NOPE") == []
    assert refs("customer_email=BOB@example.com") == ["B-2"]
    assert refs("external_ref=A-1") == ["A-1"]
    assert refs("created_after=2000-01-01T00:00:00Z") == ["A-1", "B-2"]
    assert refs("updated_before=2000-01-01T00:00:00Z") == []


def test_a_bad_filter_value_answers_400(api):
    response = api.get("/api/v1/orders/?status=lost")

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_viewers_may_read_orders_but_not_place_them(client, tenant, shop, user_client):
    viewer = user_client("viewer")

    assert viewer.get("/api/v1/orders/").status_code == 200
    assert viewer.post("/api/v1/orders/", order_body(shop), content_type="application/json").status_code == 403


# --- cancellations ---------------------------------------------------------------------------------------


def test_cancelling_an_order_releases_exactly_what_it_reserved(api, tenant, shop):
    def reserved():
        return {
            (p.sku, loc.code): level(tenant, p, loc).reserved for p in shop.products for loc in (shop.wh1, shop.wh2)
        }

    other = _place(api, shop)
    before = reserved()
    order = _place(
        api,
        shop,
        lines=[
            {"sku": shop.a.sku, "quantity": 12, "unit_price": "1.00"},
            {"sku": shop.b.sku, "quantity": 1, "unit_price": "1.00"},
        ],
    )
    assert reserved() != before

    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "fraud confirmed"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert all(line["quantity_cancelled"] == line["quantity"] for line in response.json()["lines"])
    assert reserved() == before
    assert api.get(f"/api/v1/orders/{other['id']}/").json()["lines"][0]["quantity_allocated"] == 2
    assert not Reservation.objects.for_tenant(tenant).filter(order_line__order_id=order["id"], status="active")
    released = Reservation.objects.for_tenant(tenant).filter(order_line__order_id=order["id"], status="released")
    assert released.count() == 3
    event = OutboxEvent.objects.for_tenant(tenant).get(topic="order.cancelled")
    assert event.payload["whole_order"] is True and event.payload["reason"] == "fraud confirmed"
    assert response.json()["timeline"][-1]["message"] == "fraud confirmed"


def test_cancelling_some_units_of_a_line_releases_only_those(api, tenant, shop):
    order = _place(api, shop)
    line = order["lines"][0]

    response = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"reason": "out of patience", "lines": [{"id": line["id"], "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "placed"
    assert (body["lines"][0]["quantity_cancelled"], body["lines"][0]["quantity_allocated"]) == (1, 1)
    assert level(tenant, shop.a, shop.wh1).reserved == 1
    assert level(tenant, shop.b, shop.wh1).reserved == 1
    # The line keeps one unit of two, and half its tax; the order's charged total is unchanged.
    assert (body["lines"][0]["total"], body["lines"][0]["current_total"]) == ("24.00", "12.00")
    assert (body["total"], body["current_total"]) == ("48.00", "36.00")


def test_an_order_cancelled_as_a_whole_is_worth_nothing_more(api, shop):
    order = _place(api, shop)

    body = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "fraud"}, format="json").json()
    listed = api.get("/api/v1/orders/", {"status": "cancelled"}).json()["results"][0]

    assert (body["total"], body["current_total"]) == ("48.00", "0.00")
    assert [line["current_total"] for line in body["lines"]] == ["0.00", "0.00"]
    assert listed["current_total"] == "0.00"


def test_cancelling_units_that_already_shipped_answers_409(api, tenant, shop):
    order = _place(api, shop)
    _ship(tenant, order, 0, 2)

    response = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"reason": "late", "lines": [{"id": order["lines"][0]["id"], "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["lines"][0]["cancellable"] == 0


def test_cancelling_a_partly_shipped_order_as_a_whole_is_an_illegal_transition(api, tenant, shop):
    order = _place(api, shop)
    _ship(tenant, order, 0, 2)

    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "late"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["current"] == "partially_fulfilled"


def test_cancelling_a_cancelled_order_again_answers_409(api, shop):
    order = _place(api, shop)
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "x"}, format="json")

    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_a_cancel_without_reason_or_with_an_unknown_line_answers_400(api, shop):
    order = _place(api, shop)

    missing = api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json")
    unknown = api.post(
        f"/api/v1/orders/{order['id']}/cancel/",
        {"reason": "x", "lines": [{"id": 999999, "quantity": 1}]},
        format="json",
    )

    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    assert unknown.status_code == 400 and "lines[0].id" in unknown.json()["errors"]


# --- holds -----------------------------------------------------------------------------------------------


def test_a_hold_then_its_release_go_through_the_timeline_and_events(api, tenant, shop):
    order = _place(api, shop)

    held = api.post(f"/api/v1/orders/{order['id']}/hold/", {"kind": "fraud", "reason": "check id"}, format="json")
    released = api.post(f"/api/v1/orders/{order['id']}/release/", {"note": "id verified"}, format="json")

    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    assert released.status_code == 200 and released.json()["status"] == "placed"
    assert released.json()["hold"] is None
    assert [e["kind"] for e in released.json()["timeline"]] == ["placed", "hold", "hold_released"]
    topics = list(OutboxEvent.objects.for_tenant(tenant).order_by("id").values_list("topic", flat=True))
    assert topics[-2:] == ["order.on_hold", "order.released"]


def test_releasing_an_order_that_is_not_held_answers_409(api, shop):
    order = _place(api, shop)

    response = api.post(f"/api/v1/orders/{order['id']}/release/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_holding_a_cancelled_order_answers_409(api, shop):
    order = _place(api, shop)
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "x"}, format="json")

    response = api.post(f"/api/v1/orders/{order['id']}/hold/", {"kind": "manual"}, format="json")

    assert response.status_code == 409


def test_a_held_order_cannot_ship(api, tenant, shop):
    order = _place(api, shop, hold={"kind": "payment"})

    with pytest.raises(IllegalTransition):
        _ship(tenant, order)


# --- edits -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ['"²"', '"' + "1" * 5000 + '"', '"-1"', '"1.0"'])
def test_an_if_match_that_is_not_a_plain_version_is_a_400(api, tenant, shop, version):
    order = _place(api, shop)

    answer = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"delivery": {"service_level": "express"}},
        format="json",
        HTTP_IF_MATCH=version,
    )

    assert answer.status_code == 400 and "If-Match" in answer.json()["errors"]


def test_changing_the_address_needs_the_current_version(api, tenant, shop):
    order = _place(api, shop)
    address = {"line1": "2 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"}

    missing = api.patch(f"/api/v1/orders/{order['id']}/", {"delivery": {"address": address}}, format="json")
    edited = api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"address": address}}, format="json", HTTP_IF_MATCH='"1"'
    )
    stale = api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"address": address}}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert missing.status_code == 400 and "If-Match" in missing.json()["errors"]
    assert edited.status_code == 200, edited.json()
    assert edited.json()["delivery"]["address"]["city"] == "Lyon"
    assert edited.json()["version"] == 2 and edited["ETag"] == '"2"'
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == 2
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="order.updated").count() == 1


def test_if_match_star_accepts_whatever_version_is_current(api, tenant, shop):
    order = _place(api, shop)
    api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"service_level": "express"}}, format="json", HTTP_IF_MATCH='"1"'
    )

    response = api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"service_level": "standard"}}, format="json", HTTP_IF_MATCH="*"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 3


@pytest.mark.parametrize("version", [0, -1])
def test_a_version_that_cannot_exist_is_a_400_not_a_stale_version(api, shop, version):
    order = _place(api, shop)

    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "r", "version": version}, format="json")

    assert response.status_code == 400 and "version" in response.json()["errors"]


def test_the_address_cannot_change_once_something_shipped(api, tenant, shop):
    order = _place(api, shop)
    _ship(tenant, order)
    address = {"line1": "2 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"}

    response = api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"address": address}, "version": 2}, format="json"
    )

    assert response.status_code == 409


def test_reducing_a_quantity_releases_the_difference(api, tenant, shop):
    order = _place(api, shop)

    response = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"version": 1, "lines": [{"id": order["lines"][0]["id"], "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["lines"][0]["quantity_cancelled"] == 1
    assert level(tenant, shop.a, shop.wh1).reserved == 1


def test_increasing_a_quantity_is_refused(api, shop):
    order = _place(api, shop)

    response = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"version": 1, "lines": [{"id": order["lines"][0]["id"], "quantity": 5}]},
        format="json",
    )

    assert response.status_code == 400
    assert "lines[0].quantity" in response.json()["errors"]


def test_changing_the_pickup_store_moves_the_reservations(api, tenant, shop):
    other_store = factories.LocationFactory(tenant=tenant, code="LYO", kind="store", pickup=True)
    factories.ChannelLocationFactory(tenant=tenant, channel=shop.channel, location=other_store, priority=9)
    from tests.orders.support import stock

    stock(tenant, shop.a, other_store, 5)
    order = _place(
        api,
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 2, "unit_price": "1.00"}],
    )

    response = api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"pickup_location": "LYO"}}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200, response.json()
    assert response.json()["delivery"]["pickup_location"] == "LYO"
    assert level(tenant, shop.a, shop.store).reserved == 0
    assert level(tenant, shop.a, other_store).reserved == 2


def test_a_pickup_store_without_the_stock_is_refused_and_nothing_moves(api, tenant, shop):
    empty = factories.LocationFactory(tenant=tenant, code="NICE", kind="store", pickup=True)
    factories.ChannelLocationFactory(tenant=tenant, channel=shop.channel, location=empty, priority=9)
    order = _place(
        api,
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 2, "unit_price": "1.00"}],
    )

    response = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"delivery": {"pickup_location": empty.code}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )

    assert response.status_code == 409
    assert level(tenant, shop.a, shop.store).reserved == 2


def test_an_edit_may_not_set_the_status(api, shop):
    order = _place(api, shop)

    response = api.patch(f"/api/v1/orders/{order['id']}/", {"status": "delivered", "version": 1}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


# --- isolation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/orders/{id}/", None),
        ("patch", "/api/v1/orders/{id}/", {"version": 1, "delivery": {"service_level": "express"}}),
        ("post", "/api/v1/orders/{id}/cancel/", {"reason": "x"}),
        ("post", "/api/v1/orders/{id}/hold/", {"kind": "manual"}),
        ("post", "/api/v1/orders/{id}/release/", {}),
    ],
)
def test_another_tenants_order_answers_404_on_every_endpoint(api, other_api, shop, method, path, body):
    order = _place(api, shop)

    response = getattr(other_api, method)(path.format(id=order["id"]), body, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_another_tenant_sees_none_of_the_orders_customers_or_invoices(api, other_api, tenant, shop):
    order = _place(api, shop)
    _ship(tenant, order, 0, 2)
    invoice_id = api.get(f"/api/v1/orders/{order['id']}/").json()["invoices"][0]["id"]

    assert other_api.get("/api/v1/orders/").json()["results"] == []
    assert other_api.get("/api/v1/customers/").json()["results"] == []
    assert other_api.get(f"/api/v1/customers/{order['customer']['id']}/orders/").status_code == 404
    assert other_api.get(f"/api/v1/invoices/{invoice_id}/").status_code == 404
    assert other_api.get(f"/api/v1/invoices/{invoice_id}/pdf/").status_code == 404


def test_a_channel_key_sees_only_its_channel_orders(api, tenant, shop):
    mine = _place(api, shop)
    other_shop = build_shop(tenant, code="MKT")
    theirs = _place(api, other_shop)
    key = make_api_client(tenant, channel=other_shop.channel)

    listed = [order["id"] for order in key.get("/api/v1/orders/").json()["results"]]

    assert listed == [theirs["id"]]
    assert key.get(f"/api/v1/orders/{mine['id']}/").status_code == 404
    assert key.post(f"/api/v1/orders/{mine['id']}/cancel/", {"reason": "x"}, format="json").status_code == 404


def test_moving_a_pickup_to_a_store_outside_the_channels_pool_is_refused(api, tenant, shop):
    factories.LocationFactory(tenant=tenant, code="PAR99", kind="store", pickup=True)
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"}],
    )
    order = api.post("/api/v1/orders/", body, format="json").json()

    response = api.patch(
        f"/api/v1/orders/{order['id']}/",
        {"delivery": {"pickup_location": "PAR99"}},
        format="json",
        HTTP_IF_MATCH=f'"{order["version"]}"',
    )

    assert response.status_code == 400
    assert "not in the channel's sourcing pool" in response.json()["errors"]["delivery.pickup_location"][0]


def _two_channels(api, tenant, shop):
    """A web order of ann, a marketplace order of bob, and one of each channel for cat."""
    market = build_shop(tenant, code="MKT")
    web_ann = _place(api, shop, customer={"email": "ann@example.com"})
    mkt_bob = _place(api, market, customer={"email": "bob@example.com"})
    web_cat = _place(api, shop, customer={"email": "cat@example.com"})
    mkt_cat = _place(api, market, customer={"email": "cat@example.com"})
    return market, web_ann, mkt_bob, web_cat, mkt_cat


def test_a_channel_key_sees_only_the_customers_who_ordered_on_its_channel(api, tenant, shop):
    market, web_ann, mkt_bob, web_cat, mkt_cat = _two_channels(api, tenant, shop)
    web_key = make_api_client(tenant, channel=shop.channel)

    listed = [c["email"] for c in web_key.get("/api/v1/customers/").json()["results"]]
    searched = [c["email"] for c in web_key.get("/api/v1/customers/?q=bob").json()["results"]]
    everyone = [c["email"] for c in api.get("/api/v1/customers/").json()["results"]]

    assert listed == ["cat@example.com", "ann@example.com"]
    assert searched == []
    assert everyone == ["cat@example.com", "bob@example.com", "ann@example.com"]


def test_a_channel_key_reads_only_its_channels_part_of_a_customers_history(api, tenant, shop):
    market, web_ann, mkt_bob, web_cat, mkt_cat = _two_channels(api, tenant, shop)
    web_key = make_api_client(tenant, channel=shop.channel)

    cat_history = web_key.get(f"/api/v1/customers/{web_cat['customer']['id']}/orders/")
    bob_history = web_key.get(f"/api/v1/customers/{mkt_bob['customer']['id']}/orders/")

    assert [order["id"] for order in cat_history.json()["results"]] == [web_cat["id"]]
    assert bob_history.status_code == 404
    assert bob_history["Content-Type"] == "application/problem+json"


def test_the_invoice_list_shows_a_channel_key_only_its_channels_invoices(api, other_api, tenant, shop):
    market, web_ann, mkt_bob, web_cat, mkt_cat = _two_channels(api, tenant, shop)
    for order in (web_ann, mkt_bob):
        _ship(tenant, order, 0, 2)
    web_invoice = api.get(f"/api/v1/orders/{web_ann['id']}/").json()["invoices"][0]
    market_invoice = api.get(f"/api/v1/orders/{mkt_bob['id']}/").json()["invoices"][0]
    web_key = make_api_client(tenant, channel=shop.channel)

    listed = web_key.get("/api/v1/invoices/").json()["results"]
    everything = [invoice["id"] for invoice in api.get("/api/v1/invoices/").json()["results"]]

    assert [(i["id"], i["order_id"], i["channel"]) for i in listed] == [(web_invoice["id"], web_ann["id"], "WEB")]
    assert everything == [market_invoice["id"], web_invoice["id"]]
    assert web_key.get(f"/api/v1/invoices/{market_invoice['id']}/").status_code == 404
    assert other_api.get("/api/v1/invoices/").json()["results"] == []


def test_the_invoice_list_filters_by_kind_and_order(api, tenant, shop):
    order = _place(api, shop)
    _ship(tenant, order, 0, 2)
    other = _place(api, shop)
    _ship(tenant, other, 0, 2)

    by_order = api.get(f"/api/v1/invoices/?order={order['id']}").json()["results"]
    notes = api.get("/api/v1/invoices/?kind=credit_note").json()["results"]
    bad = api.get("/api/v1/invoices/?kind=receipt")

    assert [invoice["order_id"] for invoice in by_order] == [order["id"]]
    assert notes == []
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]
