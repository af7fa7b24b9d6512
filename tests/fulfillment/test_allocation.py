"""Allocation: a placed order is routed, its reservations move to the chosen locations, fulfilment orders are
created and the decision is recorded; twice is harmless, held orders wait, the ledger holds."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder, RoutingDecision
from fulfillment.services.allocation import allocate_order
from fulfillment.tasks import route_after_order_event, sweep_unrouted
from inventory.models import Reservation, StockLevel
from oms.api.scope import Scope
from oms.models import OutboxEvent
from orders import services
from orders.models import Order, OrderStatus
from tests.orders.support import ACTOR, build_shop, order_body, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _place(api, shop, **overrides):
    answer = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert answer.status_code == 201, answer.json()
    return Order.all_tenants.get(id=answer.json()["id"])


def _reserved_at(order):
    rows = Reservation.all_tenants.filter(order_line__order=order, status=Reservation.Status.ACTIVE)
    return sorted(
        (r.stock_level.location.code, r.order_line.sku, r.quantity)
        for r in rows.select_related("stock_level__location", "order_line")
    )


def test_a_placed_order_is_allocated_where_the_policy_says(api, tenant, shop):
    # Intake reserves at the first warehouse of the pool; the policy prefers the nearest, the second warehouse.
    shop.wh1.latitude, shop.wh1.longitude = 43.2965, 5.3698  # Marseille
    shop.wh2.latitude, shop.wh2.longitude = 48.8566, 2.3522  # Paris
    for location in (shop.wh1, shop.wh2):
        location.save()
    api.put("/api/v1/routing/policy/", {"policy": {"objectives": ["fewest_shipments", "nearest"]}}, format="json")
    order = _place(api, shop)
    assert {code for code, _, _ in _reserved_at(order)} == {shop.wh1.code}

    decision = allocate_order(tenant=tenant, order_id=order.id)

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED and order.allocated_at is not None
    assert _reserved_at(order) == [(shop.wh2.code, shop.a.sku, 2), (shop.wh2.code, shop.b.sku, 1)]
    assert decision.policy_version == 2 and list(decision.plan) == [shop.wh2.code]
    assert {r["location"] for r in decision.reasons} == {shop.wh1.code, shop.wh2.code, shop.store.code}
    [fulfillment] = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order)
    assert fulfillment.location == shop.wh2 and fulfillment.status == "pending"
    assert sorted((line.order_line.sku, line.quantity) for line in fulfillment.lines.all()) == [
        (shop.a.sku, 2),
        (shop.b.sku, 1),
    ]
    topics = set(OutboxEvent.objects.for_tenant(tenant).values_list("topic", flat=True))
    assert {"order.allocated", "fulfillment.created"} <= topics
    levels = {
        lvl.location.code: lvl.reserved
        for lvl in StockLevel.objects.for_tenant(tenant).filter(product=shop.a).select_related("location")
    }
    assert levels[shop.wh1.code] == 0 and levels[shop.wh2.code] == 2
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_allocating_twice_changes_nothing(api, tenant, shop):
    order = _place(api, shop)

    first = allocate_order(tenant=tenant, order_id=order.id)
    second = allocate_order(tenant=tenant, order_id=order.id)

    assert first is not None and second is None
    assert RoutingDecision.objects.for_tenant(tenant).filter(order=order).count() == 1
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).count() == 1


def test_an_order_that_must_split_gets_one_fulfilment_order_per_location(api, tenant, shop):
    stock(tenant, shop.a, shop.wh1, 0)
    stock(tenant, shop.b, shop.wh2, 0)
    stock(tenant, shop.a, shop.store, 0)
    stock(tenant, shop.b, shop.store, 0)
    order = _place(api, shop)

    allocate_order(tenant=tenant, order_id=order.id)

    fulfillments = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).select_related("location")
    assert sorted(f.location.code for f in fulfillments) == sorted([shop.wh1.code, shop.wh2.code])
    assert _reserved_at(order) == sorted([(shop.wh2.code, shop.a.sku, 2), (shop.wh1.code, shop.b.sku, 1)])


def test_a_held_order_waits_and_is_routed_once_released(api, tenant, shop):
    order = _place(api, shop, hold={"kind": "fraud", "reason": "check"})
    assert allocate_order(tenant=tenant, order_id=order.id) is None

    services.release_hold(scope=Scope(tenant=tenant, actor=ACTOR), order_id=order.id)
    assert allocate_order(tenant=tenant, order_id=order.id) is not None

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_the_order_events_hand_orders_to_routing_and_the_sweep_catches_the_rest(
    api, tenant, shop, django_capture_on_commit_callbacks, monkeypatch
):
    order = _place(api, shop)
    sent = []
    monkeypatch.setattr("fulfillment.tasks.allocate_order_task.delay", lambda *args: sent.append(args))
    event = OutboxEvent.objects.for_tenant(tenant).get(topic="order.placed")

    with django_capture_on_commit_callbacks(execute=True):
        route_after_order_event(event)
    assert sent == [(tenant.id, order.id)]

    Order.all_tenants.filter(id=order.id).update(updated_at=order.updated_at.replace(year=2020))
    assert sweep_unrouted() == 1 and sent[-1] == (tenant.id, order.id)
