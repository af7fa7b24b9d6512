"""The facts fulfilment records on an order: the allocation confirmed or planned again, units shipped (their
reservations consumed through the ledger), delivered, returned, and the order completed."""

from django.db import transaction
from django.utils import timezone

from inventory import reservations as stock
from inventory.ledger import level_for
from inventory.models import Reservation
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition
from oms.models import Tenant
from orders import invoicing, states
from orders.models import DeliveryMethod, EventKind, Order, OrderStatus
from orders.quantities import refuse_beyond, units_per_line
from orders.services.common import check_version, commit_change, locked_order, rereserve, snapshot
from orders.services.inputs import LineQuantity


def confirm_allocation(*, tenant: Tenant, order_id: int, actor: Actor) -> Order:
    """Routing has settled where each reserved unit is fulfilled from: placed → allocated."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status == OrderStatus.ON_HOLD:
            raise IllegalTransition(
                "A held order is not routed.", current=order.status, requested=OrderStatus.ALLOCATED
            )
        lines = list(order.lines.all())
        before = snapshot(order, lines)
        order.allocated_at = timezone.now()
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=EventKind.ALLOCATED,
            message="Allocation confirmed.",
            before=before,
            topic="order.allocated",
            extra_fields=("allocated_at",),
        )


def allocate_as_planned(
    *, tenant: Tenant, order_id: int, placements: dict, actor: Actor, message: str = "Allocated by routing."
) -> Order:
    """Move the order's reserved units to where routing placed them and confirm the allocation: placed → allocated.

    `placements` is {order line id: [(location, units)]} and must place exactly each line's allocated units. The
    order's active reservations are released and the units reserved again at those locations in one transaction
    (rows locked in (location, product) order, never oversold): if a location no longer has them, nothing moves
    and InsufficientStock says which."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        if order.status != OrderStatus.PLACED:
            raise IllegalTransition(
                f"Only a placed order is allocated; this one is {order.status}.",
                current=order.status,
                requested=OrderStatus.ALLOCATED,
            )
        lines = list(order.lines.select_related("product"))
        misplaced = [
            line.id
            for line in lines
            if sum(units for _, units in placements.get(line.id, ())) != line.quantity_allocated
        ]
        if misplaced:
            raise ValueError(f"placements must cover each line's allocated units exactly (lines {misplaced})")
        before = snapshot(order, lines)
        active = Reservation.objects.for_tenant(tenant).filter(
            order_line__order=order, status=Reservation.Status.ACTIVE
        )
        for reservation in sorted(
            active.select_related("stock_level"), key=lambda r: (r.stock_level.location_id, r.stock_level.product_id)
        ):
            stock.release(tenant=tenant, reservation=reservation)
        holds = [
            stock.Hold(
                level=level_for(tenant=tenant, product=line.product, location=location),
                quantity=units,
                order_line=line,
                reference=str(line.id),
            )
            for line in lines
            for location, units in placements.get(line.id, ())
        ]
        stock.hold(tenant=tenant, holds=holds, channel=order.channel)
        order.allocated_at = timezone.now()
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=EventKind.ALLOCATED,
            message=message,
            before=before,
            topic="order.allocated",
            extra_fields=("allocated_at",),
        )


def reroute_order(*, tenant: Tenant, order_id: int, actor: Actor, expected_version: int | None = None) -> Order:
    """Plan the order's reservations again from current stock (one location for the order when possible);
    routing then confirms the new allocation."""
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=order_id)
        check_version(order, expected_version)
        if order.status not in states.OPEN_STATUSES or order.delivery_method == DeliveryMethod.IN_STORE:
            raise IllegalTransition(
                f"An order that is {order.status} cannot be re-routed.", current=order.status, requested="rerouted"
            )
        lines = list(order.lines.all())
        before = snapshot(order, lines)
        locations = [order.pickup_location] if order.delivery_method == DeliveryMethod.PICKUP else None
        rereserve(tenant=tenant, order=order, lines=lines, locations=locations)
        order.allocated_at = None
        return commit_change(
            order,
            lines,
            actor=actor,
            kind=EventKind.REROUTED,
            message="Reservations planned again.",
            before=before,
            payload={"rerouted": True},
            extra_fields=("allocated_at",),
        )


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
        if location is not None:
            active.sort(key=lambda r: (r.stock_level.location_id != location.id, r.id))
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
    *, tenant: Tenant, order_id: int, lines: list[LineQuantity] | None, actor: Actor, reference: str = ""
) -> Order:
    """Shipped units reached the customer (every shipped, undelivered unit when `lines` is None)."""
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
