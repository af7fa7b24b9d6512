"""Receiving a return: the units that arrive at a location, inspected one disposition at a time, their stock
movements, and, once everything asked back is in (or the return is closed with what came), its conclusion:
the refund, the store credit or the exchange.

One transaction per receipt. It locks the order's row, then the return's (the order first, as requesting a
return does), so two clerks receiving the same line at once queue, and the later one is refused what the
earlier one took. Stock moves through the inventory ledger only:
- `restock`: back to sellable stock at the location (a `return` movement), which serves backorders;
- `damaged` and `to_vendor`: to the location's non-sellable units (a `return` movement marked not sellable);
- `write_off`: in and straight out again (`return` then `write_off`, both not sellable)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.alerts import evaluate_levels
from inventory.ledger import level_for, lot_for, post_movement, post_non_sellable
from inventory.models import Location, LocationKind, Lot, MovementKind
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, ValidationFailed
from oms.outbox import emit
from orders.models import EventKind
from orders.services import LineQuantity, record_return
from orders.services.common import locked_order, write_event
from returns import money
from returns.models import Disposition, Refund, RefundMethod, Return, ReturnOutcome, ReturnReceipt
from returns.models import ReturnStatus as S
from returns.services.common import locked, move, payload, visible, write
from returns.services.exchanges import cancel_replacement, release_replacement
from returns.services.refunds import record_refund

NON_SELLABLE_REASONS = {
    Disposition.DAMAGED: "returned damaged",
    Disposition.TO_VENDOR: "returned, held for the vendor",
    Disposition.WRITE_OFF: "returned, written off",
}


class ReceiptExceedsReturn(Conflict):
    code = "receipt_exceeds_return"
    title = "More units than the return asked back"


@dataclass(frozen=True)
class ReceiptLine:
    order_line: int
    quantity: int
    disposition: str  # a Disposition


def receive_return(*, scope: Scope, return_id, location: str, lines: list[ReceiptLine]) -> Return:
    """Record units of an approved return arriving at `location` (a location that accepts returns; for a store
    clerk, one of their stores), each with its disposition. Partial receipts add up; more than was asked back is
    refused (409 `receipt_exceeds_return`). When every unit is in, the return concludes (refund, store credit or
    exchange)."""
    tenant, actor = scope.tenant, scope.actor
    rma = visible(scope, return_id, receiving=True)
    store = _receiving_location(scope, location)
    if not lines:
        raise ValidationFailed(errors={"lines": ["Name the units received."]})
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=rma.order_id)
        rma = locked(scope, return_id, receiving=True)
        rma.order = order
        if rma.location_id is None and store.kind == LocationKind.STORE:
            rma.location = store  # a mail return brought to a counter becomes that store's
            rma.save(update_fields=["location", "updated_at"])
        if rma.status not in (S.APPROVED, S.RECEIVED):
            raise IllegalTransition(
                f"Return {rma.number} is {rma.status}: only an approved return can be received.",
                current=rma.status,
                requested=S.RECEIVED,
            )
        arriving = _arriving(rma, lines)
        restocked = _move_stock(tenant, actor, rma, store, arriving)
        record_return(
            tenant=tenant,
            order_id=order.id,
            lines=[LineQuantity(line.order_line_id, units) for line, units, _ in arriving],
            actor=actor,
            reference=f"Return {rma.number} received at {store.code}.",
        )
        now = timezone.now()
        for line, units, disposition in arriving:
            line.quantity_received += units
            line.save(update_fields=["quantity_received"])
            ReturnReceipt.objects.create(
                tenant=tenant,
                rma=rma,
                line=line,
                location=store,
                quantity=units,
                disposition=disposition,
                received_at=now,
                received_by=actor.label[:200],
            )
        summary = ", ".join(f"{units} × {line.order_line.sku} ({disposition})" for line, units, disposition in arriving)
        if rma.status == S.APPROVED:
            move(rma, to=S.RECEIVED, actor=actor, kind="received", message=f"At {store.code}: {summary}")
        else:
            write(rma, actor=actor, kind="received", message=f"At {store.code}: {summary}")
        emit(
            tenant,
            "return.received",
            payload(
                rma,
                location=store.code,
                lines=[
                    {
                        "order_line": line.order_line_id,
                        "sku": line.order_line.sku,
                        "quantity": units,
                        "disposition": disposition,
                    }
                    for line, units, disposition in arriving
                ],
            ),
        )
        if restocked:
            emit(
                tenant,
                "stock.adjusted",
                {
                    "source": "return",
                    "return": rma.number,
                    "skus": sorted({level.product.sku for level in restocked}),
                    "locations": [store.code],
                    "rows": len(restocked),
                },
            )
            evaluate_levels(tenant=tenant, level_ids=sorted({level.id for level in restocked}))
        if all(line.quantity_received >= line.quantity for line in rma.lines.all()):
            conclude(rma, actor=actor)
    return rma


def close_return(*, scope: Scope, return_id, reason: str = "") -> Return:
    """Stop waiting for the rest: an approved return of which nothing came is closed; a partly received one
    concludes with the units that came (refund, store credit or exchange)."""
    reason = (reason or "").strip()
    tenant = scope.tenant
    rma = visible(scope, return_id)
    with transaction.atomic():
        order = locked_order(scope=Scope.system(tenant), order_id=rma.order_id)
        rma = locked(scope, return_id)
        rma.order = order
        if rma.status == S.APPROVED:
            move(rma, to=S.CLOSED, actor=scope.actor, kind="closed", message=reason or "Nothing came back.")
            cancel_replacement(tenant=tenant, rma=rma, reason="closed: nothing came back.")
            _announce_closed(rma, actor=scope.actor)
        elif rma.status == S.RECEIVED:
            conclude(rma, actor=scope.actor, note=reason)
        else:
            raise IllegalTransition(
                f"Return {rma.number} is {rma.status}: only an approved or partly received return can be closed.",
                current=rma.status,
                requested=S.CLOSED,
            )
    return rma


def conclude(rma: Return, *, actor: Actor, note: str = "") -> None:
    """Everything that will come is in: the return is inspected, its money worked out (returns.money) and given
    back as its outcome says; an exchange's replacement may ship. Runs inside the receipt's transaction."""
    tenant = rma.order.tenant
    move(rma, to=S.INSPECTED, actor=actor, kind="inspected", message=note)
    received = {line: line.quantity_received for line in rma.lines.select_related("order_line", "reason")}
    received = {line: units for line, units in received.items() if units}
    settlement = money.settle(rma=rma, received=received, actor=actor)
    outcome = rma.outcome or ReturnOutcome.REFUND
    if outcome == ReturnOutcome.EXCHANGE and rma.exchange_order is not None:
        difference = rma.exchange_order.total - settlement.total
        rma.amount_due = max(difference, 0)
        rma.save(update_fields=["amount_due", "updated_at"])
        if difference < 0:
            _refund(rma, settlement, amount=-difference, method=RefundMethod.ORIGINAL_PAYMENT, actor=actor)
        release_replacement(tenant=tenant, rma=rma)
        message = (
            f"Replacement order {rma.exchange_order.number}; the customer owes {rma.amount_due} {rma.order.currency}."
            if difference > 0
            else f"Replacement order {rma.exchange_order.number}."
        )
        move(rma, to=S.EXCHANGED, actor=actor, kind="exchanged", message=message)
    elif settlement.total > 0:
        method = RefundMethod.STORE_CREDIT if outcome == ReturnOutcome.STORE_CREDIT else RefundMethod.ORIGINAL_PAYMENT
        refund = _refund(rma, settlement, amount=settlement.total, method=method, actor=actor)
        move(
            rma,
            to=S.REFUNDED,
            actor=actor,
            kind="refunded",
            message=f"{refund.get_method_display()}: {refund.amount} {refund.currency}.",
        )
    else:
        move(rma, to=S.CLOSED, actor=actor, kind="closed", message="Nothing to give back.")
    _announce_closed(rma, actor=actor)


def _refund(rma: Return, settlement, *, amount, method: str, actor: Actor) -> Refund:
    return record_refund(rma=rma, settlement=settlement, amount=amount, method=method, actor=actor)


def _announce_closed(rma: Return, *, actor: Actor) -> None:
    write_event(
        rma.order,
        actor=actor,
        kind=EventKind.RETURN_CLOSED,
        message=f"Return {rma.number} {rma.get_status_display().lower()}.",
    )
    emit(rma.order.tenant, "return.closed", payload(rma, amount_due=str(rma.amount_due)))


# --- the parts ---------------------------------------------------------------------------------------------


def _receiving_location(scope: Scope, code: str) -> Location:
    code = (code or "").strip()
    location = Location.objects.for_tenant(scope.tenant).filter(code=code).first() if code else None
    if location is None:
        raise ValidationFailed(errors={"location": [f"No location {code!r}." if code else "Name the location."]})
    scope.require_location(location)
    if not location.accepts_returns or not location.active:
        raise ValidationFailed(errors={"location": [f"Location {code} does not accept returns."]})
    return location


def _arriving(rma: Return, lines: list[ReceiptLine]) -> list[tuple]:
    """[(ReturnLine, units, disposition)] for the receipt: lines of this return (400 naming each that is not) and
    no more units than are still awaited (409 naming each line)."""
    by_order_line = {line.order_line_id: line for line in rma.lines.select_related("order_line__product", "reason")}
    errors, arriving, beyond = {}, [], []
    wanted: dict[int, int] = {}
    for index, item in enumerate(lines):
        line = by_order_line.get(item.order_line)
        if line is None:
            errors[str(index)] = {
                "order_line": [f"Return {rma.number} does not ask back order line {item.order_line}."]
            }
            continue
        if item.disposition not in Disposition.values:
            errors[str(index)] = {"disposition": [f"Unknown disposition {item.disposition!r}."]}
            continue
        wanted[line.id] = wanted.get(line.id, 0) + item.quantity
        arriving.append((line, item.quantity, item.disposition))
    if errors:
        raise ValidationFailed(errors={"lines": errors})
    for line in by_order_line.values():
        awaited = line.quantity - line.quantity_received
        if wanted.get(line.id, 0) > awaited:
            beyond.append(
                {
                    "order_line": line.order_line_id,
                    "sku": line.order_line.sku,
                    "asked_back": line.quantity,
                    "received": line.quantity_received,
                    "arriving": wanted[line.id],
                }
            )
    if beyond:
        raise ReceiptExceedsReturn(
            "More units than the return still awaits: "
            + ", ".join(
                f"{b['sku']} ({b['arriving']} arriving, {b['asked_back'] - b['received']} awaited)" for b in beyond
            )
            + ".",
            lines=beyond,
        )
    return arriving


def _move_stock(tenant, actor: Actor, rma: Return, store: Location, arriving: list) -> list:
    """The ledger movements of the receipt, in product order (the order every stock writer locks rows in); the
    stock rows that became sellable again."""
    restocked = []
    for line, units, disposition in sorted(arriving, key=lambda item: item[0].order_line.product_id):
        product = line.order_line.product
        level = level_for(tenant=tenant, product=product, location=store)
        if disposition == Disposition.RESTOCK:
            post_movement(
                tenant=tenant,
                level=level,
                kind=MovementKind.RETURN,
                quantity=units,
                actor=actor,
                reason=f"return: {line.reason.code}",
                reference=rma.number,
                lot=_restock_lot(tenant, level, line) if product.tracks_lots else None,
            )
            restocked.append(level)
            continue
        post_non_sellable(
            tenant=tenant,
            level=level,
            kind=MovementKind.RETURN,
            quantity=units,
            actor=actor,
            reason=NON_SELLABLE_REASONS[disposition],
            reference=rma.number,
        )
        if disposition == Disposition.WRITE_OFF:
            post_non_sellable(
                tenant=tenant,
                level=level,
                kind=MovementKind.WRITE_OFF,
                quantity=-units,
                actor=actor,
                reason=f"return: {line.reason.code}",
                reference=rma.number,
            )
    return restocked


def _restock_lot(tenant, level, line) -> Lot:
    """Fresh goods go back into the lot they left in (same code and expiry, at the receiving location); an expired
    lot is never sellable again."""
    shipped = (
        Lot.objects.for_tenant(tenant)
        .filter(allocations__reservation__order_line_id=line.order_line_id)
        .order_by("-expires_on")
        .first()
    )
    if shipped is None:
        raise ValidationFailed(
            errors={
                "disposition": [f"{line.order_line.sku} tracks lots and its lot is unknown: it cannot be restocked."]
            }
        )
    if shipped.expires_on < timezone.localdate():
        raise ValidationFailed(
            errors={
                "disposition": [
                    f"{line.order_line.sku} lot {shipped.code} expired on {shipped.expires_on}: "
                    "receive it as damaged or written off."
                ]
            }
        )
    return lot_for(tenant=tenant, level=level, code=shipped.code, expires_on=shipped.expires_on)
