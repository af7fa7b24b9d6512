"""Allocation: placed orders are routed by the engine and each plan applied: reserved units move to the chosen
locations (orders.services.allocate_many, the one path that moves them), one fulfilment order per location is
created, and the routing decision is recorded with its reasons and policy version.

A routing worker allocates in batches: the orders waiting for routing are read together, the channel's pool, stock
and loads once for all of them (each order of the batch sees what the ones before it took), and the plans applied
in one transaction of a few statements. If a location no longer has the units for one of them (intake took them
meanwhile), the batch is rolled back and its orders allocated one by one, from fresh figures.

Safe to run twice and from two workers at once: only a placed order is allocated, under its row lock (rows another
worker holds are skipped, not waited for), so the second run finds it allocated and does nothing. Held orders wait
for their release; in-store sales are never routed."""

from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When

from fulfillment.models import RoutingDecision
from fulfillment.selectors import pool_snapshot
from fulfillment.services.plans import create_fulfillments_for, placements_of, record_decisions
from fulfillment.services.policies import active_policy
from fulfillment.services.routing import question_for_order, route_in
from inventory.models import Location, Reservation
from inventory.sourcing import today_for
from oms.actors import Actor
from oms.db import commit_without_waiting_for_the_disk
from oms.errors import InsufficientStock
from oms.models import Tenant
from orders import services as order_services
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus

ROUTING = Actor.system("routing")
# Orders a worker allocates in one transaction: enough to share the reads among many orders, few enough that a
# batch stays a short transaction (about 2-3 ms an order).
BATCH = 100
KEPT = "The policy could not place every unit; the intake reservations are kept."


def waits_for_routing(order) -> bool:
    """Placed (or placed with some units backordered) and never allocated since: routing's to do."""
    return (
        order.status in (OrderStatus.PLACED, OrderStatus.BACKORDERED)
        and order.allocated_at is None
        and order.delivery_method != DeliveryMethod.IN_STORE
    )


def _waiting(tenant: Tenant):
    """The tenant's orders waiting for routing (waits_for_routing as a query)."""
    return (
        Order.objects.for_tenant(tenant)
        .filter(status__in=(OrderStatus.PLACED, OrderStatus.BACKORDERED), allocated_at__isnull=True)
        .exclude(delivery_method=DeliveryMethod.IN_STORE)
        .select_related("channel", "pickup_location")
    )


@dataclass
class Allocated:
    decisions: list = field(default_factory=list)
    lost: list = field(default_factory=list)  # order ids that lost a race for stock: route them again later


def allocate_order(*, tenant: Tenant, order_id: int) -> RoutingDecision | None:
    """Route a placed order and apply the plan; None when there is nothing to do (allocated already, held,
    cancelled, a store sale, another worker on it). InsufficientStock when the stock routing chose was taken
    meanwhile: route it again."""
    decisions = _allocate_batch(tenant, list(_waiting(tenant).filter(id=order_id)))
    return decisions[0] if decisions else None


def allocate_waiting(*, tenant: Tenant, first: int | None = None, limit: int = BATCH) -> Allocated:
    """Route and allocate up to `limit` of the tenant's orders waiting for routing, `first` (the order a task was
    given) before the oldest others."""
    queryset = _waiting(tenant)
    if first is not None:
        queryset = queryset.annotate(
            first=Case(When(id=first, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("first", "id")
    else:
        queryset = queryset.order_by("id")
    orders = list(queryset[:limit])
    try:
        return Allocated(decisions=_allocate_batch(tenant, orders))
    except InsufficientStock:
        pass
    # One of them lost a race for the last units somewhere: each alone now, from fresh figures.
    outcome = Allocated()
    for order in orders:
        try:
            decision = allocate_order(tenant=tenant, order_id=order.id)
        except InsufficientStock:
            outcome.lost.append(order.id)
        else:
            if decision is not None:
                outcome.decisions.append(decision)
    return outcome


def _allocate_batch(tenant: Tenant, orders: list) -> list[RoutingDecision]:
    """Route the orders from one read of their pools and apply every plan in one transaction (all or nothing:
    InsufficientStock rolls the batch back). Returns the decisions of the orders allocated."""
    if not orders:
        return []
    lines_of: dict = {}
    for line in OrderLine.objects.for_tenant(tenant).filter(order__in=orders).order_by("id"):
        lines_of.setdefault(line.order_id, []).append(line)
    rerouted = set(
        RoutingDecision.objects.for_tenant(tenant).filter(order__in=orders).values_list("order_id", flat=True)
    )
    policy, today = active_policy(tenant=tenant), today_for(tenant)
    snapshots = {}
    for channel_id in {order.channel_id for order in orders}:
        of_channel = [order for order in orders if order.channel_id == channel_id]
        snapshots[channel_id] = pool_snapshot(
            tenant=tenant,
            channel=of_channel[0].channel,
            product_ids={line.product_id for order in of_channel for line in lines_of.get(order.id, [])},
        )
    held_of = _held_units(tenant, orders, {k: v for snapshot in snapshots.values() for k, v in snapshot.by_id.items()})
    plans, answers = {}, {}
    for order in orders:
        lines = lines_of.get(order.id, [])
        snapshot = snapshots[order.channel_id]
        held_by_line, held_by_place = held_of.get(order.id, ({}, {}))
        answer = route_in(snapshot, policy=policy, today=today, question=_question(order, lines), held=held_by_place)
        if answer.plan.unfilled:
            # No plan within the policy places every unit: they stay where intake reserved them, and the decision
            # says so; the fulfilment orders follow those reservations.
            placements, note = held_by_line, KEPT
        else:
            placements, note = placements_of(answer), "Allocated by routing."
        _take_from(snapshot, lines, held_by_line, placements)
        plans[order.id] = (order, lines, placements, note)
        answers[order.id] = answer
    with transaction.atomic():
        commit_without_waiting_for_the_disk()  # a lost allocation is routed again by the sweep
        allocated = order_services.allocate_many(tenant=tenant, plans=list(plans.values()), actor=ROUTING)
        decisions = record_decisions(
            tenant=tenant,
            decided=[
                (
                    order,
                    answers[order.id],
                    plans[order.id][2],
                    RoutingDecision.Kind.REROUTE if order.id in rerouted else RoutingDecision.Kind.INITIAL,
                )
                for order in allocated
            ],
        )
        create_fulfillments_for(
            tenant=tenant,
            planned=[
                (order, decision, plans[order.id][2], answers[order.id].plan)
                for order, decision in zip(allocated, decisions, strict=True)
            ],
        )
    return decisions


def _question(order, lines):
    """Routing places the units reserved at intake; backordered units are placed when stock arrives for them."""
    question = question_for_order(order, lines)
    allocated = {line.id: line.quantity_allocated for line in lines}
    return replace(
        question,
        lines=tuple(replace(line, quantity=allocated[line.key]) for line in question.lines if allocated[line.key]),
    )


def _held_units(tenant: Tenant, orders, locations: dict) -> dict:
    """{order id: ({order line id: [(location, units)]}, {(product id, location id): units})}: where the orders'
    active reservations are, by line and by place. `locations` ({id: Location}, the pools') names them; one query,
    and one more only for a reservation outside every pool."""
    rows = list(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order__in=orders, status=Reservation.Status.ACTIVE)
        .order_by("id")
        .values_list(
            "order_line__order_id", "order_line_id", "stock_level__product_id", "stock_level__location_id", "quantity"
        )
    )
    missing = {row[3] for row in rows} - set(locations)
    if missing:
        locations = {**locations, **Location.objects.for_tenant(tenant).in_bulk(missing)}
    held: dict = {}
    for order_id, line_id, product_id, location_id, units in rows:
        by_line, by_place = held.setdefault(order_id, ({}, {}))
        by_line.setdefault(line_id, []).append((locations[location_id], units))
        by_place[(product_id, location_id)] = by_place.get((product_id, location_id), 0) + units
    return held


def _take_from(snapshot, lines, held_by_line: dict, placements: dict) -> None:
    """What the order's plan changes in the batch's pool: units taken where they go, given back where they were
    held, one more fulfilment order for each location it uses."""
    product_of = {line.id: line.product_id for line in lines}
    for line_id, places in held_by_line.items():
        for location, units in places:
            snapshot.take(product_of[line_id], location.id, -units)
    used = set()
    for line_id, places in placements.items():
        for location, units in places:
            snapshot.take(product_of[line_id], location.id, units)
            used.add(location.id)
    for location_id in used:
        snapshot.add_load(location_id)
