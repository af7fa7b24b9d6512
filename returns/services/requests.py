"""Requesting a return (with an exchange's replacement order), approving, rejecting or withdrawing it."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.models import Location, Product
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import ValidationFailed
from oms.outbox import emit
from oms.sequences import next_value
from orders.models import EventKind
from orders.services.common import locked_order, write_event
from returns import policy
from returns.models import ExchangeLine, Return, ReturnLine, ReturnMethod, ReturnOutcome, ReturnReason
from returns.models import ReturnStatus as S
from returns.services.common import locked, move, payload, write
from returns.services.exchanges import cancel_replacement, place_replacement
from returns.services.refunds import StoreCreditNeedsCustomer
from returns.tenant_settings import rma_prefix

SEQUENCE = "return"


@dataclass(frozen=True)
class LineRequest:
    order_line: int
    quantity: int
    reason: str  # a ReturnReason's code


@dataclass(frozen=True)
class ExchangeRequest:
    sku: str
    quantity: int


def request_return(
    *,
    scope: Scope,
    order_id: int,
    method: str,
    lines: list[LineRequest],
    comment: str = "",
    outcome: str = "",
    exchange_lines: list[ExchangeRequest] | None = None,
    location: str = "",
) -> Return:
    """Open a return (RMA) for units of an order the caller may see: a channel key its own channel's orders, a
    store clerk any order of the tenant (bought online, returned in store), at one of their stores. Malformed
    input is a 400; the policy's refusals are 409 naming the rule (returns.policy). The order's row stays locked
    from the check to the commit, so concurrent requests for the same units queue and the later one is refused."""
    tenant, now = scope.tenant, timezone.now()
    with transaction.atomic():
        order = locked_order(scope=scope, order_id=order_id)
        order_lines = list(order.lines.select_related("product").order_by("line_number"))
        asked = _asked_lines(tenant, order_lines, lines)
        store = _return_location(scope, method, location)
        exchange = _exchange_products(tenant, outcome, exchange_lines or [])
        policy.check_request(order=order, order_lines=order_lines, lines=asked, now=now)
        if outcome == ReturnOutcome.STORE_CREDIT and order.customer_id is None:
            raise StoreCreditNeedsCustomer(
                f"Order {order.number} has no customer to hold store credit: ask for a refund instead."
            )

        sequence = next_value(tenant=tenant, name=SEQUENCE)
        rma = Return.objects.create(
            tenant=tenant,
            number=f"{rma_prefix(tenant)}{sequence:06d}",
            sequence=sequence,
            order=order,
            channel=order.channel,
            method=method,
            outcome=outcome,
            location=store,
            comment=comment,
            requested_by=scope.actor.label[:200],
            requested_at=now,
        )
        ReturnLine.objects.for_tenant(tenant).bulk_create(
            [
                ReturnLine(
                    tenant=tenant, rma=rma, order_line=item.order_line, quantity=item.quantity, reason=item.reason
                )
                for item in asked
            ]
        )
        ExchangeLine.objects.for_tenant(tenant).bulk_create(
            [
                ExchangeLine(tenant=tenant, rma=rma, product=product, sku=product.sku, quantity=qty)
                for product, qty in exchange
            ]
        )
        if exchange:
            rma.exchange_order = place_replacement(
                rma=rma, order=order, asked=asked, products=exchange, actor=scope.actor
            )
            rma.amount_due = max(rma.exchange_order.total - policy.value_of(asked), 0)
            rma.save(update_fields=["exchange_order", "amount_due", "updated_at"])
        write(rma, actor=scope.actor, kind="requested", message=comment[:500])
        write_event(
            order, actor=scope.actor, kind=EventKind.RETURN_REQUESTED, message=f"Return {rma.number} requested."
        )
        emit(
            tenant,
            "return.requested",
            payload(
                rma,
                method=method,
                outcome=outcome,
                lines=[
                    {
                        "order_line": item.order_line.id,
                        "sku": item.order_line.sku,
                        "quantity": item.quantity,
                        "reason": item.reason.code,
                    }
                    for item in asked
                ],
            ),
        )
        if policy.approves_automatically(order=order, lines=asked, now=now):
            rma.auto_approved = True
            _approve(rma, actor=Actor.system("return policy"), message="Approved by the tenant's return policy.")
    return rma


def approve_return(*, scope: Scope, return_id: int) -> Return:
    """A person (or an integration) accepts a requested return: the customer may send or bring the units."""
    with transaction.atomic():
        rma = locked(scope, return_id)
        _approve(rma, actor=scope.actor, message="")
    return rma


def reject_return(*, scope: Scope, return_id: int, reason: str) -> Return:
    """Refuse a requested return, saying why; its units may be asked back again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        rma = locked(scope, return_id)
        if not reason:
            raise ValidationFailed(errors={"reason": ["Say why the return is rejected."]})
        move(rma, to=S.REJECTED, actor=scope.actor, kind="rejected", message=reason, decision_reason=reason)
        write_event(
            rma.order,
            actor=scope.actor,
            kind=EventKind.RETURN_REJECTED,
            message=f"Return {rma.number} rejected: {reason}"[:500],
        )
        cancel_replacement(tenant=scope.tenant, rma=rma, reason="rejected.")
        emit(scope.tenant, "return.rejected", payload(rma, reason=reason))
    return rma


def cancel_return(*, scope: Scope, return_id: int, reason: str = "") -> Return:
    """Withdraw a return before anything came back (requested or approved); its units may be asked back again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        rma = locked(scope, return_id)
        move(rma, to=S.CANCELLED, actor=scope.actor, kind="cancelled", message=reason)
        write_event(
            rma.order, actor=scope.actor, kind=EventKind.RETURN_CANCELLED, message=f"Return {rma.number} cancelled."
        )
        cancel_replacement(tenant=scope.tenant, rma=rma, reason="cancelled.")
        emit(scope.tenant, "return.cancelled", payload(rma, reason=reason))
    return rma


# --- the parts ---------------------------------------------------------------------------------------------


def _approve(rma: Return, *, actor: Actor, message: str) -> None:
    move(rma, to=S.APPROVED, actor=actor, kind="approved", message=message)
    write_event(rma.order, actor=actor, kind=EventKind.RETURN_APPROVED, message=f"Return {rma.number} approved.")
    emit(rma.order.tenant, "return.approved", payload(rma, auto_approved=rma.auto_approved))


def _asked_lines(tenant, order_lines: list, lines: list[LineRequest]) -> list[policy.AskedLine]:
    """The request's lines as order lines of this order and active reasons of the tenant; a 400 naming each line
    that is not."""
    by_id = {line.id: line for line in order_lines}
    reasons = {reason.code: reason for reason in ReturnReason.objects.for_tenant(tenant).filter(active=True)}
    errors, asked, seen = {}, [], set()
    for index, item in enumerate(lines):
        problems = {}
        if item.order_line not in by_id:
            problems["order_line"] = ["No such line on this order."]
        elif item.order_line in seen:
            problems["order_line"] = ["This line is already asked back above: give its units once."]
        if item.reason not in reasons:
            problems["reason"] = [f"No active return reason {item.reason!r}."]
        if problems:
            errors[str(index)] = problems
            continue
        seen.add(item.order_line)
        asked.append(policy.AskedLine(by_id[item.order_line], item.quantity, reasons[item.reason]))
    if errors:
        raise ValidationFailed(errors={"lines": errors})
    return asked


def _return_location(scope: Scope, method: str, code: str):
    """Where a store return comes back: a location that accepts returns. A store clerk returns at one of their
    stores only (another is a 404, as for them it does not exist); naming none takes their first store."""
    code = (code or "").strip()
    if not code and scope.store_ids is not None and method == ReturnMethod.STORE:
        stores = scope.assigned_stores or []
        code = stores[0].code if stores else ""
    if not code:
        if scope.store_ids is not None:
            raise ValidationFailed(errors={"location": ["Name the store where the return is made."]})
        return None
    location = Location.objects.for_tenant(scope.tenant).filter(code=code).first()
    if location is None:
        raise ValidationFailed(errors={"location": [f"No location {code!r}."]})
    scope.require_location(location)
    if not location.accepts_returns:
        raise ValidationFailed(errors={"location": [f"Location {code} does not accept returns."]})
    return location


def _exchange_products(tenant, outcome: str, items: list[ExchangeRequest]) -> list[tuple]:
    """An exchange names what the customer wants instead: active products of the catalogue."""
    if outcome != ReturnOutcome.EXCHANGE:
        if items:
            raise ValidationFailed(errors={"exchange_lines": ["Only an exchange names exchange lines."]})
        return []
    if not items:
        raise ValidationFailed(errors={"exchange_lines": ["An exchange names what the customer wants instead."]})
    products = {
        product.sku: product
        for product in Product.objects.for_tenant(tenant).filter(sku__in=[item.sku for item in items], active=True)
    }
    errors = {
        str(index): {"sku": [f"No active product with SKU {item.sku!r}."]}
        for index, item in enumerate(items)
        if item.sku not in products
    }
    if errors:
        raise ValidationFailed(errors={"exchange_lines": errors})
    return [(products[item.sku], item.quantity) for item in items]
