"""What every return use case shares: the one place a return's status changes, its timeline, its event payload,
and finding it (then locking it) as the caller's scope sees it."""

from django.utils import timezone

from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import NotFound
from returns.models import Return, ReturnEvent
from returns.models import ReturnStatus as S
from returns.selectors import receivable_by, returns_for
from returns.states import FINAL, check_transition


def move(rma: Return, *, to: str, actor: Actor, kind: str, message: str, decision_reason: str | None = None) -> None:
    """The one place a return's status changes: checked against the map, written on its timeline."""
    check_transition(rma.status, to)
    rma.status = to
    fields = ["status", "updated_at"]
    if to in (S.APPROVED, S.REJECTED):
        rma.decided_at = timezone.now()
        fields += ["decided_at", "auto_approved"]
    if to in FINAL:
        rma.closed_at = timezone.now()
        fields.append("closed_at")
    if decision_reason is not None:
        rma.decision_reason = decision_reason[:500]
        fields.append("decision_reason")
    rma.save(update_fields=fields)
    write(rma, actor=actor, kind=kind, message=message)


def write(rma: Return, *, actor: Actor, kind: str, message: str) -> None:
    ReturnEvent.objects.create(
        tenant_id=rma.tenant_id,
        rma=rma,
        actor_label=actor.label[:200],
        kind=kind,
        status=rma.status,
        message=message[:500],
    )


def payload(rma: Return, **extra) -> dict:
    return {
        "return_id": rma.id,
        "number": rma.number,
        "order_id": rma.order_id,
        "order_number": rma.order.number,
        "channel": rma.channel.code,
        "status": rma.status,
        **extra,
    }


def visible(scope: Scope, return_id, *, receiving: bool = False) -> Return:
    """The return as the scope sees it, not locked (another tenant's, channel's or store's: 404); `receiving`: as
    the scope may receive it (a clerk also a mail return, brought to their counter)."""
    found = receivable_by(scope=scope) if receiving else returns_for(scope=scope)
    try:
        return found.select_related("order", "channel").get(id=return_id)
    except (Return.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such return.") from None


def locked(scope: Scope, return_id, *, receiving: bool = False) -> Return:
    """The return, locked, as the scope sees it (another tenant's, channel's or store's: 404; `receiving` as for
    visible()). A caller that also changes the order locks the order's row first, as requesting a return does."""
    found = receivable_by(scope=scope) if receiving else returns_for(scope=scope)
    try:
        return (
            found.select_for_update(of=("self",))
            .select_related("order__tenant", "order__customer", "channel", "location", "exchange_order")
            .get(id=return_id)
        )
    except (Return.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such return.") from None
