"""What every order service shares: the order row locked for a write, the version check, the snapshot a change
is compared with, the one place a change is committed (status derived from the lines and checked against the
state machine, lines saved, timeline written, events emitted), and the reservation moves several services make.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import reservations as stock
from inventory import sourcing
from inventory.models import Location, Reservation
from oms.actors import Actor
from oms.api.scope import Scope, rows
from oms.db import insert_rows, update_rows
from oms.errors import IllegalTransition, InsufficientStock, NotFound, StaleVersion
from oms.models import Tenant
from oms.outbox import emit_many
from oms.timezones import zone
from orders import states
from orders.models import DeliveryMethod, EventKind, Order, OrderEvent, OrderStatus
from orders.promises import delivered_on_time
from orders.signals import order_changed

# --- reading the order for a write -----------------------------------------------------------------------


def locked_order(*, scope: Scope | None, order_id) -> Order:
    """The order row, locked, as the scope sees it: another tenant's (or, for a channel key, another channel's)
    id is NotFound, and so is any id without a scope."""
    queryset = rows(Order, scope).select_for_update(of=("self",))
    if scope is not None:
        queryset = scope.narrow_to_channel(queryset)
    try:
        return queryset.select_related("tenant", "channel", "pickup_location", "customer").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None


def check_version(order: Order, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(
            f"The order is at version {order.version}, not {expected_version}; reload it and retry.",
            current_version=order.version,
        )


def snapshot(order: Order, lines) -> dict:
    return {
        "status": order.status,
        "version": order.version,
        "lines": {str(line.id): line_figures(line) for line in lines},
    }


def line_figures(line) -> dict:
    return {
        "status": line.status,
        "quantity": line.quantity,
        "allocated": line.quantity_allocated,
        "backordered": line.quantity_backordered,
        "shipped": line.quantity_shipped,
        "delivered": line.quantity_delivered,
        "cancelled": line.quantity_cancelled,
        "returned": line.quantity_returned,
    }


def write_event(
    order, *, actor: Actor, kind: str, message: str = "", before: dict | None = None, after: dict | None = None
) -> OrderEvent:
    event = _event(order, actor=actor, kind=kind, message=message, before=before, after=after)
    insert_rows([event])
    return event


def _event(order, *, actor: Actor, kind: str, message: str, before: dict | None, after: dict | None) -> OrderEvent:
    return OrderEvent(
        tenant_id=order.tenant_id,
        order=order,
        actor_label=actor.label[:200],
        kind=kind,
        message=message[:500],
        before=before or {},
        after=after or {},
    )


def event_payload(order: Order, **extra) -> dict:
    return {
        "order_id": order.id,
        "number": order.number,
        "external_ref": order.external_ref,
        "channel": order.channel.code,
        "status": order.status,
        "version": order.version,
        **extra,
    }


_STATUS_TOPICS = {
    OrderStatus.ALLOCATED: "order.allocated",
    OrderStatus.BACKORDERED: "order.backordered",
    OrderStatus.FULFILLED: "order.fulfilled",
    OrderStatus.DELIVERED: "order.delivered",
}


@dataclass
class Change:
    """One order's change to commit: the order and its lines as changed, who did it and why, the snapshot taken
    before, the event topic (None: the status event only) and its payload, and order fields saved besides."""

    order: Order
    lines: list
    actor: Actor
    kind: str
    before: dict
    message: str = ""
    topic: str | None = "order.updated"
    payload: dict | None = None
    extra_fields: tuple = ()
    happened_at: datetime | None = None  # when the fact took place, if not now (a carrier's delivery scan)


def commit_change(
    order: Order,
    lines: list,
    *,
    actor: Actor,
    kind: str,
    message: str = "",
    before: dict,
    topic: str | None = "order.updated",
    payload: dict | None = None,
    extra_fields: tuple = (),
    happened_at: datetime | None = None,
) -> Order:
    """Derive the new status, check the transition, save order and lines, write the timeline and events."""
    change = Change(order, lines, actor, kind, before, message, topic, payload, extra_fields, happened_at)
    commit_changes(order.tenant, [change])
    return order


_LINE_FIGURES = (
    "status",
    "quantity_allocated",
    "quantity_backordered",
    "quantity_shipped",
    "quantity_delivered",
    "quantity_cancelled",
    "quantity_returned",
)


def commit_changes(tenant: Tenant, changes: list[Change]) -> None:
    """commit_change for several orders of a tenant at once (a batch of allocations): every transition is checked
    before anything is written, then lines, orders, timeline and events are written a few statements for all."""
    statuses = []
    for change in changes:
        new_status = states.order_status(change.order, change.lines)
        if not states.can_move(change.before["status"], new_status):
            raise IllegalTransition(current=change.before["status"], requested=new_status)
        statuses.append(new_status)
    changed_lines, events, outbox = [], [], []
    for change, new_status in zip(changes, statuses, strict=True):
        order, lines, before = change.order, change.lines, change.before
        for line in lines:
            line.status = states.line_status(line)
            if line_figures(line) != before["lines"].get(str(line.id)):
                changed_lines.append(line)
        if new_status == OrderStatus.DELIVERED and before["status"] != OrderStatus.DELIVERED:
            _measure_delivery(change)
        order.status = new_status
        order.version += 1
        after = snapshot(order, lines)
        after["lines"] = {k: v for k, v in after["lines"].items() if v != before["lines"].get(k)}
        shown_before = {**before, "lines": {k: before["lines"][k] for k in after["lines"] if k in before["lines"]}}
        events.append(
            _event(
                order, actor=change.actor, kind=change.kind, message=change.message, before=shown_before, after=after
            )
        )
        if change.topic:
            outbox.append((change.topic, event_payload(order, change=change.kind, **(change.payload or {}))))
        status_topic = _STATUS_TOPICS.get(new_status)
        if new_status != before["status"] and status_topic and status_topic != change.topic:
            outbox.append((status_topic, event_payload(order)))
    update_rows(changed_lines, list(_LINE_FIGURES))
    _save_orders(changes)
    insert_rows(events)
    for change in changes:
        order_changed.send(sender=Order, order=change.order, lines=change.lines, kind=change.kind)
    if outbox:
        emit_many(tenant, outbox)


def _measure_delivery(change: Change) -> None:
    """The order reaches the customer (the last units delivered, or collected at the store): record whether it came
    within its promise, for the on-time KPI, in the calendar of where it was received. A pickup order's promise is
    the day it is ready at the store: it is measured by when it was made ready there (when the customer comes is
    theirs), by now if it never was. A shipment is measured by when the carrier delivered it, when it says."""
    order = change.order
    moment = change.happened_at or timezone.now()
    if order.delivery_method == DeliveryMethod.PICKUP:
        ready = (
            OrderEvent.all_tenants.filter(tenant_id=order.tenant_id, order=order, kind=EventKind.READY_FOR_PICKUP)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        moment = ready or moment
    zone_name = order.pickup_location.timezone if order.pickup_location_id else order.tenant.timezone
    order.delivered_on_time = delivered_on_time(order, moment, zone(zone_name))
    change.extra_fields = (*change.extra_fields, "delivered_on_time")


def _save_orders(changes: list[Change]) -> None:
    if len(changes) == 1:
        change = changes[0]
        change.order.save(update_fields=["status", "version", "updated_at", *change.extra_fields])
        return
    now = timezone.now()
    fields = {"status", "version", "updated_at"}
    for change in changes:
        change.order.updated_at = now  # bulk_update does not apply auto_now
        fields.update(change.extra_fields)
    update_rows([change.order for change in changes], sorted(fields))


# --- locations -------------------------------------------------------------------------------------------


def find_location(tenant: Tenant, code, field_name, errors) -> Location | None:
    """The tenant's active location with this code; None with an error under `field_name` otherwise."""
    if not code:
        errors[field_name] = [_("This field is required.")]
        return None
    location = Location.objects.for_tenant(tenant).filter(code=code).first()
    if location is None or not location.active:
        errors[field_name] = [_("Unknown or inactive location '%(location)s'.") % {"location": code}]
        return None
    return location


def in_pool(channel, location) -> bool:
    return channel.pool.filter(location_id=location.id).exists()


def not_in_pool(location) -> str:
    return _("Location %(location)s is not in the channel's sourcing pool.") % {"location": location.code}


def check_pickup_location(channel, location, errors: dict) -> None:
    """A pickup store offers pickup and belongs to the channel's sourcing pool."""
    if location is not None and not location.pickup:
        errors["delivery.pickup_location"] = [
            _("Location %(location)s does not offer pickup.") % {"location": location.code}
        ]
    elif location is not None and not in_pool(channel, location):
        errors["delivery.pickup_location"] = [not_in_pool(location)]


# --- reserving -------------------------------------------------------------------------------------------


def reserve(*, tenant: Tenant, channel, demands, locations, order_lines, allow_partial: bool) -> dict:
    """Reserve the demands all-or-nothing; with `allow_partial` (backorders) reserve what exists instead.

    Returns {key: [reservations]}. Short lines without backorders raise InsufficientStock.
    """
    try:
        done = stock.reserve_demands(
            tenant=tenant, channel=channel, demands=demands, locations=locations, order_lines=order_lines
        )
        return {d.key: d.reservations for d in done}
    except InsufficientStock as exc:
        if not allow_partial:
            raise per_sku(exc, demands) from None
    pool = locations if locations is not None else sourcing.channel_locations(tenant=tenant, channel=channel)
    pool_ids = [loc.id for loc in pool]
    product_ids = {d.product.id for d in demands}
    for _attempt in range(3):
        figures = sourcing.stock_figures(tenant=tenant, product_ids=product_ids, location_ids=pool_ids, channel=channel)
        # The pool holds back the channel's buffer; a store the order names (a pickup) gives all it has.
        remaining = {
            pid: sourcing.network_available(figures, pid, pool_ids, channel)
            if locations is None
            else sourcing.network_total(figures, pid, pool_ids)
            for pid in product_ids
        }
        reduced = []
        for demand in demands:
            take = min(demand.quantity, remaining.get(demand.product.id, 0))
            if take > 0:
                remaining[demand.product.id] -= take
                reduced.append(stock.LineDemand(key=demand.key, product=demand.product, quantity=take))
        if not reduced:
            return {}
        try:
            done = stock.reserve_demands(
                tenant=tenant, channel=channel, demands=reduced, locations=locations, order_lines=order_lines
            )
            return {d.key: d.reservations for d in done}
        except InsufficientStock:
            continue
    return {}


def per_sku(exc: InsufficientStock, demands) -> InsufficientStock:
    """The shortage once per SKU, with what every line of that SKU asks for together: inventory names each
    short demand with its own quantity, which hides the shortage when one SKU is on several lines
    (300 + 300 wanted, 495 available reads "requested 300, available 495")."""
    requested: dict[str, int] = {}
    for demand in demands:
        requested[demand.product.sku] = requested.get(demand.product.sku, 0) + demand.quantity
    merged: dict[str, dict] = {}
    for entry in exc.extra.get("lines") or []:
        current = merged.get(entry["sku"])
        if current is None:
            merged[entry["sku"]] = {**entry, "requested": requested.get(entry["sku"], entry["requested"])}
        elif entry.get("location") != current.get("location"):
            # Figures per location (a plan that lost a race): the SKU has their sum across those locations.
            current["available"] += entry["available"]
            current.pop("location", None)
        else:
            current["available"] = max(current["available"], entry["available"])
    return InsufficientStock(exc.detail, **{**exc.extra, "lines": list(merged.values())})


def rereserve(*, tenant: Tenant, order, lines, locations) -> None:
    """Release every active reservation of the order and reserve the same units again (all or nothing)."""
    active = list(
        Reservation.objects.for_tenant(tenant)
        .filter(order_line__order=order, status=Reservation.Status.ACTIVE)
        .select_related("stock_level")
    )
    for reservation in sorted(active, key=lambda r: (r.stock_level.location_id, r.stock_level.product_id)):
        stock.release(tenant=tenant, reservation=reservation)
    demands = [
        stock.LineDemand(key=line.id, product=line.product, quantity=line.quantity_allocated)
        for line in lines
        if line.quantity_allocated
    ]
    if demands:
        try:
            stock.reserve_demands(
                tenant=tenant,
                channel=order.channel,
                demands=demands,
                locations=locations,
                order_lines={line.id: line for line in lines},
            )
        except InsufficientStock as exc:
            raise per_sku(exc, demands) from None
