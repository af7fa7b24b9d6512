"""Return use cases (writes): request a return, approve, reject or cancel it. Each is one transaction that
locks what it changes, checks the state map (returns/states.py), writes the return's timeline, notes it on the
order's timeline and emits its outbox event."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.models import Location, Product
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import NotFound, ValidationFailed
from oms.outbox import emit
from oms.sequences import next_value
from orders.models import EventKind
from orders.services.common import locked_order, write_event
from returns import policy
from returns.models import ExchangeLine, Return, ReturnEvent, ReturnLine, ReturnMethod, ReturnOutcome, ReturnReason
from returns.models import ReturnStatus as S
from returns.selectors import returns_for
from returns.states import check_transition
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
        _write(rma, actor=scope.actor, kind="requested", message=comment[:500])
        write_event(
            order, actor=scope.actor, kind=EventKind.RETURN_REQUESTED, message=f"Return {rma.number} requested."
        )
        emit(
            tenant,
            "return.requested",
            _payload(
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
        rma = _locked(scope, return_id)
        _approve(rma, actor=scope.actor, message="")
    return rma


def reject_return(*, scope: Scope, return_id: int, reason: str) -> Return:
    """Refuse a requested return, saying why; its units may be asked back again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        rma = _locked(scope, return_id)
        if not reason:
            raise ValidationFailed(errors={"reason": ["Say why the return is rejected."]})
        _move(rma, to=S.REJECTED, actor=scope.actor, kind="rejected", message=reason, decision_reason=reason)
        write_event(
            rma.order,
            actor=scope.actor,
            kind=EventKind.RETURN_REJECTED,
            message=f"Return {rma.number} rejected: {reason}"[:500],
        )
        emit(scope.tenant, "return.rejected", _payload(rma, reason=reason))
    return rma


def cancel_return(*, scope: Scope, return_id: int, reason: str = "") -> Return:
    """Withdraw a return before anything came back (requested or approved); its units may be asked back again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        rma = _locked(scope, return_id)
        _move(rma, to=S.CANCELLED, actor=scope.actor, kind="cancelled", message=reason)
        rma.closed_at = timezone.now()
        rma.save(update_fields=["closed_at", "updated_at"])
        write_event(
            rma.order, actor=scope.actor, kind=EventKind.RETURN_CANCELLED, message=f"Return {rma.number} cancelled."
        )
        emit(scope.tenant, "return.cancelled", _payload(rma, reason=reason))
    return rma


# --- the parts ---------------------------------------------------------------------------------------------


def _approve(rma: Return, *, actor: Actor, message: str) -> None:
    _move(rma, to=S.APPROVED, actor=actor, kind="approved", message=message)
    write_event(rma.order, actor=actor, kind=EventKind.RETURN_APPROVED, message=f"Return {rma.number} approved.")
    emit(rma.order.tenant, "return.approved", _payload(rma, auto_approved=rma.auto_approved))


def _move(rma: Return, *, to: str, actor: Actor, kind: str, message: str, decision_reason: str | None = None) -> None:
    """The one place a return's status changes: checked against the map, written on its timeline."""
    check_transition(rma.status, to)
    rma.status = to
    fields = ["status", "updated_at"]
    if to in (S.APPROVED, S.REJECTED):
        rma.decided_at = timezone.now()
        fields += ["decided_at", "auto_approved"]
    if decision_reason is not None:
        rma.decision_reason = decision_reason[:500]
        fields.append("decision_reason")
    rma.save(update_fields=fields)
    _write(rma, actor=actor, kind=kind, message=message)


def _write(rma: Return, *, actor: Actor, kind: str, message: str) -> None:
    ReturnEvent.objects.create(
        tenant_id=rma.tenant_id,
        rma=rma,
        actor_label=actor.label[:200],
        kind=kind,
        status=rma.status,
        message=message[:500],
    )


def _payload(rma: Return, **extra) -> dict:
    return {
        "return_id": rma.id,
        "number": rma.number,
        "order_id": rma.order_id,
        "order_number": rma.order.number,
        "channel": rma.channel.code,
        "status": rma.status,
        **extra,
    }


def _locked(scope: Scope, return_id: int) -> Return:
    """The return, locked, as the scope sees it (another tenant's, channel's or store's: 404)."""
    try:
        return (
            returns_for(scope=scope)
            .select_for_update(of=("self",))
            .select_related("order__tenant", "channel")
            .get(id=return_id)
        )
    except (Return.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such return.") from None


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
