"""Orders that have left the warehouse, for return tests: placed through the API, routed, shipped (and
delivered when a test says when)."""

from datetime import datetime

from fulfillment.models import FulfillmentOrder
from fulfillment.services.allocation import allocate_order
from oms.actors import Actor
from orders.models import EventKind, Order, OrderEvent
from orders.services import record_delivery
from tests.conftest import make_api_client
from tests.orders.support import order_body

ACTOR = Actor.system("tests")


def place(tenant, shop, **overrides) -> Order:
    api = make_api_client(tenant)
    answer = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert answer.status_code == 201, answer.json()
    return Order.objects.for_tenant(tenant).get(id=answer.json()["id"])


def ship(tenant, order: Order) -> Order:
    """Route the order and ship every unit from where routing sent it."""
    api = make_api_client(tenant)
    allocate_order(tenant=tenant, order_id=order.id)
    for fulfillment in FulfillmentOrder.objects.for_tenant(tenant).filter(order=order):
        for step in ("accept", "pick", "pack"):
            assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
        shipped = api.post(f"/api/v1/fulfillments/{fulfillment.id}/ship/", {"carrier": "dpd"}, format="json")
        assert shipped.status_code == 201, shipped.json()
    order.refresh_from_db()
    return order


def deliver(tenant, order: Order, at: datetime | None = None) -> Order:
    """Record the delivery; `at` dates it on the order's timeline (as if recorded then)."""
    order = record_delivery(tenant=tenant, order_id=order.id, lines=None, actor=ACTOR, delivered_at=at)
    if at is not None:
        OrderEvent.objects.for_tenant(tenant).filter(order=order, kind=EventKind.DELIVERED).update(at=at)
    return order


def shipped_order(tenant, shop, **overrides) -> Order:
    return ship(tenant, place(tenant, shop, **overrides))


def lines_of(order: Order) -> dict:
    """SKU → the order line."""
    return {line.sku: line for line in order.lines.all()}


def return_body(order: Order, *items, **extra) -> dict:
    """`items`: (sku, quantity, reason)."""
    by_sku = lines_of(order)
    return {
        "order": order.id,
        "method": extra.pop("method", "mail"),
        "lines": [{"order_line": by_sku[sku].id, "quantity": qty, "reason": reason} for sku, qty, reason in items],
        **extra,
    }
