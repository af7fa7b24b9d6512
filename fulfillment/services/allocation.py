"""Allocation: a placed order is routed by the engine and the plan applied in one transaction: its reserved units
move to the chosen locations (orders.services.allocate_as_planned, the one path that moves them), one fulfilment
order per location is created, and the routing decision is recorded with its reasons and policy version.

Safe to run twice and from two workers at once: only a placed order is allocated, under its row lock, so the
second run finds it allocated and does nothing. Held orders wait for their release; in-store sales are never
routed."""

from dataclasses import replace

from django.db import transaction

from fulfillment.models import RoutingDecision
from fulfillment.services.plans import create_fulfillments, placements_of, record_decision
from fulfillment.services.routing import question_for_order, route
from inventory.models import Reservation
from oms.actors import Actor
from oms.db import commit_without_waiting_for_the_disk
from oms.errors import IllegalTransition
from oms.models import Tenant
from orders import services as order_services
from orders.models import DeliveryMethod, Order, OrderStatus

ROUTING = Actor.system("routing")


def _held_units(tenant: Tenant, order) -> dict:
    """{order line id: [(location, units)]} of the order's active reservations, and the same by (product, location)."""
    by_line: dict = {}
    by_place: dict = {}
    rows = Reservation.objects.for_tenant(tenant).filter(order_line__order=order, status=Reservation.Status.ACTIVE)
    for reservation in rows.select_related("stock_level__location"):
        location = reservation.stock_level.location
        by_line.setdefault(reservation.order_line_id, []).append((location, reservation.quantity))
        key = (reservation.stock_level.product_id, location.id)
        by_place[key] = by_place.get(key, 0) + reservation.quantity
    return by_line, by_place


def waits_for_routing(order) -> bool:
    """Placed (or placed with some units backordered) and never allocated since: routing's to do."""
    return (
        order.status in (OrderStatus.PLACED, OrderStatus.BACKORDERED)
        and order.allocated_at is None
        and order.delivery_method != DeliveryMethod.IN_STORE
    )


def allocate_order(*, tenant: Tenant, order_id: int) -> RoutingDecision | None:
    """Route a placed order and apply the plan; None when there is nothing to do (allocated already, held,
    cancelled, a store sale)."""
    order = Order.objects.for_tenant(tenant).select_related("channel", "pickup_location").filter(id=order_id).first()
    if order is None or not waits_for_routing(order):
        return None
    lines = list(order.lines.all())
    question = question_for_order(order, lines)
    # Routing places the units reserved at intake; backordered units are placed when stock arrives for them.
    allocated = {line.id: line.quantity_allocated for line in lines}
    question = replace(
        question,
        lines=tuple(replace(line, quantity=allocated[line.key]) for line in question.lines if allocated[line.key]),
    )
    held_by_line, held_by_place = _held_units(tenant, order)
    answer = route(tenant=tenant, question=question, held=held_by_place)
    plan = answer.plan
    if plan.unfilled:
        # No plan within the policy places every unit: they stay where intake reserved them, and the decision
        # says so; the fulfilment orders follow those reservations.
        placements = held_by_line
        note = "The policy could not place every unit; the intake reservations are kept."
    else:
        placements = placements_of(answer)
        note = "Allocated by routing."
    # An order routed before (its pickup store changed since) is re-routed.
    kind = RoutingDecision.Kind.REROUTE if order.routing_decisions.exists() else RoutingDecision.Kind.INITIAL
    try:
        with transaction.atomic():
            commit_without_waiting_for_the_disk()  # a lost allocation is routed again by the sweep
            order = order_services.allocate_as_planned(
                tenant=tenant, order_id=order.id, placements=placements, actor=ROUTING, message=note
            )
            decision = record_decision(tenant=tenant, order=order, answer=answer, placements=placements, kind=kind)
            create_fulfillments(tenant=tenant, order=order, decision=decision, placements=placements, plan=plan)
    except IllegalTransition:
        return None  # allocated (or held, or cancelled) by someone else meanwhile
    return decision
