"""Allocations racing for the last units of a location never oversell; two steps on one fulfilment order at once
are taken one after the other (threads on PostgreSQL)."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services import execution
from fulfillment.services.allocation import allocate_order
from inventory.models import StockLevel
from oms.api.scope import Scope
from oms.errors import IllegalTransition, InsufficientStock
from orders.models import Order, OrderStatus
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body, stock
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_allocations_wanting_the_same_last_units_never_oversell(tenant):
    shop = build_shop(tenant)
    for location in (shop.wh1, shop.wh2, shop.store):
        stock(tenant, shop.a, location, 0)
    stock(tenant, shop.a, shop.wh1, 4)
    stock(tenant, shop.a, shop.wh2, 2)
    # Intake reserves both orders at the first warehouse; the policy then prefers the second (nearer to Paris),
    # which can take only one of them.
    shop.wh1.latitude, shop.wh1.longitude = 43.2965, 5.3698
    shop.wh2.latitude, shop.wh2.longitude = 48.8566, 2.3522
    for location in (shop.wh1, shop.wh2):
        location.save()
    api = make_api_client(tenant)
    api.put("/api/v1/routing/policy/", {"policy": {"objectives": ["fewest_shipments", "nearest"]}}, format="json")
    body = {"lines": [{"sku": shop.a.sku, "quantity": 2, "unit_price": "10.00"}]}
    orders = [api.post("/api/v1/orders/", order_body(shop, **body), format="json").json()["id"] for _ in range(2)]

    outcomes = race(2, lambda index: allocate_order(tenant=tenant, order_id=orders[index]))

    moved = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert len(moved) + len(refused) == 2, outcomes
    assert len(moved) >= 1
    levels = {lvl.location_id: lvl for lvl in StockLevel.objects.for_tenant(tenant).filter(product=shop.a)}
    assert levels[shop.wh2.id].reserved <= levels[shop.wh2.id].on_hand == 2
    assert sum(level.reserved for level in levels.values()) == 4
    assert all(0 <= level.reserved <= level.on_hand for level in levels.values())
    # The order that lost the race is routed again from fresh figures (the task retries): it stays where it is.
    for order_id in orders:
        allocate_order(tenant=tenant, order_id=order_id)
    assert Order.all_tenants.filter(id__in=orders, status=OrderStatus.ALLOCATED).count() == 2
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def _packed(tenant, api, shop):
    order_id = api.post("/api/v1/orders/", order_body(shop), format="json").json()["id"]
    allocate_order(tenant=tenant, order_id=order_id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=order_id)
    for step in ("accept", "pick", "pack"):
        api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json")
    return order_id, fulfillment


def test_two_clerks_shipping_the_same_packed_order_at_once_ship_it_once(tenant):
    shop = build_shop(tenant)
    api = make_api_client(tenant)
    order_id, fulfillment = _packed(tenant, api, shop)
    on_hand = StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=fulfillment.location).on_hand
    scope = Scope.system(tenant, "clerk")

    outcomes = race(2, lambda index: execution.ship(scope=scope, fulfillment_id=fulfillment.id, carrier="dpd"))

    assert len(outcomes.values) == 1 and len(outcomes.errors) == 1, outcomes
    assert isinstance(outcomes.errors[0], IllegalTransition)
    assert Shipment.objects.for_tenant(tenant).count() == 1
    level = StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=fulfillment.location)
    assert level.on_hand == on_hand - 2 and level.reserved == 0
    assert Order.all_tenants.get(id=order_id).status == OrderStatus.FULFILLED
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_a_rejection_racing_a_shipment_never_loses_or_doubles_units(tenant):
    shop = build_shop(tenant)
    api = make_api_client(tenant)
    order_id, fulfillment = _packed(tenant, api, shop)
    scope = Scope.system(tenant, "clerk")

    def act(index):
        if index == 0:
            return execution.ship(scope=scope, fulfillment_id=fulfillment.id, carrier="dpd")
        return execution.reject(scope=scope, fulfillment_id=fulfillment.id, reason="no_capacity")

    outcomes = race(2, act)

    assert len(outcomes.values) == 1, outcomes
    order = Order.all_tenants.get(id=order_id)
    for line in order.lines.all():
        # Every unit is either shipped or still reserved somewhere for the order, never both, never neither.
        reserved = sum(
            StockLevel.objects.for_tenant(tenant)
            .filter(reservations__order_line=line, reservations__status="active")
            .values_list("reservations__quantity", flat=True)
        )
        assert line.quantity_shipped + reserved + line.quantity_backordered == line.quantity
    call_command("check_stock_ledger", "--tenant", tenant.slug)
