"""Click & collect at the pickup store: the packed order is made ready with a pickup code, handed over to its
customer (all of it or some units, the rest cancelled), reminded a day before its hold ends and cancelled
uncollected when it ends.

The pickup code is for the customer only: it travels once, in the `order.ready_for_pickup` event the shop passes
on, and the store keeps a keyed hash of it (HMAC-SHA256 under the site's secret, bound to the tenant and the
fulfilment order), so that neither the database nor the store's staff can read it. A clerk may hand over without
the code after checking the order number and the customer's name (`identity_check`); the timeline and the event
say which check was made and by whom. Every wrong code or identity counts an attempt under the fulfilment
order's row lock; the MAX_ATTEMPTS-th locks the hand-over until a manager unlocks it.

Units leave the store through the one path a shipment uses (orders.services.record_shipment: the reservations
consumed into `sale` movements) and are then recorded delivered (orders.services.record_delivery); units not
taken, and a whole order left uncollected, go back on sale through orders.services.cancel_order with the reason
`not_collected`. Every write locks the order row, then the fulfilment order, like every fulfilment step."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment import states
from fulfillment.models import FulfillmentLine, FulfillmentOrder, FulfillmentStatus
from fulfillment.selectors import fulfillments_for
from fulfillment.services.execution import Units, _lines, _locked, _refuse_held, _save, _units_wanted
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, ValidationFailed
from oms.outbox import emit
from orders import services as order_services
from orders.models import DeliveryMethod, EventKind, Order
from orders.services.common import event_payload, write_event
from orders.tenant_settings import order_settings

F = FulfillmentStatus
# 8 characters from 32 (no 0/O, 1/I/L): 40 bits, read aloud or typed without confusion; five guesses in 10^12.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_ATTEMPTS = 5
REMINDER_BEFORE = timedelta(days=1)
NOT_COLLECTED = "not_collected"
PICKUP_CODE, IDENTITY_CHECK = "pickup_code", "identity_check"


class WrongPickupCode(Conflict):
    code = "wrong_pickup_code"
    title = "Wrong pickup code"


class PickupLocked(Conflict):
    code = "pickup_locked"
    title = "Hand-over locked"


@dataclass(frozen=True)
class IdentityCheck:
    """What the clerk checked instead of the code: the order's number and the customer's name, as told."""

    order_number: str
    customer_name: str


# --- the code ---------------------------------------------------------------------------------------------


def new_pickup_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalized_code(code: str) -> str:
    """What the customer shows, as typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -")


def code_hash(fulfillment: FulfillmentOrder, code: str) -> str:
    message = f"pickup:{fulfillment.tenant_id}:{fulfillment.id}:{normalized_code(code)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _code_matches(fulfillment: FulfillmentOrder, code: str) -> bool:
    return bool(fulfillment.pickup_code_hash) and hmac.compare_digest(
        fulfillment.pickup_code_hash, code_hash(fulfillment, code)
    )


def _name_key(name: str) -> str:
    return " ".join((name or "").casefold().split())


def _identity_matches(order: Order, check: IdentityCheck) -> bool:
    names = {
        _name_key(order.customer.name if order.customer else ""),
        _name_key((order.shipping_address or {}).get("name", "")),
    } - {""}
    return check.order_number.strip().upper() == order.number.upper() and _name_key(check.customer_name) in names


def hold_days(tenant, location) -> int:
    """The store's own hold period when it sets one, else the tenant's (order settings `pickup_hold_days`)."""
    return location.pickup_hold_days or int(order_settings(tenant)["pickup_hold_days"])


def find_ready_by_code(*, scope: Scope, code: str, location_id=None) -> FulfillmentOrder | None:
    """The ready pickup the code belongs to, among those the caller sees (a clerk: their stores), at one store when
    named; None when none. For a hand-over screen's search: the code is hashed per fulfilment order, so each ready
    one is checked in turn (a store holds tens of them). Finding it hands nothing over and counts no attempt."""
    ready = fulfillments_for(scope=scope).filter(status=F.READY_FOR_PICKUP).exclude(pickup_code_hash="")
    if location_id is not None:
        ready = ready.filter(location_id=location_id)
    for fulfillment in ready.only("id", "tenant_id", "pickup_code_hash").order_by("id"):
        if _code_matches(fulfillment, code):
            return fulfillment
    return None


# --- ready ------------------------------------------------------------------------------------------------


def mark_ready(*, scope: Scope, fulfillment_id) -> FulfillmentOrder:
    """The packed pickup order waits at its store: a new pickup code is issued (sent once, in the
    `order.ready_for_pickup` event, only its keyed hash kept) and the hold period starts."""
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.READY_FOR_PICKUP)
        if order.delivery_method != DeliveryMethod.PICKUP or fulfillment.location_id != order.pickup_location_id:
            raise IllegalTransition(
                "Only the pickup store's part of a pickup order waits for its customer.",
                current=fulfillment.status,
                requested=F.READY_FOR_PICKUP,
            )
        fulfillment.status = states.check_step(fulfillment, "ready")
        code = new_pickup_code()
        now = timezone.now()
        fulfillment.ready_at = now
        fulfillment.pickup_expires_at = now + timedelta(days=hold_days(scope.tenant, fulfillment.location))
        fulfillment.pickup_code_hash = code_hash(fulfillment, code)
        fulfillment.pickup_attempts, fulfillment.pickup_locked_at, fulfillment.pickup_reminded_at = 0, None, None
        _save(
            fulfillment,
            "ready_at",
            "pickup_expires_at",
            "pickup_code_hash",
            "pickup_attempts",
            "pickup_locked_at",
            "pickup_reminded_at",
        )
        write_event(
            order,
            actor=scope.actor,
            kind=EventKind.READY_FOR_PICKUP,
            message=f"Ready for pickup at {fulfillment.location.code} until "
            f"{fulfillment.pickup_expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        emit(
            scope.tenant,
            "order.ready_for_pickup",
            event_payload(
                order,
                fulfillment_id=fulfillment.id,
                location=fulfillment.location.code,
                pickup_code=code,
                pickup_expires_at=fulfillment.pickup_expires_at.isoformat(),
            ),
        )
        return fulfillment


# --- hand-over --------------------------------------------------------------------------------------------


def collect(
    *,
    scope: Scope,
    fulfillment_id,
    pickup_code: str | None = None,
    identity_check: IdentityCheck | None = None,
    lines: list[Units] | None = None,
) -> FulfillmentOrder:
    """The customer takes the order (or the named units; the rest is cancelled, back on sale) after showing the
    pickup code or passing the clerk's identity check. A wrong code or identity is WrongPickupCode (409, with
    `attempts_left`) and hands nothing over; the last allowed attempt locks the hand-over: PickupLocked (409)
    until unlock(). The attempt is committed by this function's own transaction before it raises: a caller that
    wraps it in a transaction of its own must answer these two errors rather than let them roll it back."""
    if (pickup_code is None) == (identity_check is None):
        raise ValidationFailed(errors={"pickup_code": ["Give the pickup code or an identity check, not both."]})
    refused = None
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        _refuse_held(order, F.COLLECTED)
        states.check_step(fulfillment, "collect")
        _refuse_locked(fulfillment)
        fulfillment_lines = _lines(fulfillment)
        wanted = _units_wanted(fulfillment_lines, lines, "collect")
        if not wanted:
            raise Conflict("Nothing is left to hand over here.")
        if pickup_code is not None:
            passed, method = _code_matches(fulfillment, pickup_code), PICKUP_CODE
        else:
            passed, method = _identity_matches(order, identity_check), IDENTITY_CHECK
        if passed:
            _hand_over(scope, order, fulfillment, fulfillment_lines, wanted, method)
        else:
            refused = _count_wrong_attempt(scope, order, fulfillment, method)
    # Outside the transaction: the attempt counted (and a lock) is committed, nothing was handed over.
    if refused is not None:
        raise refused
    return fulfillment


def _refuse_locked(fulfillment: FulfillmentOrder) -> None:
    if fulfillment.pickup_locked_at is not None:
        raise PickupLocked(
            f"The hand-over is locked after {MAX_ATTEMPTS} wrong attempts: a manager must unlock it.",
            attempts_left=0,
            locked_at=fulfillment.pickup_locked_at.isoformat(),
        )


def _count_wrong_attempt(scope: Scope, order, fulfillment: FulfillmentOrder, method: str) -> Conflict:
    fulfillment.pickup_attempts += 1
    left = max(MAX_ATTEMPTS - fulfillment.pickup_attempts, 0)
    what = "pickup code" if method == PICKUP_CODE else "identity check"
    if left == 0:
        fulfillment.pickup_locked_at = timezone.now()
        _save(fulfillment, "pickup_attempts", "pickup_locked_at")
        write_event(
            order,
            actor=scope.actor,
            kind=EventKind.PICKUP_LOCKED,
            message=f"Hand-over locked at {fulfillment.location.code} after {MAX_ATTEMPTS} wrong attempts.",
        )
        return PickupLocked(
            f"Wrong {what}: the hand-over is now locked until a manager unlocks it.",
            attempts_left=0,
            locked_at=fulfillment.pickup_locked_at.isoformat(),
        )
    _save(fulfillment, "pickup_attempts")
    return WrongPickupCode(f"Wrong {what}; nothing was handed over.", attempts_left=left)


def _hand_over(scope: Scope, order, fulfillment, fulfillment_lines, wanted: dict, method: str) -> None:
    tenant = scope.tenant
    rest = {line: line.quantity_open - wanted.get(line, 0) for line in fulfillment_lines}
    rest = {line: units for line, units in rest.items() if units}
    for line, units in wanted.items():
        line.quantity_shipped += units
    for line, units in rest.items():
        line.quantity_cancelled += units
    FulfillmentLine.all_tenants.bulk_update(fulfillment_lines, ["quantity_shipped", "quantity_cancelled"])
    fulfillment.status = F.COLLECTED
    fulfillment.closed_at = timezone.now()
    _save(fulfillment, "closed_at")
    store = fulfillment.location
    if rest:
        order_services.cancel_order(
            scope=scope,
            order_id=order.id,
            reason=NOT_COLLECTED,
            lines=[order_services.LineQuantity(line.order_line_id, units) for line, units in rest.items()],
        )
    collected = [order_services.LineQuantity(line.order_line_id, units) for line, units in wanted.items()]
    order_services.record_shipment(
        tenant=tenant,
        order_id=order.id,
        lines=collected,
        actor=scope.actor,
        location=store,
        reference=f"{order.number} collected at {store.code}",
    )
    checked = "the pickup code" if method == PICKUP_CODE else "an identity check (order number and customer name)"
    order_services.record_delivery(
        tenant=tenant,
        order_id=order.id,
        lines=collected,
        actor=scope.actor,
        reference=f"Collected at {store.code}, checked by {scope.actor.label} with {checked}.",
    )
    order = Order.objects.for_tenant(tenant).select_related("channel").get(id=order.id)
    write_event(
        order,
        actor=scope.actor,
        kind=EventKind.COLLECTED,
        message=f"Handed over at {store.code} after {checked}, by {scope.actor.label}.",
        after={"verification": method, "checked_by": scope.actor.label},
    )
    emit(
        tenant,
        "order.collected",
        event_payload(
            order,
            fulfillment_id=fulfillment.id,
            location=store.code,
            lines=_units_payload(wanted),
            not_collected=_units_payload(rest),
            verification={"method": method, "checked_by": scope.actor.label},
            collected_at=fulfillment.closed_at.isoformat(),
        ),
    )


def _units_payload(units: dict) -> list[dict]:
    return [{"id": line.order_line_id, "sku": line.order_line.sku, "quantity": n} for line, n in units.items()]


def unlock(*, scope: Scope, fulfillment_id) -> FulfillmentOrder:
    """A manager lets the hand-over be tried again (the attempts start from zero; the code is unchanged)."""
    with transaction.atomic():
        order, fulfillment = _locked(scope, fulfillment_id)
        states.check_step(fulfillment, "unlock")
        if fulfillment.pickup_locked_at is None:
            raise Conflict("The hand-over is not locked.", attempts_left=MAX_ATTEMPTS - fulfillment.pickup_attempts)
        fulfillment.pickup_attempts, fulfillment.pickup_locked_at = 0, None
        _save(fulfillment, "pickup_attempts", "pickup_locked_at")
        write_event(
            order,
            actor=scope.actor,
            kind=EventKind.PICKUP_UNLOCKED,
            message=f"Hand-over at {fulfillment.location.code} unlocked by {scope.actor.label}.",
        )
        return fulfillment


# --- reminder and expiry ----------------------------------------------------------------------------------


def remind(*, tenant, fulfillment_id, now=None) -> bool:
    """`order.pickup_reminder` once, within REMINDER_BEFORE of the end of the hold; False when not due or sent."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfillment = _locked_for_system(tenant, fulfillment_id)
        if fulfillment is None or not _reminder_due(fulfillment, now):
            return False
        fulfillment.pickup_reminded_at = now
        _save(fulfillment, "pickup_reminded_at")
        emit(
            tenant,
            "order.pickup_reminder",
            event_payload(
                order,
                fulfillment_id=fulfillment.id,
                location=fulfillment.location.code,
                pickup_expires_at=fulfillment.pickup_expires_at.isoformat(),
            ),
        )
        return True


def expire(*, tenant, fulfillment_id, now=None) -> bool:
    """A pickup order left uncollected past its hold is cancelled (`not_collected`): its units go back on sale at
    the store. False when it is not due (collected, unlocked or expired meanwhile)."""
    now = now or timezone.now()
    with transaction.atomic():
        order, fulfillment = _locked_for_system(tenant, fulfillment_id)
        if fulfillment is None or fulfillment.status != F.READY_FOR_PICKUP or fulfillment.pickup_expires_at > now:
            return False
        fulfillment.status = states.check_step(fulfillment, "expire")
        fulfillment_lines = _lines(fulfillment)
        open_units = {line: line.quantity_open for line in fulfillment_lines if line.quantity_open}
        for line, units in open_units.items():
            line.quantity_cancelled += units
        FulfillmentLine.all_tenants.bulk_update(fulfillment_lines, ["quantity_cancelled"])
        fulfillment.closed_at = now
        _save(fulfillment, "closed_at")
        if open_units:
            order_services.cancel_order(
                scope=Scope.system(tenant, "pickup expiry"),
                order_id=order.id,
                reason=NOT_COLLECTED,
                lines=[order_services.LineQuantity(line.order_line_id, units) for line, units in open_units.items()],
            )
        return True


def _locked_for_system(tenant, fulfillment_id):
    """(order, fulfilment order) locked in that order, for the beat's work; (None, None) when gone."""
    found = (
        FulfillmentOrder.objects.for_tenant(tenant).filter(id=fulfillment_id).values_list("order_id", flat=True).first()
    )
    if found is None:
        return None, None
    return _locked(Scope.system(tenant, "pickup expiry"), fulfillment_id)


def _reminder_due(fulfillment: FulfillmentOrder, now) -> bool:
    return (
        fulfillment.status == F.READY_FOR_PICKUP
        and fulfillment.pickup_reminded_at is None
        and fulfillment.pickup_expires_at - REMINDER_BEFORE <= now < fulfillment.pickup_expires_at
    )


def pickups_due(*, now=None, limit: int = 500) -> tuple[list, list]:
    """([(tenant id, fulfilment order id)] to remind, [...] to expire), every tenant's, oldest first."""
    now = now or timezone.now()
    ready = FulfillmentOrder.all_tenants.filter(status=F.READY_FOR_PICKUP)
    to_remind = list(
        ready.filter(
            pickup_reminded_at__isnull=True,
            pickup_expires_at__lte=now + REMINDER_BEFORE,
            pickup_expires_at__gt=now,
        )
        .order_by("pickup_expires_at", "id")
        .values_list("tenant_id", "id")[:limit]
    )
    to_expire = list(
        ready.filter(pickup_expires_at__lte=now)
        .order_by("pickup_expires_at", "id")
        .values_list("tenant_id", "id")[:limit]
    )
    return to_remind, to_expire
