"""A pickup store without the stock: routing has a location that ships send the units by a stock transfer (the
reason recorded like any routing decision), the store's fulfilment order waits for it, the units travel through
the ledger (transfer out, transfer in), are reserved at the store on receipt, and the order is then worked and
collected like any other."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder, RoutingDecision
from fulfillment.services.allocation import allocate_order
from fulfillment.services.backorders import route_backorders
from inventory.models import Reservation, StockLevel, Transfer
from oms.models import OutboxEvent
from orders.models import Order, OrderStatus
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    shop = build_shop(tenant)
    stock(tenant, shop.a, shop.store, 0)
    return shop


def place(api, tenant, shop) -> tuple[Order, FulfillmentOrder]:
    body = order_body(
        shop,
        delivery={"method": "pickup", "pickup_location": shop.store.code},
        lines=[{"sku": shop.a.sku, "quantity": 2, "unit_price": "10.00"}],
    )
    answer = api.post("/api/v1/orders/", body, format="json")
    assert answer.status_code == 201, answer.json()
    order = Order.all_tenants.get(id=answer.json()["id"])
    allocate_order(tenant=tenant, order_id=order.id)
    return order, FulfillmentOrder.objects.for_tenant(tenant).get(order=order)


def level(tenant, product, location):
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=location)


def test_a_pickup_store_without_the_stock_gets_it_by_a_transfer_and_then_hands_the_order_over(api, tenant, shop):
    order, fulfillment = place(api, tenant, shop)

    # Routed: the store waits for a transfer from the first warehouse, which holds the units meanwhile.
    assert fulfillment.location_id == shop.store.id and fulfillment.status == "awaiting_transfer"
    transfer = fulfillment.transfer
    assert (transfer.source_id, transfer.destination_id, transfer.status) == (shop.wh1.id, shop.store.id, "draft")
    assert [(line.product_id, line.quantity) for line in transfer.lines.all()] == [(shop.a.id, 2)]
    assert level(tenant, shop.a, shop.wh1).reserved == 2
    decision = RoutingDecision.objects.for_tenant(tenant).get(order=order)
    reasons = {reason["location"]: reason for reason in decision.reasons}
    assert reasons[shop.wh1.code]["chosen"] and reasons[shop.wh1.code]["code"] == "transfer_to_store"
    assert reasons[shop.store.code]["code"] == "no_stock" and not reasons[shop.store.code]["chosen"]
    shown = api.get(f"/api/v1/fulfillments/{fulfillment.id}/").json()
    assert shown["status"] == "awaiting_transfer" and shown["transfer"] == transfer.number
    created = OutboxEvent.objects.for_tenant(tenant).get(topic="fulfillment.created").payload
    assert (created["location"], created["status"], created["transfer"]) == (
        shop.store.code,
        "awaiting_transfer",
        transfer.number,
    )
    assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/accept/", {}, format="json").status_code == 409

    # Shipped: released at the warehouse, the units travel; backorder routing leaves them alone.
    assert api.post(f"/api/v1/inventory/transfers/{transfer.id}/ship/", {}, format="json").status_code == 200
    wh1 = level(tenant, shop.a, shop.wh1)
    assert (wh1.on_hand, wh1.reserved) == (8, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    assert route_backorders(tenant=tenant) == 0
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).count() == 1
    fulfillment.refresh_from_db()
    assert fulfillment.status == "awaiting_transfer" and fulfillment.lines.get().quantity_open == 2

    # Received: reserved at the store for the order, the fulfilment order workable.
    assert api.post(f"/api/v1/inventory/transfers/{transfer.id}/receive/", {}, format="json").status_code == 200
    store = level(tenant, shop.a, shop.store)
    assert (store.on_hand, store.reserved) == (2, 2)
    fulfillment.refresh_from_db()
    order.refresh_from_db()
    assert fulfillment.status == "pending" and order.status == OrderStatus.ALLOCATED
    assert Reservation.objects.for_tenant(tenant).get(order_line__order=order, status="active").quantity == 2

    for step in ("accept", "pick", "pack", "ready"):
        assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
    code = OutboxEvent.objects.for_tenant(tenant).get(topic="order.ready_for_pickup").payload["pickup_code"]
    collected = api.post(f"/api/v1/fulfillments/{fulfillment.id}/collect/", {"pickup_code": code}, format="json")
    assert collected.status_code == 200, collected.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    store = level(tenant, shop.a, shop.store)
    assert (store.on_hand, store.reserved) == (0, 0)
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_an_order_cancelled_while_its_transfer_travels_leaves_the_units_to_the_store(api, tenant, shop):
    order, fulfillment = place(api, tenant, shop)
    transfer = fulfillment.transfer
    api.post(f"/api/v1/inventory/transfers/{transfer.id}/ship/", {}, format="json")

    assert api.post(f"/api/v1/orders/{order.id}/cancel/", {"reason": "customer"}, format="json").status_code == 200
    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled"
    api.post(f"/api/v1/inventory/transfers/{transfer.id}/receive/", {}, format="json")

    store = level(tenant, shop.a, shop.store)
    assert (store.on_hand, store.reserved) == (2, 0)
    assert Transfer.objects.for_tenant(tenant).get(id=transfer.id).status == "received"
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_units_short_on_receipt_are_taken_off_the_store_and_wait_for_stock(api, tenant, shop):
    order, fulfillment = place(api, tenant, shop)
    transfer = fulfillment.transfer
    api.post(f"/api/v1/inventory/transfers/{transfer.id}/ship/", {}, format="json")

    short = {"lines": [{"sku": shop.a.sku, "received": 1}]}
    answer = api.post(f"/api/v1/inventory/transfers/{transfer.id}/receive/", short, format="json")

    assert answer.status_code == 200, answer.json()
    fulfillment.refresh_from_db()
    line = fulfillment.lines.get()
    assert fulfillment.status == "pending" and (line.quantity_open, line.quantity_cancelled) == (1, 1)
    order_line = order.lines.get()
    assert (order_line.quantity_allocated, order_line.quantity_backordered) == (1, 1)
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_a_cancelled_draft_transfer_sends_the_units_back_to_routing(api, tenant, shop):
    order, fulfillment = place(api, tenant, shop)
    transfer = fulfillment.transfer

    assert api.post(f"/api/v1/inventory/transfers/{transfer.id}/cancel/", {}, format="json").status_code == 200

    fulfillment.refresh_from_db()
    assert fulfillment.status == "cancelled"
    assert level(tenant, shop.a, shop.wh1).reserved == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    # Backorder routing asks again: the store still lacks the units, so another transfer is requested.
    assert route_backorders(tenant=tenant) == 2
    again = FulfillmentOrder.objects.for_tenant(tenant).filter(order=order).exclude(id=fulfillment.id).get()
    assert again.status == "awaiting_transfer" and again.transfer_id != transfer.id
    call_command("check_stock_ledger", "--tenant", tenant.slug)
