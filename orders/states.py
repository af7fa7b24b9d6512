"""The order state machine: statuses are derived from line quantities, and every change is checked here.

Each line counts its units: ordered, allocated (reserved at a location), backordered (waiting for stock),
shipped, delivered, cancelled, returned. Outstanding units are always either allocated or backordered,
so `allocated + backordered + shipped + cancelled == ordered`. The order's status follows from its lines
plus three order-level facts: a hold, routing having confirmed the allocation, and completion.
"""

from orders.models import LineStatus, OrderStatus

S = OrderStatus

# The one map of allowed order status changes; services may only move an order along these edges.
ALLOWED: dict[str, frozenset] = {
    S.PLACED: frozenset({S.ON_HOLD, S.BACKORDERED, S.ALLOCATED, S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.PLACED, S.ALLOCATED, S.ON_HOLD, S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PLACED, S.BACKORDERED, S.ON_HOLD, S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED}),
    S.ON_HOLD: frozenset(
        {S.PLACED, S.BACKORDERED, S.ALLOCATED, S.PARTIALLY_FULFILLED, S.FULFILLED, S.DELIVERED, S.CANCELLED}
    ),
    S.PARTIALLY_FULFILLED: frozenset({S.ON_HOLD, S.FULFILLED, S.DELIVERED}),
    S.FULFILLED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses in which nothing has left a location yet: the whole order may still be cancelled or held.
OPEN_STATUSES = frozenset({S.PLACED, S.BACKORDERED, S.ALLOCATED, S.ON_HOLD})
HOLDABLE_STATUSES = frozenset({S.PLACED, S.BACKORDERED, S.ALLOCATED, S.PARTIALLY_FULFILLED})
TERMINAL_STATUSES = frozenset({S.CANCELLED, S.COMPLETED})


def can_move(current: str, new: str) -> bool:
    return current == new or new in ALLOWED.get(current, frozenset())


def line_status(line) -> str:
    active = line.quantity - line.quantity_cancelled
    if active <= 0:
        return LineStatus.CANCELLED
    if line.quantity_returned and line.quantity_returned >= active:
        return LineStatus.RETURNED
    if line.quantity_delivered >= active:
        return LineStatus.DELIVERED
    if line.quantity_shipped >= active:
        return LineStatus.SHIPPED
    if line.quantity_shipped > 0:
        return LineStatus.PARTIALLY_SHIPPED
    if line.quantity_backordered > 0:
        return LineStatus.BACKORDERED
    if line.quantity_allocated > 0:
        return LineStatus.ALLOCATED
    return LineStatus.OPEN


def order_status(order, lines) -> str:
    """The status an order's facts and line quantities call for."""
    active = [line for line in lines if line.quantity - line.quantity_cancelled > 0]
    if not active:
        return S.CANCELLED
    if order.completed_at is not None:
        return S.COMPLETED
    if all(line.quantity_delivered >= line.quantity - line.quantity_cancelled for line in active):
        return S.DELIVERED
    if all(line.quantity_shipped >= line.quantity - line.quantity_cancelled for line in active):
        return S.FULFILLED
    if order.hold_kind:
        return S.ON_HOLD
    if any(line.quantity_shipped for line in active):
        return S.PARTIALLY_FULFILLED
    if any(line.quantity_backordered for line in active):
        return S.BACKORDERED
    if order.allocated_at is not None:
        return S.ALLOCATED
    return S.PLACED
