"""Refunds: recorded when a return concludes (returns.services.receipt), settled by the payment side.

A refund to the original payment is `pending` and announced as `return.refund_due`; the payment integration pays
it and settles it here with its own reference. Store credit is settled at once: the amount is recorded for the
customer (StoreCredit) and `return.refund_due` says so with method `store_credit`."""

from django.db import transaction
from django.utils import timezone

from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.outbox import emit
from orders.models import EventKind
from orders.services.common import write_event
from returns.models import Refund, RefundMethod, RefundStatus, Return, StoreCredit
from returns.selectors import refunds_for
from returns.services.common import payload, write


class StoreCreditNeedsCustomer(Conflict):
    code = "store_credit_needs_customer"
    title = "Store credit needs a known customer"


def record_refund(*, rma: Return, settlement, amount, method: str, actor: Actor) -> Refund:
    """Record the money owed back for a concluded return, inside its transaction."""
    order, tenant = rma.order, rma.order.tenant
    if method == RefundMethod.STORE_CREDIT and order.customer_id is None:
        raise StoreCreditNeedsCustomer(
            f"Order {order.number} has no customer to hold store credit: refund the original payment instead."
        )
    now = timezone.now()
    refund = Refund.objects.create(
        tenant=tenant,
        rma=rma,
        order=order,
        amount=amount,
        currency=order.currency,
        method=method,
        status=RefundStatus.SETTLED if method == RefundMethod.STORE_CREDIT else RefundStatus.PENDING,
        credit_note=settlement.credit_note,
        breakdown={**settlement.breakdown(), "value": str(settlement.value), "amount": str(amount)},
        created_at=now,
        settled_at=now if method == RefundMethod.STORE_CREDIT else None,
        settled_by=actor.label[:200] if method == RefundMethod.STORE_CREDIT else "",
        payment_reference="store credit" if method == RefundMethod.STORE_CREDIT else "",
    )
    if method == RefundMethod.STORE_CREDIT:
        StoreCredit.objects.create(
            tenant=tenant, customer_id=order.customer_id, amount=amount, currency=order.currency, refund=refund
        )
    write_event(
        order,
        actor=actor,
        kind=EventKind.REFUND_DUE,
        message=f"Return {rma.number}: {amount} {order.currency} ({refund.get_method_display()}).",
    )
    emit(
        tenant,
        "return.refund_due",
        payload(
            rma,
            refund_id=refund.id,
            amount=str(amount),
            currency=order.currency,
            method=method,
            refund_status=refund.status,
            credit_note=settlement.credit_note.number if settlement.credit_note is not None else None,
        ),
    )
    return refund


def settle_refund(*, scope: Scope, refund_id, reference: str) -> Refund:
    """The payment side paid a pending refund: record its reference. Settling again with the same reference
    answers the refund as it is; another reference is a 409."""
    reference = (reference or "").strip()
    with transaction.atomic():
        try:
            refund = (
                refunds_for(scope=scope)
                .select_for_update(of=("self",))
                .select_related("rma__order", "rma__channel", "order")
                .get(id=refund_id)
            )
        except (Refund.DoesNotExist, ValueError, TypeError):
            raise NotFound("No such refund.") from None
        if not reference:
            raise ValidationFailed(errors={"reference": ["Give the payment's reference."]})
        if refund.status == RefundStatus.SETTLED:
            if refund.payment_reference == reference:
                return refund
            raise Conflict(
                f"The refund was already settled with reference {refund.payment_reference!r}.",
                payment_reference=refund.payment_reference,
            )
        refund.status, refund.payment_reference = RefundStatus.SETTLED, reference[:120]
        refund.settled_at, refund.settled_by = timezone.now(), scope.actor.label[:200]
        refund.save(update_fields=["status", "payment_reference", "settled_at", "settled_by"])
        write(
            refund.rma,
            actor=scope.actor,
            kind="refund_settled",
            message=f"{refund.amount} {refund.currency}: {reference}",
        )
        write_event(
            refund.order,
            actor=scope.actor,
            kind=EventKind.REFUND_SETTLED,
            message=f"Refund of {refund.amount} {refund.currency} settled ({reference}).",
        )
        emit(
            scope.tenant,
            "refund.settled",
            payload(
                refund.rma,
                refund_id=refund.id,
                amount=str(refund.amount),
                currency=refund.currency,
                payment_reference=reference,
            ),
        )
    return refund
