"""Demo data: the demo orders (orders.demo) are routed and worked through the fulfilment services, so that the
board, the shipments and the order pages show every step: pending, accepted, picking, packed, shipped in part or
in full, in transit, delivered, completed. Safe to run again: an order that moved on is left alone."""

from datetime import timedelta

from fulfillment.models import FulfillmentOrder
from fulfillment.services import execution, tracking
from fulfillment.services.allocation import allocate_order, waits_for_routing
from oms.api.scope import Scope
from oms.errors import DomainError
from orders import services as order_services
from orders.demo import scenario_of
from orders.models import Order, OrderStatus

# How far each scenario goes: the steps every fulfilment order of the order takes.
STEPS = {
    "allocated": (),
    "lines_cancelled": ("accept",),
    "pickup": ("accept", "pick"),
    "partially_fulfilled": ("accept", "pick", "pack", "ship_some"),
    "fulfilled": ("accept", "pick", "pack", "ship"),
    "delivered": ("accept", "pick", "pack", "ship", "in_transit", "delivered"),
    "completed": ("accept", "pick", "pack", "ship", "in_transit", "delivered", "complete"),
}
CARRIERS = ("colissimo", "chronopost", "dpd")


def seed_demo(tenant, stdout) -> None:
    scope = Scope.system(tenant, "demo")
    advanced = 0
    demo_orders = Order.objects.for_tenant(tenant).filter(external_ref__startswith="DEMO-").order_by("id")
    for order in demo_orders:
        scenario = scenario_of(order.external_ref)
        if scenario not in STEPS or order.status not in (OrderStatus.PLACED, OrderStatus.BACKORDERED):
            continue
        if not waits_for_routing(order):
            continue
        try:
            if allocate_order(tenant=tenant, order_id=order.id) is None:
                continue
            _work(scope, order, STEPS[scenario])
        except DomainError as exc:
            stdout.write(f"  {order.external_ref}: {exc.detail}")
            continue
        advanced += 1
    stdout.write(f"  {advanced} demo order(s) routed and worked.")


def _work(scope: Scope, order, steps: tuple) -> None:
    fulfillments = list(FulfillmentOrder.objects.for_tenant(scope.tenant).filter(order=order).order_by("id"))
    for index, fulfillment in enumerate(fulfillments):
        carrier = CARRIERS[(order.id + index) % len(CARRIERS)]
        for step in steps:
            if step == "accept":
                execution.accept(scope=scope, fulfillment_id=fulfillment.id)
            elif step == "pick":
                execution.start_picking(scope=scope, fulfillment_id=fulfillment.id)
            elif step == "pack":
                execution.pack(scope=scope, fulfillment_id=fulfillment.id, parcels=[{"weight_kg": "1.250"}])
            elif step in ("ship", "ship_some"):
                some = None
                if step == "ship_some" and index == 0:
                    first = fulfillment.lines.order_by("id").first()
                    some = [execution.Units(first.order_line_id, 1)]
                shipment = execution.ship(
                    scope=scope,
                    fulfillment_id=fulfillment.id,
                    carrier=carrier,
                    service="standard",
                    tracking_numbers=[f"DEMO{order.id:06d}{index}FR"],
                    lines=some,
                )
                fulfillment.shipment = shipment
            elif step in ("in_transit", "delivered"):
                hours = 20 if step == "in_transit" else 40
                tracking.record_tracking(
                    scope=scope,
                    shipment_id=fulfillment.shipment.id,
                    status=step,
                    occurred_at=fulfillment.shipment.shipped_at + timedelta(hours=hours),
                    detail="Lyon hub" if step == "in_transit" else "Left with the customer",
                )
    if "complete" in steps:
        order_services.complete_order(tenant=scope.tenant, order_id=order.id, actor=scope.actor)
