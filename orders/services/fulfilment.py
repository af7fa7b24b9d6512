"""The facts fulfilment records on an order: the allocation routing planned (at intake, after a rejection or a
re-route, when backorders arrive), units shipped (their reservations consumed through the ledger), delivered,
returned, and the order completed. Routing decides where; these are the one path that moves the order's
reserved units."""

from datetime import datetime
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory import reservations as stock
from inventory.ledger import level_for, post_movement
from inventory.models import MovementKind, Product, Reservation, StockLevel
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition
from oms.models import Tenant
from orders import invoicing, states
from orders.models import EventKind, Order, OrderStatus
from orders.promises import apply_promise, computed_promises
from orders.quantities import refuse_beyond, units_per_line
from orders.services.common import Change, commit_change, commit_changes, locked_order, snapshot
from orders.services.inputs import LineQuantity

PROMISE_FIELDS = ("promised_delivery_earliest", "promised_delivery_latest")


def allocate_as_planned(
    *, tenant: Tenant, order_id: int, placements: dict, actor: Actor, message: str = "Allocated by routing."
) -> Order:
    """Move the order's reserved units to where routing placed them and confirm the allocation: placed → allocated
    (backordered while some units still wait for stock).

    `placements` is {order line id: [(location, units)]} and must place exactly each line's allocated units. The
    order's active reservations are released and the units reserved again at those locations in one transaction
    (rows locked in (location, product) order, never oversold): if a location no longer has them, nothing moves
    and InsufficientStock says which."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if not _waits_for_allocation(order):
            raise IllegalTransition(
                f"Only an order waiting for routing is allocated; this one is {order.status}.",
                current=order.status,
                requested=OrderStatus.ALLOCATED,
            )
        lines = list(order.lines.select_related("product"))
        misplaced = _misplaced(lines, placements)
        if misplaced:
            raise ValueError(f"placements must cover each line's allocated units exactly (lines {misplaced})")
        _allocate(tenant, [(order, lines, placements, message)], actor=actor)
        return order


def allocate_many(*, tenant: Tenant, plans: list, actor: Actor) -> list[Order]:
    """allocate_as_planned for a batch of orders in one transaction, a few statements for all of them.

    `plans` is [(order, lines, placements, message)], the order and its lines as the caller read them to route it.
    The orders still waiting for routing, unchanged since that read (same version: lines change only with their
    order's version) and whose rows no one else holds, are allocated; the others (allocated or changed meanwhile,
    locked by another worker, placements that do not cover their lines) are left out. Returns the orders allocated.
    If a location no longer has the units for one of them, nothing moves and InsufficientStock says which: allocate
    them one by one then."""
    if not plans:
        return []
    with transaction.atomic():
        current = dict(
            Order.objects.for_tenant(tenant)
            .select_for_update(of=("self",), skip_locked=True)
            .filter(id__in=[order.id for order, _, _, _ in plans])
            .order_by("id")
            .values_list("id", "version")
        )
        work = [
            (order, lines, placements, message)
            for order, lines, placements, message in plans
            if current.get(order.id) == order.version
            and _waits_for_allocation(order)
            and not _misplaced(lines, placements)
        ]
        for order, _lines, _placements, _message in work:
            order.tenant = tenant
        _allocate(tenant, work, actor=actor)
        return [order for order, _, _, _ in work]


def _waits_for_allocation(order) -> bool:
    return order.status in (OrderStatus.PLACED, OrderStatus.BACKORDERED) and order.allocated_at is None


def _misplaced(lines, placements: dict) -> list:
    """The lines whose allocated units the placements do not cover exactly."""
    return [
        line.id for line in lines if sum(units for _, units in placements.get(line.id, ())) != line.quantity_allocated
    ]


def _allocate(tenant: Tenant, work: list, *, actor: Actor) -> None:
    """[(locked order, its lines, placements, message)]: release what moves, reserve it where it goes (per channel,
    all or nothing), then commit every order's allocation."""
    if not work:
        return
    befores = {order.id: snapshot(order, lines) for order, lines, _, _ in work}
    active = list(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order__in=[order.id for order, _, _, _ in work], status=Reservation.Status.ACTIVE)
        .values_list("id", "order_line_id", "stock_level__location_id", "quantity")
    )
    # A line already reserved exactly where routing places it stays as it is (the usual case): only the lines
    # that move are released and reserved again.
    held: dict = {}
    for _id, line_id, location_id, units in active:
        place = held.setdefault(line_id, {})
        place[location_id] = place.get(location_id, 0) + units
    moving: set = set()
    for _order, lines, placements, _message in work:
        moving.update(
            line.id for line in lines if held.get(line.id, {}) != _units_by_location(placements.get(line.id, ()))
        )
    stock.release_all(tenant=tenant, reservation_ids=[row[0] for row in active if row[1] in moving])
    by_channel: dict = {}
    for order, lines, placements, _message in work:
        by_id = {line.id: line for line in lines}
        by_channel.setdefault(order.channel_id, (order.channel, []))[1].extend(
            (by_id[line_id], location, units)
            for line_id, places in placements.items()
            if line_id in moving
            for location, units in places
        )
    for channel, wanted in by_channel.values():
        _hold_at(tenant=tenant, channel=channel, wanted=wanted)
    now = timezone.now()
    # Units still waiting for stock have no date: the promise is made once every unit has a location.
    promised = computed_promises(
        tenant=tenant,
        wanted=[
            (order, [location for places in placements.values() for location, _ in places])
            for order, lines, placements, _message in work
            if not any(line.quantity_backordered for line in lines)
        ],
        now=now,
    )
    changes = []
    for order, lines, _placements, message in work:
        order.allocated_at = now
        repromised = apply_promise(order, promised.get(order.id))
        changes.append(
            Change(
                order,
                lines,
                actor,
                EventKind.ALLOCATED,
                befores[order.id],
                message,
                topic="order.allocated",
                extra_fields=("allocated_at", *(PROMISE_FIELDS if repromised else ())),
            )
        )
    commit_changes(tenant, changes)


def _units_by_location(places) -> dict:
    units: dict = {}
    for location, count in places:
        units[location.id] = units.get(location.id, 0) + count
    return units


def _hold_at(*, tenant: Tenant, channel, wanted: list) -> None:
    """Reserve [(order line, location, units)] for the lines of a channel's orders, all or nothing
    (InsufficientStock)."""
    if not wanted:
        return
    # The stock rows and products in one read each; a row that does not exist yet is created by level_for. Only
    # the rows wanted are read, by location: a batch's products at every location it uses would be most of the
    # pool's rows for those products.
    products = Product.objects.for_tenant(tenant).in_bulk({line.product_id for line, _, _ in wanted})
    products_at: dict = {}
    for line, location, _units in wanted:
        products_at.setdefault(location.id, set()).add(line.product_id)
    found = {
        (level.product_id, level.location_id): level
        for level in StockLevel.objects.for_tenant(tenant).filter(
            reduce(or_, (Q(location_id=location_id, product_id__in=ids) for location_id, ids in products_at.items()))
        )
    }
    holds = []
    for line, location, units in wanted:
        level = found.get((line.product_id, location.id))
        product = products[line.product_id]
        if level is None:
            level = level_for(tenant=tenant, product=product, location=location)
            found[(line.product_id, location.id)] = level
        else:
            level.product, level.location = product, location
        holds.append(stock.Hold(level=level, quantity=units, order_line=line, reference=str(line.id)))
    stock.hold(tenant=tenant, holds=holds, channel=channel)


def _placed(by_id: dict, placements: dict) -> list:
    """[(order line, location, units)] of {order line id: [(location, units)]}."""
    return [(by_id[line_id], location, units) for line_id, places in placements.items() for location, units in places]


def move_units(
    *,
    tenant: Tenant,
    order_id: int,
    taken: dict,
    placements: dict,
    actor: Actor,
    kind: str,
    message: str,
    write_off_reason: str = "",
    payload: dict | None = None,
) -> Order:
    """Take reserved units away from locations and reserve them where routing placed them now, in one transaction.

    `taken` is {(location id, order line id): units} reserved there; `placements` is {order line id: [(location,
    units)]} for some or all of those units; units taken and not placed wait for stock (backordered). With
    `write_off_reason` the taken units are also written off their location's stock through the ledger (an
    adjustment: the location said they are not there), as far as its unreserved stock goes. If a placement no
    longer has the units, nothing moves and InsufficientStock says which."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status in states.TERMINAL_STATUSES:
            raise IllegalTransition(current=order.status, requested="rerouted")
        lines = list(order.lines.select_related("product"))
        by_id = {line.id: line for line in lines}
        before = snapshot(order, lines)
        released = _release_at(tenant=tenant, order=order, taken=taken)
        if write_off_reason:
            _write_off(tenant=tenant, released=released, by_id=by_id, actor=actor, reason=write_off_reason, order=order)
        taken_per_line: dict = {}
        for (_location_id, line_id), units in taken.items():
            taken_per_line[line_id] = taken_per_line.get(line_id, 0) + units
        for line_id, places in placements.items():
            placed = sum(units for _, units in places)
            if placed > taken_per_line.get(line_id, 0):
                raise ValueError(f"line {line_id}: {placed} units placed, {taken_per_line.get(line_id, 0)} taken")
        _hold_at(tenant=tenant, channel=order.channel, wanted=_placed(by_id, placements))
        for line_id, units in taken_per_line.items():
            waiting = units - sum(placed for _, placed in placements.get(line_id, ()))
            by_id[line_id].quantity_allocated -= waiting
            by_id[line_id].quantity_backordered += waiting
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=kind,
            message=message,
            before=before,
            payload=payload,
        )


def _release_at(*, tenant: Tenant, order, taken: dict) -> dict:
    """Release the taken units from the order's reservations at those locations; {(location id, line id):
    (stock row, units)}. Rows are locked in (location, product) order like every other stock write."""
    active = list(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order=order, status=Reservation.Status.ACTIVE)
        .select_related("stock_level")
        .order_by("id")
    )
    work, released = [], {}
    for (location_id, line_id), units in taken.items():
        rest = units
        for reservation in active:
            if rest == 0:
                break
            if reservation.order_line_id == line_id and reservation.stock_level.location_id == location_id:
                take = min(rest, reservation.quantity)
                work.append((reservation, take))
                rest -= take
        if rest:
            raise Conflict(
                f"Order line {line_id} has fewer than {units} units reserved at that location.", line_id=line_id
            )
    for reservation, units in sorted(work, key=lambda w: (w[0].stock_level.location_id, w[0].stock_level.product_id)):
        stock.release(tenant=tenant, reservation=reservation, quantity=units)
        key = (reservation.stock_level.location_id, reservation.order_line_id)
        level, before = released.get(key, (reservation.stock_level, 0))
        released[key] = (level, before + units)
    return released


def _write_off(*, tenant: Tenant, released: dict, by_id: dict, actor: Actor, reason: str, order) -> None:
    """The location said the units are not there: take them off its stock (never below what others reserve)."""
    for (_location_id, line_id), (level, units) in sorted(released.items()):
        fresh = StockLevel.objects.for_tenant(tenant).select_related("product").get(id=level.id)
        lost = min(units, fresh.on_hand - fresh.reserved)
        if lost > 0:
            post_movement(
                tenant=tenant,
                level=fresh,
                kind=MovementKind.ADJUSTMENT,
                quantity=-lost,
                actor=actor,
                reason=reason,
                reference=f"{order.number}/{by_id[line_id].line_number}",
            )


def allocate_backorders_as_planned(*, tenant: Tenant, order_id: int, placements: dict, actor: Actor) -> Order | None:
    """Reserve backordered units where routing placed them now that stock arrived; {order line id: [(location,
    units)]}, at most each line's backordered units. None when the order no longer waits for them."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status in states.TERMINAL_STATUSES or order.status == OrderStatus.ON_HOLD:
            return None
        lines = list(order.lines.select_related("product"))
        by_id = {line.id: line for line in lines}
        wanted = {line_id: sum(units for _, units in places) for line_id, places in placements.items()}
        if any(units > by_id[line_id].quantity_backordered for line_id, units in wanted.items()):
            return None  # cancelled or placed meanwhile: routing looks again on the next sweep
        before = snapshot(order, lines)
        _hold_at(tenant=tenant, channel=order.channel, wanted=_placed(by_id, placements))
        allocated = 0
        for line_id, places in placements.items():
            units = sum(u for _, u in places)
            by_id[line_id].quantity_allocated += units
            by_id[line_id].quantity_backordered -= units
            allocated += units
        fields = ()
        if order.allocated_at is None:
            order.allocated_at = timezone.now()
            fields = ("allocated_at",)
        if not any(line.quantity_backordered for line in lines):
            fields += _promise_from_reservations(tenant, order)
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=EventKind.BACKORDER_ALLOCATED,
            message=f"{allocated} backordered units reserved.",
            before=before,
            payload={"allocated_units": allocated},
            extra_fields=fields,
        )


def _promise_from_reservations(tenant: Tenant, order) -> tuple:
    """The order's promise once its last units have a location: from every location holding its units; the fields
    to save."""
    location_ids = set(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order=order, status=Reservation.Status.ACTIVE)
        .values_list("stock_level__location_id", flat=True)
    )
    promised = computed_promises(tenant=tenant, wanted=[(order, location_ids)], now=timezone.now())
    return PROMISE_FIELDS if apply_promise(order, promised.get(order.id)) else ()


def record_shipment(
    *,
    tenant: Tenant,
    order_id: int,
    lines: list[LineQuantity],
    actor: Actor,
    location=None,
    reference: str = "",
    consume_reservations: bool = True,
) -> Order:
    """Units of some lines left a location. Their reservations are consumed (stock leaves on_hand through
    the ledger) unless the caller already did; the order becomes partially fulfilled or fulfilled, and an
    invoice is issued for the shipment when the tenant invoices per shipment."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status == OrderStatus.ON_HOLD:
            raise IllegalTransition(
                "A held order cannot ship.", current=order.status, requested=OrderStatus.PARTIALLY_FULFILLED
            )
        if order.status in states.TERMINAL_STATUSES:
            raise IllegalTransition(current=order.status, requested=OrderStatus.FULFILLED)
        order_lines = list(order.lines.all())
        wanted = units_per_line(order, order_lines, lines)
        refuse_beyond(
            wanted, lambda line: line.quantity_allocated, figure="allocated", message="Only allocated units can ship."
        )
        before = snapshot(order, order_lines)
        if consume_reservations:
            _consume(tenant=tenant, wanted=wanted, location=location, actor=actor, reference=reference or order.number)
        for line, quantity in wanted.items():
            line.quantity_allocated -= quantity
            line.quantity_shipped += quantity
        shipped = [{"id": line.id, "sku": line.sku, "quantity": quantity} for line, quantity in wanted.items()]
        commit_change(
            order,
            order_lines,
            actor=actor,
            kind=EventKind.SHIPPED,
            message=reference or "Shipment recorded.",
            before=before,
            payload={"lines": shipped, "reference": reference},
        )
        invoicing.issue_invoice_for_shipment_if_configured(
            tenant=tenant, order=order, lines=order_lines, shipped=wanted, reference=reference, actor=actor
        )
        return order


def _consume(*, tenant: Tenant, wanted: dict, location, actor, reference) -> None:
    work = []
    for line, quantity in wanted.items():
        active = list(
            Reservation.objects.for_tenant(tenant)
            .filter(order_line=line, status=Reservation.Status.ACTIVE)
            .select_related("stock_level")
        )
        if location is not None:  # a location ships what it holds, never another location's units
            active = [r for r in active if r.stock_level.location_id == location.id]
        rest = quantity
        for reservation in active:
            if rest == 0:
                break
            take = min(rest, reservation.quantity)
            work.append((reservation, take))
            rest -= take
        if rest:
            raise Conflict(f"Line {line.sku}: not enough reserved units to ship {quantity}.", line_id=line.id)
    for reservation, quantity in sorted(
        work, key=lambda pair: (pair[0].stock_level.location_id, pair[0].stock_level.product_id)
    ):
        stock.consume(tenant=tenant, reservation=reservation, quantity=quantity, actor=actor, reference=reference)


def record_delivery(
    *,
    tenant: Tenant,
    order_id: int,
    lines: list[LineQuantity] | None,
    actor: Actor,
    reference: str = "",
    delivered_at: datetime | None = None,
) -> Order:
    """Shipped units reached the customer (every shipped, undelivered unit when `lines` is None), at
    `delivered_at` when the carrier says when (the promise is measured by it), else now."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        order_lines = list(order.lines.all())
        if lines is None:
            wanted = {
                line: line.quantity_shipped - line.quantity_delivered
                for line in order_lines
                if line.quantity_shipped > line.quantity_delivered
            }
            if not wanted:
                raise IllegalTransition(
                    "Nothing shipped is waiting for delivery.", current=order.status, requested=OrderStatus.DELIVERED
                )
        else:
            wanted = units_per_line(order, order_lines, lines)
        refuse_beyond(
            wanted,
            lambda line: line.quantity_shipped - line.quantity_delivered,
            figure="undelivered",
            message="Only shipped units can be delivered.",
        )
        before = snapshot(order, order_lines)
        for line, quantity in wanted.items():
            line.quantity_delivered += quantity
        return commit_change(
            order,
            order_lines,
            actor=actor,
            kind=EventKind.DELIVERED,
            message=reference or "Delivery recorded.",
            before=before,
            happened_at=delivered_at,
            payload={
                "lines": [{"id": line.id, "sku": line.sku, "quantity": quantity} for line, quantity in wanted.items()]
            },
        )


def record_return(
    *, tenant: Tenant, order_id: int, lines: list[LineQuantity], actor: Actor, reference: str = ""
) -> Order:
    """Shipped units came back (the returns app calls this when a return is received)."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        order_lines = list(order.lines.all())
        wanted = units_per_line(order, order_lines, lines)
        refuse_beyond(
            wanted,
            lambda line: line.quantity_shipped - line.quantity_returned,
            figure="returnable",
            message="Only shipped units can be returned.",
        )
        before = snapshot(order, order_lines)
        for line, quantity in wanted.items():
            line.quantity_returned += quantity
        return commit_change(
            order,
            order_lines,
            actor=actor,
            kind=EventKind.RETURNED,
            message=reference or "Units returned.",
            before=before,
            payload={"lines": [{"id": line.id, "sku": line.sku, "quantity": q} for line, q in wanted.items()]},
        )


def complete_order(*, tenant: Tenant, order_id: int, actor: Actor) -> Order:
    """Close a delivered order (after its return window, for instance)."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status != OrderStatus.DELIVERED:
            raise IllegalTransition(current=order.status, requested=OrderStatus.COMPLETED)
        lines = list(order.lines.all())
        before = snapshot(order, lines)
        order.completed_at = timezone.now()
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=EventKind.COMPLETED,
            message="Order completed.",
            before=before,
            extra_fields=("completed_at",),
        )
