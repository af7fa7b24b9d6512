"""Backorders: units an order waits for are routed when stock arrives (a receipt, a return, a transfer, a count
that finds more), oldest order first, by the same engine and policy as every other routing decision. The units
found are reserved where the plan puts them and get their fulfilment orders; the rest keeps waiting."""

from dataclasses import replace

from django.db import transaction

from fulfillment.models import RoutingDecision
from fulfillment.services.allocation import ROUTING, allocate_order, waits_for_routing
from fulfillment.services.plans import create_fulfillments, placements_of, record_decision
from fulfillment.services.routing import RoutingQuestion, question_for_order, route
from fulfillment.services.store_transfers import units_in_transit
from oms.errors import InsufficientStock
from oms.models import Tenant
from orders import services as order_services
from orders import states
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus

ATTEMPTS = 3


def route_order_backorders(*, tenant: Tenant, order_id: int) -> int:
    """Route the order's backordered units now; the units placed (0 when none can be)."""
    order = Order.objects.for_tenant(tenant).select_related("channel", "pickup_location").filter(id=order_id).first()
    if order is None or order.delivery_method == DeliveryMethod.IN_STORE:
        return 0
    if waits_for_routing(order):
        allocate_order(tenant=tenant, order_id=order.id)  # its reserved units first, as at intake
        order.refresh_from_db()
    if order.status in states.TERMINAL_STATUSES or order.status == OrderStatus.ON_HOLD or order.allocated_at is None:
        return 0
    for attempt in range(ATTEMPTS):
        lines = list(order.lines.all())
        travelling = units_in_transit(tenant=tenant, order=order)
        waiting = {
            line.id: units for line in lines if (units := line.quantity_backordered - travelling.get(line.id, 0)) > 0
        }
        if not waiting:
            return 0
        base = question_for_order(order, lines)
        question = RoutingQuestion(
            channel=base.channel,
            fulfilment_type=base.fulfilment_type,
            lines=tuple(replace(line, quantity=waiting[line.key]) for line in base.lines if line.key in waiting),
            address=base.address,
            pickup_location=base.pickup_location,
        )
        answer = route(tenant=tenant, question=question)
        placements = placements_of(answer)
        if not placements:
            return 0
        try:
            with transaction.atomic():
                updated = order_services.allocate_backorders_as_planned(
                    tenant=tenant, order_id=order.id, placements=placements, actor=ROUTING
                )
                if updated is None:
                    return 0
                decision = record_decision(
                    tenant=tenant,
                    order=updated,
                    answer=answer,
                    placements=placements,
                    kind=RoutingDecision.Kind.BACKORDER,
                )
                create_fulfillments(
                    tenant=tenant, order=updated, decision=decision, placements=placements, plan=answer.plan
                )
                return sum(units for places in placements.values() for _, units in places)
        except InsufficientStock:
            if attempt == ATTEMPTS - 1:
                raise
            order.refresh_from_db()
    return 0


def route_backorders(*, tenant: Tenant, product_ids=None, limit: int = 200) -> int:
    """Route the backorders of these products (all when None), oldest order first, one transaction per order;
    the units placed."""
    waiting = (
        OrderLine.objects.for_tenant(tenant)
        .filter(quantity_backordered__gt=0)
        .exclude(order__status__in=[*states.TERMINAL_STATUSES, OrderStatus.ON_HOLD])
        .exclude(order__delivery_method=DeliveryMethod.IN_STORE)
    )
    if product_ids is not None:
        waiting = waiting.filter(product_id__in=list(product_ids))
    order_ids = list(
        dict.fromkeys(waiting.order_by("order__placed_at", "order_id").values_list("order_id", flat=True)[:limit])
    )
    return sum(route_order_backorders(tenant=tenant, order_id=order_id) for order_id in order_ids)
