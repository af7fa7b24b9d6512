"""Changes to an order before it ships: cancelling all of it or some units of some lines, editing its delivery
(address, pickup store, service level) or reducing line quantities. Units given up go back to stock at once."""

from django.db import transaction

from inventory import reservations as stock
from inventory.models import Reservation
from oms import audit
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, ValidationFailed
from oms.models import Tenant
from orders import states
from orders.models import DeliveryMethod, EventKind, Order, OrderStatus
from orders.quantities import named_lines, refuse_beyond, units_per_line
from orders.services.common import (
    check_pickup_location,
    check_version,
    commit_change,
    find_location,
    locked_order,
    rereserve,
    snapshot,
)
from orders.services.inputs import LineQuantity


def _release_units(*, tenant: Tenant, plan: dict) -> None:
    """Give back `plan[line]` units of each line: backordered units first (they hold nothing), then
    reservations, released in (location, product) order like every other stock lock."""
    to_release = []
    for line, quantity in plan.items():
        from_backorder = min(quantity, line.quantity_backordered)
        line.quantity_backordered -= from_backorder
        rest = quantity - from_backorder
        if rest > line.quantity_allocated:
            raise Conflict(f"Line {line.sku} has only {line.quantity_allocated} reserved units.", line_id=line.id)
        line.quantity_allocated -= rest
        line.quantity_cancelled += quantity
        if rest:
            active = (
                Reservation.objects.for_tenant(tenant)
                .filter(order_line=line, status=Reservation.Status.ACTIVE)
                .select_related("stock_level")
                .order_by("-id")
            )
            for reservation in active:
                if rest == 0:
                    break
                take = min(rest, reservation.quantity)
                to_release.append((reservation, take))
                rest -= take
            if rest:
                raise Conflict(f"Line {line.sku}: its reservations do not cover its allocated units.", line_id=line.id)
    for reservation, quantity in sorted(
        to_release, key=lambda pair: (pair[0].stock_level.location_id, pair[0].stock_level.product_id)
    ):
        stock.release(tenant=tenant, reservation=reservation, quantity=quantity)


def _cancel_plan(order, lines, requested: list[LineQuantity] | None) -> dict:
    if requested is None:
        if order.status not in states.OPEN_STATUSES:
            raise IllegalTransition(
                f"An order that is {order.status} cannot be cancelled as a whole.",
                current=order.status,
                requested=OrderStatus.CANCELLED,
            )
        return {line: line.quantity_outstanding for line in lines if line.quantity_outstanding}
    if order.status in states.TERMINAL_STATUSES:
        raise IllegalTransition(current=order.status, requested=OrderStatus.CANCELLED)
    wanted = units_per_line(order, lines, requested)
    refuse_beyond(
        wanted,
        lambda line: line.quantity_outstanding,
        figure="cancellable",
        message="Some units have already shipped or been cancelled and can no longer be cancelled.",
    )
    return wanted


def cancel_order(
    *,
    scope: Scope,
    order_id: int,
    reason: str,
    lines: list[LineQuantity] | None = None,
    expected_version: int | None = None,
) -> Order:
    """Cancel the whole order (only before anything shipped) or some units of some lines (only units not
    shipped yet); the reserved units go back to stock in the same transaction."""
    tenant, actor = scope.tenant, scope.actor
    with transaction.atomic():
        order = locked_order(scope=scope, order_id=order_id)
        check_version(order, expected_version)
        order_lines = list(order.lines.all())
        plan = _cancel_plan(order, order_lines, lines)
        if not plan:
            raise IllegalTransition("Nothing left to cancel.", current=order.status, requested=OrderStatus.CANCELLED)
        before = snapshot(order, order_lines)
        _release_units(tenant=tenant, plan=plan)
        cancelled = [{"id": line.id, "sku": line.sku, "quantity": quantity} for line, quantity in plan.items()]
        whole = all(line.quantity_cancelled == line.quantity for line in order_lines)
        if whole:
            order.hold_kind, order.hold_reason = "", ""
        audit.record(
            tenant=tenant,
            actor=actor,
            action="order.cancelled",
            obj=order,
            changes={
                "reason": reason,
                "whole_order": whole,
                "lines": [{"sku": c["sku"], "quantity": c["quantity"]} for c in cancelled],
            },
        )
        return commit_change(
            order,
            order_lines,
            actor=actor,
            kind=EventKind.CANCELLED if whole else EventKind.LINES_CANCELLED,
            message=reason,
            before=before,
            topic="order.cancelled",
            payload={"reason": reason, "lines": cancelled, "whole_order": whole},
            extra_fields=("hold_kind", "hold_reason"),
        )


def edit_order(
    *,
    scope: Scope,
    order_id: int,
    expected_version: int,
    address: dict | None = None,
    pickup_location: str | None = None,
    service_level: str | None = None,
    line_quantities: list[LineQuantity] | None = None,
    reason: str = "",
) -> Order:
    """Change the delivery address, the pickup store, the service level or reduce line quantities.

    Optimistic concurrency: the caller names the version it read; a stale one is refused. Delivery changes
    are refused once anything shipped; a line may only be reduced by units not shipped yet. A new pickup
    store gets the reservations moved there, all or nothing.
    """
    tenant, actor = scope.tenant, scope.actor
    with transaction.atomic():
        order = locked_order(scope=scope, order_id=order_id)
        check_version(order, expected_version)
        if order.status in states.TERMINAL_STATUSES or order.delivery_method == DeliveryMethod.IN_STORE:
            raise IllegalTransition(
                f"An order that is {order.status} cannot be edited.", current=order.status, requested="edited"
            )
        order_lines = list(order.lines.all())
        before = snapshot(order, order_lines)
        changes, fields = {}, []
        delivery_change = address is not None or pickup_location is not None or service_level is not None
        if delivery_change and any(line.quantity_shipped for line in order_lines):
            raise Conflict("The delivery can no longer change: part of the order has shipped.")
        if address is not None:
            if order.delivery_method != DeliveryMethod.SHIP:
                raise ValidationFailed(errors={"delivery.address": ["Only a shipped order has an address."]})
            changes["address"] = {"before": order.shipping_address, "after": address}
            order.shipping_address = address
            fields.append("shipping_address")
        if service_level is not None and service_level != order.service_level:
            changes["service_level"] = {"before": order.service_level, "after": service_level}
            order.service_level = service_level
            fields.append("service_level")
        if pickup_location is not None:
            _move_pickup(tenant=tenant, order=order, lines=order_lines, code=pickup_location, changes=changes)
            fields.extend(["pickup_location", "allocated_at"])
        if line_quantities:
            reductions, errors = [], {}
            for index, line, quantity in named_lines(order, order_lines, line_quantities, minimum=0):
                if quantity > line.quantity_active:
                    errors[f"lines[{index}].quantity"] = [
                        f"Quantities can only be reduced (line has {line.quantity_active})."
                    ]
                elif quantity < line.quantity_active:
                    reductions.append(LineQuantity(line.id, line.quantity_active - quantity))
            if errors:
                raise ValidationFailed(errors=errors)
            if reductions:
                plan = _cancel_plan(order, order_lines, reductions)
                _release_units(tenant=tenant, plan=plan)
                changes["lines"] = [
                    {"id": line.id, "sku": line.sku, "reduced_by": quantity} for line, quantity in plan.items()
                ]
        if not changes:
            raise ValidationFailed(errors={"non_field_errors": ["Nothing to change."]})
        return commit_change(
            order,
            order_lines,
            actor=actor,
            kind=EventKind.EDITED,
            message=reason or "Order edited.",
            before={
                **before,
                "changes": {k: v.get("before") if isinstance(v, dict) else None for k, v in changes.items()},
            },
            payload={"changes": sorted(changes)},
            extra_fields=tuple(fields),
        )


def _move_pickup(*, tenant: Tenant, order, lines, code: str, changes: dict) -> None:
    if order.delivery_method != DeliveryMethod.PICKUP:
        raise ValidationFailed(errors={"delivery.pickup_location": ["Only a pickup order has a pickup store."]})
    errors: dict = {}
    location = find_location(tenant, code, "delivery.pickup_location", errors)
    check_pickup_location(order.channel, location, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    if location.id == order.pickup_location_id:
        return
    rereserve(tenant=tenant, order=order, lines=lines, locations=[location])
    # The units now wait at another store: routing allocates the order there again (its fulfilment orders at
    # the old store are cancelled when the change commits).
    order.allocated_at = None
    changes["pickup_location"] = {
        "before": order.pickup_location.code if order.pickup_location else None,
        "after": location.code,
    }
    order.pickup_location = location
