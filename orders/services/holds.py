"""Holds: an order held for payment, fraud review, a tenant rule or by hand is neither routed nor shipped until
its hold is released."""

from django.db import transaction

from oms import audit
from oms.api.scope import Scope
from oms.errors import IllegalTransition, ValidationFailed
from orders import states
from orders.models import HOLD_KINDS_BY_HAND, EventKind, HoldKind, Order, OrderStatus
from orders.services.common import check_version, commit_change, locked_order, snapshot


def hold_order(
    *, scope: Scope, order_id: int, kind: str = HoldKind.MANUAL, reason: str = "", expected_version: int | None = None
) -> Order:
    """Put an order on hold (payment, fraud, rule, manual): held orders are not routed nor shipped."""
    if kind not in HOLD_KINDS_BY_HAND:
        raise ValidationFailed(errors={"kind": [f"Unknown hold kind {kind!r}."]})
    with transaction.atomic():
        order = locked_order(scope=scope, order_id=order_id)
        check_version(order, expected_version)
        if order.status not in states.HOLDABLE_STATUSES:
            raise IllegalTransition(current=order.status, requested=OrderStatus.ON_HOLD)
        lines = list(order.lines.all())
        before = snapshot(order, lines)
        order.hold_kind, order.hold_reason = kind, (reason or str(HoldKind(kind).label))[:200]
        audit.record(
            tenant=scope.tenant,
            actor=scope.actor,
            action="order.held",
            obj=order,
            changes={"hold_kind": kind, "reason": order.hold_reason},
        )
        return commit_change(
            order,
            lines,
            actor=scope.actor,
            kind=EventKind.HOLD,
            message=order.hold_reason,
            before=before,
            topic="order.on_hold",
            payload={"hold_kind": kind, "reason": order.hold_reason},
            extra_fields=("hold_kind", "hold_reason"),
        )


def release_hold(*, scope: Scope, order_id: int, note: str = "", expected_version: int | None = None) -> Order:
    """Lift the hold: the order resumes where its lines are (placed, allocated, backordered...)."""
    with transaction.atomic():
        order = locked_order(scope=scope, order_id=order_id)
        check_version(order, expected_version)
        if order.status != OrderStatus.ON_HOLD:
            raise IllegalTransition(
                f"Only an order on hold can be released; this one is {order.status}.",
                current=order.status,
                requested="released",
            )
        lines = list(order.lines.all())
        before = snapshot(order, lines)
        previous_kind, previous_reason = order.hold_kind, order.hold_reason
        previous = f"{previous_kind}: {previous_reason}"
        order.hold_kind, order.hold_reason = "", ""
        audit.record(
            tenant=scope.tenant,
            actor=scope.actor,
            action="order.hold_released",
            obj=order,
            changes={"hold_kind": previous_kind, "reason": previous_reason, "note": note},
        )
        return commit_change(
            order,
            lines,
            actor=scope.actor,
            kind=EventKind.HOLD_RELEASED,
            message=note or f"Hold released ({previous}).",
            before=before,
            topic="order.released",
            extra_fields=("hold_kind", "hold_reason"),
        )
