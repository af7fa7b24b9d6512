"""What a location does with its fulfilment orders: accept, pick, pack, ship (all or some units), or reject (all or
some units, with a reason), and what the back office does: re-route an order's open work elsewhere.

Every step is one transaction that locks the order row, then the fulfilment order (always in that order, like
every order write, so two steps never deadlock), checks the state machine (fulfillment.states), writes the order's
timeline and emits its event. Units move only through the orders services: shipping consumes the reservation
through the ledger (`sale`), a rejection or a re-route moves the reservations to where routing places them now.
Fulfilment lines are updated before those services run, so the reconciliation they trigger finds nothing to do.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fulfillment import carriers, states
from fulfillment.engine import Line
from fulfillment.models import (
    CLOSED_STATUSES,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    RoutingDecision,
    Shipment,
    ShipmentLine,
)
from fulfillment.selectors import fulfillments_for
from fulfillment.services.plans import create_fulfillments, placements_of, record_decision
from fulfillment.services.routing import RoutingQuestion, locations_excluded, question_for_order, route
from inventory.models import Reservation
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, InsufficientStock, NotFound, ValidationFailed
from oms.outbox import emit
from orders import services as order_services
from orders.models import DeliveryMethod, EventKind, Order, OrderStatus
from orders.services.common import write_event
from orders.states import OPEN_STATUSES

F = FulfillmentStatus
REJECT_REASONS = ("out_of_stock", "damaged", "no_capacity")
# Rejections that mean the units are not there to sell: they are written off the location's stock.
STOCK_MISSING = frozenset({"out_of_stock", "damaged"})
PLAN_ATTEMPTS = 3


@dataclass(frozen=True)
class Units:
    """Units of one order line, as a caller names them (`lines[i]` in the body)."""

    order_line: int
    quantity: int


# --- locking ----------------------------------------------------------------------------------------------


def _locked(scope: Scope, fulfillment_id) -> tuple[Order, FulfillmentOrder]:
    """The order row, then the fulfilment order, locked; a fulfilment order the caller may not see is 404."""
    found = fulfillments_for(scope=scope).filter(id=fulfillment_id).values_list("order_id", flat=True).first()
    if found is None:
        raise NotFound("No such fulfilment order.")
    order = (
        Order.objects.for_tenant(scope.tenant)
        .select_for_update(of=("self",))
        .select_related("channel", "pickup_location")
        .get(id=found)
    )
    fulfillment = (
        FulfillmentOrder.objects.for_tenant(scope.tenant)
        .select_for_update(of=("self",))
        .select_related("location")
        .get(id=fulfillment_id)
    )
    return order, fulfillment


def _refuse_held(order: Order, requested: str) -> None:
    if order.status == OrderStatus.ON_HOLD:
        raise IllegalTransition(
            f"Order {order.number} is on hold: its fulfilment waits for the release.",
            current=order.status,
            requested=requested,
        )


def _lines(fulfillment) -> list[FulfillmentLine]:
    return list(fulfillment.lines.select_related("order_line").order_by("id"))


def _units_wanted(lines: list[FulfillmentLine], asked: list[Units] | None, figure: str) -> dict:
    """{fulfilment line: units}: every open unit when nothing is named; otherwise the named units, each within
    what the line still has open (400 naming `lines[i]` otherwise)."""
    if asked is None:
        return {line: line.quantity_open for line in lines if line.quantity_open}
    by_order_line = {line.order_line_id: line for line in lines}
    wanted: dict = {}
    errors = {}
    for index, item in enumerate(asked):
        line = by_order_line.get(item.order_line)
        if line is None:
            errors[f"lines[{index}].order_line"] = [f"Order line {item.order_line} is not in this fulfilment order."]
            continue
        total = wanted.get(line, 0) + item.quantity
        if total > line.quantity_open:
            errors[f"lines[{index}].quantity"] = [
                f"Only {line.quantity_open} units of {line.order_line.sku} are open here to {figure}."
            ]
        wanted[line] = total
    if errors:
        raise ValidationFailed(errors=errors)
    return wanted


def _close_if_done(fulfillment: FulfillmentOrder, lines: list[FulfillmentLine], done_status: str) -> None:
    """A fulfilment order with no open unit left is closed: `done_status` once something shipped, else rejected
    or cancelled as the caller says."""
    if any(line.quantity_open for line in lines):
        return
    shipped = any(line.quantity_shipped for line in lines)
    fulfillment.status = F.SHIPPED if shipped else done_status
    fulfillment.closed_at = timezone.now()


def _save(fulfillment: FulfillmentOrder, *fields) -> None:
    fulfillment.updated_at = timezone.now()
    fulfillment.save(update_fields=["status", "updated_at", *fields])


def _payload(order: Order, fulfillment: FulfillmentOrder, **extra) -> dict:
    return {
        "fulfillment_id": fulfillment.id,
        "order_id": order.id,
        "number": order.number,
        "channel": order.channel.code,
        "location": fulfillment.location.code,
        "status": fulfillment.status,
        **extra,
    }


def _timeline(order, scope: Scope, kind: str, message: str) -> None:
    write_event(order, actor=scope.actor, kind=kind, message=message)


# --- accept, pick, pack -----------------------------------------------------------------------------------


def accept(*, scope: Scope, fulfillment_id) -> FulfillmentOrder:
    """The location takes the work on (it counts against its daily capacity from now)."""
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.ACCEPTED)
        fulfillment.status = states.check_step(fulfillment, "accept")
        fulfillment.accepted_at = timezone.now()
        _save(fulfillment, "accepted_at")
        _timeline(order, scope, EventKind.FULFILMENT_ACCEPTED, f"{fulfillment.location.code} accepted its part.")
        emit(scope.tenant, "fulfillment.accepted", _payload(order, fulfillment))
        return fulfillment


def start_picking(*, scope: Scope, fulfillment_id) -> FulfillmentOrder:
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.PICKING)
        fulfillment.status = states.check_step(fulfillment, "pick")
        _save(fulfillment)
        _timeline(order, scope, EventKind.FULFILMENT_PICKING, f"{fulfillment.location.code} is picking.")
        return fulfillment


def pack(*, scope: Scope, fulfillment_id, parcels: list[dict] | None = None) -> FulfillmentOrder:
    """Picked goods are packed, into `parcels` ({"weight_kg", optional "reference"}) when given."""
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.PACKED)
        fulfillment.status = states.check_step(fulfillment, "pack")
        fulfillment.packed_at = timezone.now()
        fulfillment.parcels = parcels or []
        _save(fulfillment, "packed_at", "parcels")
        count = len(fulfillment.parcels)
        _timeline(
            order,
            scope,
            EventKind.FULFILMENT_PACKED,
            f"{fulfillment.location.code} packed" + (f" {count} parcel(s)." if count else "."),
        )
        return fulfillment


# --- ship -------------------------------------------------------------------------------------------------


def ship(
    *,
    scope: Scope,
    fulfillment_id,
    carrier: str,
    service: str = "",
    tracking_numbers: list[str] | None = None,
    lines: list[Units] | None = None,
    parcels: list[dict] | None = None,
) -> Shipment:
    """Packed goods (all open units, or the named ones) leave with a carrier: a shipment with its tracking URL,
    the reservations consumed into `sale` movements, the order fulfilled or partially fulfilled, in one
    transaction. The fulfilment order stays packed until its last unit ships."""
    tracking_numbers = tracking_numbers or []
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.SHIPPED)
        states.check_step(fulfillment, "ship")
        if order.delivery_method == DeliveryMethod.PICKUP and fulfillment.location_id == order.pickup_location_id:
            raise IllegalTransition(
                "The customer collects this order here: mark it ready for pickup, then hand it over.",
                current=fulfillment.status,
                requested=F.SHIPPED,
            )
        fulfillment_lines = _lines(fulfillment)
        wanted = _units_wanted(fulfillment_lines, lines, "ship")
        if not wanted:
            raise Conflict("Nothing is left to ship here.")
        shipment = Shipment.objects.create(
            tenant=scope.tenant,
            order=order,
            fulfillment=fulfillment,
            location=fulfillment.location,
            carrier=carrier,
            service=service,
            tracking_numbers=tracking_numbers,
            tracking_url=carriers.tracking_url(scope.tenant, carrier, tracking_numbers),
            parcels=parcels if parcels is not None else fulfillment.parcels,
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(tenant=scope.tenant, shipment=shipment, order_line=line.order_line, quantity=units)
                for line, units in wanted.items()
            ]
        )
        for line, units in wanted.items():
            line.quantity_shipped += units
        FulfillmentLine.all_tenants.bulk_update(list(wanted), ["quantity_shipped"])
        _close_if_done(fulfillment, fulfillment_lines, F.SHIPPED)
        _save(fulfillment, "closed_at")
        order_services.record_shipment(
            tenant=scope.tenant,
            order_id=order.id,
            lines=[order_services.LineQuantity(line.order_line_id, units) for line, units in wanted.items()],
            actor=scope.actor,
            location=fulfillment.location,
            reference=f"{order.number}/S{shipment.id} {carriers.carrier_name(scope.tenant, carrier)}",
        )
        emit(
            scope.tenant,
            "fulfillment.shipped",
            _payload(
                order,
                fulfillment,
                shipment_id=shipment.id,
                carrier=carrier,
                service=service,
                tracking_numbers=tracking_numbers,
                tracking_url=shipment.tracking_url,
                lines=[
                    {"order_line": line.order_line_id, "sku": line.order_line.sku, "quantity": units}
                    for line, units in wanted.items()
                ],
                complete=fulfillment.status == F.SHIPPED,
            ),
        )
        return shipment


# --- reject and re-route ----------------------------------------------------------------------------------


def reject(*, scope: Scope, fulfillment_id, reason: str, lines: list[Units] | None = None) -> FulfillmentOrder:
    """The location cannot fulfil some or all of its units. They are routed again at once, never to a location
    that rejected them before; when the reason says the stock is not there (out of stock, damaged) those units
    are written off the location's stock through the ledger. Units no location can take now wait for stock."""
    if reason not in REJECT_REASONS:
        raise ValidationFailed(errors={"reason": [f"One of {', '.join(REJECT_REASONS)}."]})
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        states.check_step(fulfillment, "reject")
        fulfillment_lines = _lines(fulfillment)
        wanted = _units_wanted(fulfillment_lines, lines, "reject")
        if not wanted:
            raise Conflict("Nothing is left to reject here.")
        for line, units in wanted.items():
            line.quantity_rejected += units
        FulfillmentLine.all_tenants.bulk_update(list(wanted), ["quantity_rejected"])
        fulfillment.reject_reason = reason
        _close_if_done(fulfillment, fulfillment_lines, F.REJECTED)
        _save(fulfillment, "closed_at", "reject_reason")
        units = {line.order_line_id: n for line, n in wanted.items()}
        refused_by = _rejecting_locations(scope.tenant, order, units)
        outcome = _route_again(
            scope=scope,
            order=order,
            taken={(fulfillment.location_id, line_id): n for line_id, n in units.items()},
            exclude=refused_by,
            kind=RoutingDecision.Kind.REJECTION,
            order_event=EventKind.REJECTED,
            message=f"{fulfillment.location.code} rejected {sum(units.values())} unit(s): {reason}.",
            write_off_reason=f"rejected: {reason}" if reason in STOCK_MISSING else "",
            partial_ok=True,
        )
        emit(
            scope.tenant,
            "fulfillment.rejected",
            _payload(
                order,
                fulfillment,
                reason=reason,
                lines=[
                    {"order_line": line.order_line_id, "sku": line.order_line.sku, "quantity": n}
                    for line, n in wanted.items()
                ],
                rerouted_to=sorted({f.location.code for f in outcome}),
                backordered=sum(units.values()) - sum(line.quantity for f in outcome for line in f.lines.all()),
            ),
        )
        return fulfillment


def _rejecting_locations(tenant, order, units: dict) -> set:
    """Every location that rejected units of these order lines, this one included: never asked again for them."""
    return set(
        FulfillmentLine.objects.for_tenant(tenant)
        .filter(fulfillment__order=order, order_line_id__in=list(units), quantity_rejected__gt=0)
        .values_list("fulfillment__location_id", flat=True)
    )


def reroute(*, scope: Scope, order_id, exclude: list[str] | None = None) -> list[FulfillmentOrder]:
    """The back office routes an order's open work again, leaving out the named locations: the units of its
    fulfilment orders that no location has started on (pending or accepted) go where the active policy sends
    them now, all of them or none (409 naming what no location can take). An order never routed is routed."""
    scope.forbid_channel_key("re-route orders")
    exclude_ids = locations_excluded(tenant=scope.tenant, codes=exclude or [])
    with transaction.atomic():
        order = _locked_order(scope, order_id)
        if order.allocated_at is None and order.status in (OrderStatus.PLACED, OrderStatus.BACKORDERED):
            raise Conflict("This order has not been routed yet: routing allocates it shortly.")
        if order.status not in OPEN_STATUSES or order.status == OrderStatus.ON_HOLD:
            raise IllegalTransition(
                f"An order that is {order.status} cannot be re-routed.", current=order.status, requested="rerouted"
            )
        if order.delivery_method == DeliveryMethod.IN_STORE:
            raise IllegalTransition("A store sale is not routed.", current=order.status, requested="rerouted")
        open_work = list(
            FulfillmentOrder.objects.for_tenant(scope.tenant)
            .select_for_update(of=("self",))
            .filter(order=order, status__in=states.REROUTABLE)
            .select_related("location")
            .order_by("id")
        )
        taken: dict = {}
        for fulfillment in open_work:
            fulfillment_lines = _lines(fulfillment)
            for line in fulfillment_lines:
                if line.quantity_open:
                    key = (fulfillment.location_id, line.order_line_id)
                    taken[key] = taken.get(key, 0) + line.quantity_open
                    line.quantity_cancelled += line.quantity_open
            FulfillmentLine.all_tenants.bulk_update(fulfillment_lines, ["quantity_cancelled"])
            _close_if_done(fulfillment, fulfillment_lines, F.CANCELLED)
            _save(fulfillment, "closed_at")
        if not taken:
            raise Conflict("Nothing to re-route: every open fulfilment order of this order is being picked or packed.")
        return _route_again(
            scope=scope,
            order=order,
            taken=taken,
            exclude=exclude_ids,
            kind=RoutingDecision.Kind.REROUTE,
            order_event=EventKind.REROUTED,
            message="Re-routed"
            + (f", leaving out {', '.join(sorted(exclude or []))}." if exclude else " by the active policy."),
            write_off_reason="",
            partial_ok=False,
        )


def _locked_order(scope: Scope, order_id) -> Order:
    queryset = scope.narrow_to_channel(Order.objects.for_tenant(scope.tenant))
    try:
        return queryset.select_for_update(of=("self",)).select_related("channel", "pickup_location").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None


def _route_again(
    *,
    scope: Scope,
    order: Order,
    taken: dict,
    exclude: set,
    kind: str,
    order_event: str,
    message: str,
    write_off_reason: str,
    partial_ok: bool,
) -> list[FulfillmentOrder]:
    """Route the taken units ({(location id, order line id): units}) and move their reservations to the plan, in
    a savepoint retried when a chosen location lost the units meanwhile. With `partial_ok` what no location can
    take waits for stock; otherwise nothing changes and Conflict names it."""
    tenant = scope.tenant
    order_lines = {line.id: line for line in order.lines.all()}
    per_line: dict = {}
    held: dict = {}
    for (location_id, line_id), units in taken.items():
        per_line[line_id] = per_line.get(line_id, 0) + units
        key = (order_lines[line_id].product_id, location_id)
        held[key] = held.get(key, 0) + units
    base = question_for_order(order, list(order_lines.values()))
    question = RoutingQuestion(
        channel=base.channel,
        fulfilment_type=base.fulfilment_type,
        lines=tuple(
            Line(key=line_id, sku=order_lines[line_id].sku, product_id=order_lines[line_id].product_id, quantity=n)
            for line_id, n in sorted(per_line.items())
        ),
        address=base.address,
        pickup_location=base.pickup_location,
    )
    for attempt in range(PLAN_ATTEMPTS):
        answer = route(
            tenant=tenant,
            question=question,
            exclude_location_ids=frozenset(exclude),
            held=held,  # released first, the taken units are the order's own again
        )
        if answer.plan.unfilled and not partial_ok:
            raise Conflict(
                "No location can take every unit under the active policy; nothing was changed.",
                unfilled=[
                    {"order_line": key, "sku": order_lines[key].sku, "quantity": units}
                    for key, units in answer.plan.unfilled
                ],
            )
        placements = placements_of(answer)
        try:
            with transaction.atomic():
                order_services.move_units(
                    tenant=tenant,
                    order_id=order.id,
                    taken=taken,
                    placements=placements,
                    actor=scope.actor,
                    kind=order_event,
                    message=message,
                    write_off_reason=write_off_reason,
                    payload={"rerouted": True},
                )
                decision = record_decision(tenant=tenant, order=order, answer=answer, placements=placements, kind=kind)
                return create_fulfillments(
                    tenant=tenant, order=order, decision=decision, placements=placements, plan=answer.plan
                )
        except InsufficientStock:
            if attempt == PLAN_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --- keeping fulfilment orders in step with the order -----------------------------------------------------


def reconcile(*, order, kind: str) -> None:
    """After any change to the order: open fulfilment units beyond what the order still reserves at their
    location (cancelled, reduced, moved to another pickup store) are cancelled, newest fulfilment order first,
    and fulfilment orders left with nothing open are closed. Fulfilment's own steps leave nothing to do here."""
    if kind in (EventKind.PLACED, EventKind.ALLOCATED):
        return  # nothing of the order is with a location yet, or routing is about to create its fulfilment orders
    open_orders = list(
        FulfillmentOrder.objects.for_tenant(order.tenant_id)
        .filter(order=order)
        .exclude(status__in=CLOSED_STATUSES)
        .select_related("location", "transfer")
        .order_by("id")
    )
    if not open_orders:
        return
    reserved: dict = {}
    active = Reservation.objects.for_tenant(order.tenant_id).filter(
        order_line__order=order, status=Reservation.Status.ACTIVE
    )
    for line_id, location_id, units in active.values_list("order_line_id", "stock_level__location_id", "quantity"):
        reserved[(location_id, line_id)] = reserved.get((location_id, line_id), 0) + units
    # Units travelling to a pickup store on a shipped transfer are reserved nowhere: the order counts them waiting.
    for line_id, waiting in order.lines.filter(quantity_backordered__gt=0).values_list("id", "quantity_backordered"):
        reserved[(IN_TRANSIT, line_id)] = waiting
    # The oldest fulfilment orders keep their units; the newest give theirs up first.
    for fulfillment in open_orders:
        fulfillment_lines = _lines(fulfillment)
        changed = []
        for line in fulfillment_lines:
            key = (_held_at(fulfillment), line.order_line_id)
            keep = min(line.quantity_open, reserved.get(key, 0))
            reserved[key] = reserved.get(key, 0) - keep
            if keep < line.quantity_open:
                line.quantity_cancelled += line.quantity_open - keep
                changed.append(line)
        if changed:
            FulfillmentLine.all_tenants.bulk_update(changed, ["quantity_cancelled"])
            _close_if_done(fulfillment, fulfillment_lines, F.CANCELLED)
            _save(fulfillment, "closed_at")


IN_TRANSIT = "in_transit"


def _held_at(fulfillment: FulfillmentOrder):
    """Where a fulfilment order's units are held: its location's stock; for a pickup store awaiting a transfer, the
    sending location's until the transfer ships, then the transfer itself (IN_TRANSIT)."""
    transfer = fulfillment.transfer if fulfillment.status == F.AWAITING_TRANSFER else None
    if transfer is None or transfer.status == transfer.Status.RECEIVED:
        return fulfillment.location_id
    return IN_TRANSIT if transfer.status == transfer.Status.IN_TRANSIT else transfer.source_id
