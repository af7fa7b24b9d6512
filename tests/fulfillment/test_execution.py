"""Locations work their fulfilment orders through the API: accept, pick, pack, ship (all or some units), reject
(re-routed elsewhere, written off when the stock is not there); carriers report tracking until delivery; the back
office re-routes; cancelling the order cancels the open work. Stock moves only through the ledger, which holds."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder, RoutingDecision, Shipment
from fulfillment.services.allocation import allocate_order
from inventory.ledger import ledger_discrepancies
from inventory.models import MovementKind, Reservation, StockLevel, StockMovement
from oms.models import OutboxEvent
from orders.models import Order, OrderStatus
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _place(api, shop, **overrides) -> Order:
    answer = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert answer.status_code == 201, answer.json()
    return Order.all_tenants.get(id=answer.json()["id"])


def _routed(api, tenant, shop, **overrides) -> tuple[Order, FulfillmentOrder]:
    order = _place(api, shop, **overrides)
    allocate_order(tenant=tenant, order_id=order.id)
    fulfillments = list(FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).order_by("id"))
    assert len(fulfillments) == 1
    return order, fulfillments[0]


def _to_packed(api, fulfillment_id):
    for step in ("accept", "pick", "pack"):
        answer = api.post(f"/api/v1/fulfillments/{fulfillment_id}/{step}/", {}, format="json")
        assert answer.status_code == 200, answer.json()
    return answer.json()


def _level(tenant, product, location):
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=location)


def _topics(tenant):
    return list(OutboxEvent.objects.for_tenant(tenant).order_by("id").values_list("topic", flat=True))


def test_a_location_accepts_picks_packs_and_ships_and_the_stock_leaves_through_the_ledger(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    location = fulfillment.location
    before = _level(tenant, shop.a, location).on_hand

    for step, status in (("accept", "accepted"), ("pick", "picking")):
        answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
        assert answer.status_code == 200 and answer.json()["status"] == status
    packed = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/pack/",
        {"parcels": [{"weight_kg": "1.5", "reference": "BOX-1"}, {"weight_kg": "0.4"}]},
        format="json",
    )
    assert packed.status_code == 200 and packed.json()["status"] == "packed"
    assert [p["weight_kg"] for p in packed.json()["parcels"]] == ["1.500", "0.400"]

    shipped = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/",
        {"carrier": "colissimo", "service": "domicile", "tracking_numbers": ["6A123456789"]},
        format="json",
    )

    assert shipped.status_code == 201, shipped.json()
    body = shipped.json()
    assert body["tracking_url"] == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123456789"
    assert body["location"] == location.code and len(body["parcels"]) == 2
    assert sorted((line["sku"], line["quantity"]) for line in body["lines"]) == [(shop.a.sku, 2), (shop.b.sku, 1)]
    assert api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()["status"] == "shipped"
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert _level(tenant, shop.a, location).on_hand == before - 2
    sales = StockMovement.objects.for_tenant(tenant).filter(kind=MovementKind.SALE, stock_level__location=location)
    assert sorted(sales.values_list("quantity", flat=True)) == [-2, -1]
    assert not Reservation.objects.for_tenant(tenant).filter(order_line__order=order, status="active").exists()
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []
    topics = _topics(tenant)
    assert {"fulfillment.accepted", "fulfillment.shipped", "order.fulfilled"} <= set(topics)
    kinds = [kind for kind in order.events.order_by("id").values_list("kind", flat=True) if kind != "invoice_issued"]
    assert ["fulfillment_accepted", "fulfillment_picking", "fulfillment_packed", "shipped"] == kinds[-4:]


def test_an_illegal_step_is_a_409_naming_the_current_status(api, tenant, shop):
    _, fulfillment = _routed(api, tenant, shop)

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dhl"}, format="json")
    twice = api.post(f"/api/v1/fulfillments/{fulfillment.id}/pick/", {}, format="json")

    assert answer.status_code == 409
    assert answer.json()["current"] == "pending" and "pending" in answer.json()["detail"]
    assert twice.status_code == 409 and twice.json()["current"] == "pending"
    assert not Shipment.objects.for_tenant(tenant).exists()


def test_a_partial_shipment_keeps_the_rest_packed_until_it_ships(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    line_a = order.lines.get(sku=shop.a.sku)
    _to_packed(api, fulfillment.id)

    first = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/",
        {"carrier": "dpd", "lines": [{"order_line": line_a.id, "quantity": 1}]},
        format="json",
    )

    assert first.status_code == 201
    assert api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()["status"] == "packed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_FULFILLED
    too_many = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/",
        {"carrier": "dpd", "lines": [{"order_line": line_a.id, "quantity": 2}]},
        format="json",
    )
    assert too_many.status_code == 400 and "lines[0].quantity" in too_many.json()["errors"]

    rest = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"}, format="json")

    assert rest.status_code == 201
    assert sorted((line["sku"], line["quantity"]) for line in rest.json()["lines"]) == [
        (shop.a.sku, 1),
        (shop.b.sku, 1),
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()["status"] == "shipped"
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_a_rejection_reroutes_and_never_back_to_a_location_that_rejected(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    first_location = fulfillment.location
    on_hand = _level(tenant, shop.a, first_location).on_hand

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/reject/", {"reason": "out_of_stock"}, format="json")

    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
    assert answer.json()["reject_reason"] == "out_of_stock"
    # The stock was not there: written off the rejecting location through the ledger.
    assert _level(tenant, shop.a, first_location).on_hand == on_hand - 2
    adjustments = StockMovement.objects.for_tenant(tenant).filter(
        kind=MovementKind.ADJUSTMENT, stock_level__location=first_location, reason__startswith="rejected"
    )
    assert sorted(adjustments.values_list("quantity", flat=True)) == [-2, -1]
    second = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order, status="pending").get()
    assert second.location != first_location
    assert second.decision.kind == RoutingDecision.Kind.REJECTION
    assert first_location.code not in second.decision.plan

    # The second location rejects too: the units go to the third, never back to the first.
    api.post(f"/api/v1/fulfillments/{second.id}/reject/", {"reason": "no_capacity"}, format="json")
    third = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order, status="pending").first()
    order.refresh_from_db()
    if third is not None:
        assert third.location not in (first_location, second.location)
    reserved_at = set(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order=order, status="active")
        .values_list("stock_level__location_id", flat=True)
    )
    assert first_location.id not in reserved_at and second.location_id not in reserved_at
    # no_capacity keeps the stock where it is.
    assert (
        not StockMovement.objects.for_tenant(tenant)
        .filter(kind=MovementKind.ADJUSTMENT, stock_level__location=second.location)
        .exists()
    )
    assert "fulfillment.rejected" in _topics(tenant)
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_units_no_location_can_take_after_a_rejection_wait_for_stock(api, tenant, shop):
    # Only the first warehouse has product C; rejecting it leaves nobody: the units are backordered.
    for location in (shop.wh2, shop.store):
        stock(tenant, shop.c, location, 0)
    order, fulfillment = _routed(
        api, tenant, shop, lines=[{"sku": shop.c.sku, "quantity": 2, "unit_price": "10.00", "tax": "2.00"}]
    )
    assert fulfillment.location == shop.wh1

    api.post(f"/api/v1/fulfillments/{fulfillment.id}/reject/", {"reason": "damaged"}, format="json")

    order.refresh_from_db()
    line = order.lines.get()
    assert (line.quantity_allocated, line.quantity_backordered) == (0, 2)
    assert order.status == OrderStatus.BACKORDERED
    assert _level(tenant, shop.c, shop.wh1).reserved == 0


def test_a_partial_rejection_leaves_the_rest_with_the_location(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    line_a = order.lines.get(sku=shop.a.sku)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")

    answer = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/reject/",
        {"reason": "damaged", "lines": [{"order_line": line_a.id, "quantity": 1}]},
        format="json",
    )

    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    lines = {line["sku"]: line for line in answer.json()["lines"]}
    assert (lines[shop.a.sku]["quantity_rejected"], lines[shop.a.sku]["quantity_open"]) == (1, 1)
    rerouted = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).exclude(id=fulfillment.id).get()
    assert [(line.order_line_id, line.quantity) for line in rerouted.lines.all()] == [(line_a.id, 1)]
    assert rerouted.location != fulfillment.location


def test_rejecting_with_an_unknown_reason_or_line_is_a_400(api, tenant, shop):
    _, fulfillment = _routed(api, tenant, shop)

    reason = api.post(f"/api/v1/fulfillments/{fulfillment.id}/reject/", {"reason": "bored"}, format="json")
    line = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/reject/",
        {"reason": "damaged", "lines": [{"order_line": 999999, "quantity": 1}]},
        format="json",
    )

    assert reason.status_code == 400 and "reason" in reason.json()["errors"]
    assert line.status_code == 400 and "lines[0].order_line" in line.json()["errors"]
    assert FulfillmentOrder.objects.for_tenant(tenant).get(id=fulfillment.id).status == "pending"


def test_cancelling_the_order_cancels_its_open_fulfilment_orders_and_releases_the_stock(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")

    answer = api.post(f"/api/v1/orders/{order.id}/cancel/", {"reason": "customer"}, format="json")

    assert answer.status_code == 200
    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled" and fulfillment.closed_at is not None
    assert _level(tenant, shop.a, fulfillment.location).reserved == 0
    late = api.post(f"/api/v1/fulfillments/{fulfillment.id}/pick/", {}, format="json")
    assert late.status_code == 409 and late.json()["current"] == "cancelled"


def test_cancelling_some_units_takes_them_off_the_fulfilment_order(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    line_a = order.lines.get(sku=shop.a.sku)

    api.post(
        f"/api/v1/orders/{order.id}/cancel/",
        {"reason": "one is enough", "lines": [{"id": line_a.id, "quantity": 1}]},
        format="json",
    )

    lines = {line["sku"]: line for line in api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()["lines"]}
    assert (lines[shop.a.sku]["quantity_cancelled"], lines[shop.a.sku]["quantity_open"]) == (1, 1)
    _to_packed(api, fulfillment.id)
    shipped = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "ups"}, format="json")
    assert shipped.status_code == 201
    assert sorted((line["sku"], line["quantity"]) for line in shipped.json()["lines"]) == [
        (shop.a.sku, 1),
        (shop.b.sku, 1),
    ]
    assert Order.all_tenants.get(id=order.id).status == OrderStatus.FULFILLED


def test_a_held_order_cannot_be_worked_until_released(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    api.post(f"/api/v1/orders/{order.id}/hold/", {"reason": "fraud check", "kind": "fraud"}, format="json")

    answer = api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")

    assert answer.status_code == 409 and answer.json()["current"] == "on_hold"
    api.post(f"/api/v1/orders/{order.id}/release/", {}, format="json")
    assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json").status_code == 200


def test_carrier_tracking_is_recorded_once_and_delivery_delivers_the_order(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    _to_packed(api, fulfillment.id)
    shipment = api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/",
        {"carrier": "chronopost", "tracking_numbers": ["XY1"]},
        format="json",
    ).json()
    url = f"/api/v1/shipments/{shipment['id']}/events/"
    report = {"status": "in_transit", "occurred_at": "2026-12-01T10:00:00Z", "detail": "Lyon hub"}

    first = api.post(url, report, format="json")
    again = api.post(url, report, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert [e["status"] for e in again.json()["events"]] == ["in_transit"]
    assert first.json()["status"] == "in_transit"
    bad = api.post(url, {"status": "shipped"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]

    delivered = api.post(url, {"status": "delivered", "occurred_at": "2026-12-02T09:30:00Z"}, format="json")

    assert delivered.status_code == 201
    assert delivered.json()["status"] == "delivered" and delivered.json()["delivered_at"].startswith("2026-12-02")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert {"shipment.delivered", "order.delivered"} <= set(_topics(tenant))
    twice = api.post(url, {"status": "delivered", "occurred_at": "2026-12-02T09:30:00Z"}, format="json")
    assert twice.status_code == 200
    listed = api.get(f"/api/v1/shipments/?order={order.id}").json()["results"]
    assert [s["id"] for s in listed] == [shipment["id"]]


def test_the_order_shows_its_fulfilment_shipments_and_routing_decision(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    _to_packed(api, fulfillment.id)
    api.post(
        f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "gls", "tracking_numbers": ["G1"]}, format="json"
    )

    body = api.get(f"/api/v1/orders/{order.id}/").json()

    [shown] = body["fulfillments"]
    assert shown["id"] == fulfillment.id and shown["location"] == fulfillment.location.code
    assert shown["status"] == "shipped"
    assert sorted((line["sku"], line["quantity"]) for line in shown["lines"]) == [(shop.a.sku, 2), (shop.b.sku, 1)]
    assert shown["shipments"][0]["carrier"] == "gls" and body["shipments"][0]["tracking_numbers"] == ["G1"]
    [decision] = body["routing_decisions"]
    assert decision["kind"] == "initial" and decision["policy_version"] >= 1
    assert {reason["location"] for reason in decision["reasons"]} == {shop.wh1.code, shop.wh2.code, shop.store.code}
    assert [entry["location"] for entry in decision["plan"]] == [fulfillment.location.code]


def test_the_list_filters_by_location_status_and_order(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    other, _ = _routed(api, tenant, shop)
    api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json")

    by_status = api.get("/api/v1/fulfillments/?status=accepted").json()["results"]
    by_order = api.get(f"/api/v1/fulfillments/?order={other.id}").json()["results"]
    by_location = api.get(f"/api/v1/fulfillments/?location={fulfillment.location.code}").json()["results"]
    bad = api.get("/api/v1/fulfillments/?status=lost")

    assert [f["id"] for f in by_status] == [fulfillment.id]
    assert [f["order"] for f in by_order] == [other.id]
    assert len(by_location) == 2
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_a_manual_reroute_leaves_out_the_named_locations_all_or_nothing(api, tenant, shop):
    order, fulfillment = _routed(api, tenant, shop)
    assert fulfillment.location == shop.wh1

    answer = api.post(f"/api/v1/orders/{order.id}/reroute/", {"exclude": [shop.wh1.code]}, format="json")

    assert answer.status_code == 200, answer.json()
    assert [f["location"] for f in answer.json()] == [shop.wh2.code]
    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled"
    assert _level(tenant, shop.a, shop.wh1).reserved == 0 and _level(tenant, shop.a, shop.wh2).reserved == 2
    decision = RoutingDecision.objects.for_tenant(tenant).filter(order=order).latest("id")
    assert decision.kind == RoutingDecision.Kind.REROUTE

    nowhere = api.post(
        f"/api/v1/orders/{order.id}/reroute/",
        {"exclude": [shop.wh1.code, shop.wh2.code, shop.store.code]},
        format="json",
    )

    assert nowhere.status_code == 409 and nowhere.json()["unfilled"]
    assert _level(tenant, shop.a, shop.wh2).reserved == 2
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order=order, status="pending").count() == 1
    unknown = api.post(f"/api/v1/orders/{order.id}/reroute/", {"exclude": ["NOWHERE"]}, format="json")
    assert unknown.status_code == 400 and "exclude[0]" in unknown.json()["errors"]


def test_backordered_units_are_routed_when_stock_arrives(tenant):
    from fulfillment.tasks import route_backorders_after_stock_event

    shop = build_shop(tenant, allow_backorders=True, code="BO")
    for location in (shop.wh1, shop.wh2, shop.store):
        stock(tenant, shop.c, location, 0)
    api = make_api_client(tenant)
    order = _place(api, shop, lines=[{"sku": shop.c.sku, "quantity": 3, "unit_price": "10.00", "tax": "2.00"}])
    allocate_order(tenant=tenant, order_id=order.id)
    assert Order.all_tenants.get(id=order.id).status == OrderStatus.BACKORDERED
    stock(tenant, shop.c, shop.wh2, 3)
    event = OutboxEvent.objects.create(tenant=tenant, topic="stock.adjusted", payload={"skus": [shop.c.sku]})

    assert route_backorders_after_stock_event(event) == 3
    assert route_backorders_after_stock_event(event) == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    [fulfillment] = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order)
    assert fulfillment.location == shop.wh2 and fulfillment.decision.kind == RoutingDecision.Kind.BACKORDER
    assert _level(tenant, shop.c, shop.wh2).reserved == 3


def test_a_new_pickup_store_cancels_the_old_stores_work_and_routes_again(api, tenant, shop):
    other_store = build_shop(tenant, code="ALT").store
    from tests import factories

    factories.ChannelLocationFactory(tenant=tenant, channel=shop.channel, location=other_store, priority=5)
    for product in (shop.a, shop.b):
        stock(tenant, product, other_store, 5)
    body = {"method": "pickup", "pickup_location": shop.store.code}
    order, fulfillment = _routed(api, tenant, shop, delivery=body)
    assert fulfillment.location == shop.store

    answer = api.patch(
        f"/api/v1/orders/{order.id}/",
        {"version": Order.all_tenants.get(id=order.id).version, "delivery": {"pickup_location": other_store.code}},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled"
    assert Order.all_tenants.get(id=order.id).status == OrderStatus.PLACED
    allocate_order(tenant=tenant, order_id=order.id)
    moved = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order, status="pending").get()
    assert moved.location == other_store and moved.decision.kind == RoutingDecision.Kind.REROUTE


def test_the_sweep_on_beat_routes_backorders_a_stock_event_missed(tenant):
    from fulfillment.tasks import sweep_backorders

    shop = build_shop(tenant, allow_backorders=True, code="SW")
    for location in (shop.wh1, shop.wh2, shop.store):
        stock(tenant, shop.c, location, 0)
    api = make_api_client(tenant)
    order = _place(api, shop, lines=[{"sku": shop.c.sku, "quantity": 2, "unit_price": "10.00", "tax": "2.00"}])
    # Stock comes back without any stock.adjusted event reaching routing (a cancelled order's units, say).
    StockLevel.objects.for_tenant(tenant).filter(product=shop.c, location=shop.wh1).update(on_hand=2)
    StockMovement.objects.create(
        tenant=tenant,
        stock_level=StockLevel.objects.for_tenant(tenant).get(product=shop.c, location=shop.wh1),
        kind=MovementKind.RECEIPT,
        quantity=2,
        actor_label="tests",
    )

    assert sweep_backorders() == 2

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert FulfillmentOrder.objects.for_tenant(tenant).get(order=order).location == shop.wh1


def test_a_changed_pickup_store_goes_back_to_the_routing_queue(api, tenant, shop):
    from fulfillment.apps import FulfillmentConfig  # noqa: F401  (the handlers are registered at start-up)
    from oms.outbox import _HANDLERS

    assert "fulfillment.tasks.route_after_order_event" in _HANDLERS["order.updated"]
    assert "fulfillment.tasks.route_backorders_after_stock_event" in _HANDLERS["stock.adjusted"]
