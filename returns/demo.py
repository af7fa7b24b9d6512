"""Demo data: returns in every state, on the demo's delivered orders, so that the returns queue, the desk and the
order pages have something to show: one waiting for a decision, approved ones on their way by mail and to the
clerk's store, one received in part, refunded ones (one refund still to settle, one settled, one as store credit),
an exchange, a rejection and one closed with nothing back. Safe to run again: a tenant with returns is left
alone."""

from inventory.models import Location, LocationKind
from oms.api.scope import Scope
from oms.errors import DomainError
from orders.models import Order, OrderStatus
from returns import services
from returns.models import Return


def seed_demo(tenant, stdout) -> None:
    if Return.objects.for_tenant(tenant).exists():
        stdout.write("  returns already there.")
        return
    scope = Scope.system(tenant, "demo")
    places = Location.objects.for_tenant(tenant).filter(accepts_returns=True, active=True).order_by("code")
    store = places.filter(kind=LocationKind.STORE).first()
    warehouse = places.filter(kind=LocationKind.WAREHOUSE).first() or store
    if store is None:
        stdout.write("  no store accepts returns: no demo returns.")
        return
    orders = iter(
        Order.objects.for_tenant(tenant)
        .filter(external_ref__startswith="DEMO-", status__in=(OrderStatus.DELIVERED, OrderStatus.COMPLETED))
        .exclude(customer=None)
        .order_by("id")
    )
    made = 0
    for plan in PLANS:
        order = next(orders, None)
        if order is None:
            break
        try:
            plan(scope, order, store, warehouse)
        except DomainError as exc:
            stdout.write(f"  {order.number}: {exc.detail}")
            continue
        made += 1
    stdout.write(f"  {made} demo return(s) in their states.")


def _ask(scope, order, reason, *, method="mail", store=None, outcome="", exchange=False, units=1):
    line = order.lines.order_by("line_number").first()
    return services.request_return(
        scope=scope,
        order_id=order.id,
        method=method,
        lines=[services.LineRequest(line.id, min(units, line.quantity_shipped), reason)],
        outcome=outcome,
        exchange_lines=[services.ExchangeRequest(line.sku, 1)] if exchange else None,
        location=store.code if store is not None and method == "store" else "",
        comment="Demo return.",
    )


def _receive(scope, rma, location, disposition="restock", units=None):
    line = rma.lines.first()
    services.receive_return(
        scope=scope,
        return_id=rma.id,
        location=location.code,
        lines=[services.ReceiptLine(line.order_line_id, units or line.quantity, disposition)],
    )


def _requested(scope, order, store, warehouse):
    _ask(scope, order, "too_small")


def _approved_by_mail(scope, order, store, warehouse):
    services.approve_return(scope=scope, return_id=_ask(scope, order, "changed_mind").id)


def _approved_at_the_store(scope, order, store, warehouse):
    rma = _ask(scope, order, "too_large", method="store", store=store)
    services.approve_return(scope=scope, return_id=rma.id)


def _received_in_part(scope, order, store, warehouse):
    line = order.lines.order_by("line_number").first()
    rma = _ask(scope, order, "defective", units=2)
    services.approve_return(scope=scope, return_id=rma.id)
    if line.quantity_shipped > 1:
        _receive(scope, rma, warehouse, disposition="to_vendor", units=1)


def _refund_to_settle(scope, order, store, warehouse):
    rma = _ask(scope, order, "damaged")
    services.approve_return(scope=scope, return_id=rma.id)
    _receive(scope, rma, warehouse, disposition="damaged")


def _refund_settled(scope, order, store, warehouse):
    rma = _ask(scope, order, "not_as_described")
    services.approve_return(scope=scope, return_id=rma.id)
    _receive(scope, rma, warehouse)
    refund = rma.refunds.first()
    if refund is not None:
        services.settle_refund(scope=scope, refund_id=refund.id, reference=f"DEMO-PSP-{refund.id:05d}")


def _store_credit(scope, order, store, warehouse):
    rma = _ask(scope, order, "changed_mind", method="store", store=store, outcome="store_credit")
    services.approve_return(scope=scope, return_id=rma.id)
    _receive(scope, rma, store)


def _exchanged(scope, order, store, warehouse):
    rma = _ask(scope, order, "too_small", outcome="exchange", exchange=True)
    services.approve_return(scope=scope, return_id=rma.id)
    _receive(scope, rma, warehouse)


def _rejected(scope, order, store, warehouse):
    services.reject_return(
        scope=scope, return_id=_ask(scope, order, "changed_mind").id, reason="Worn and washed: not resellable."
    )


def _closed(scope, order, store, warehouse):
    rma = _ask(scope, order, "wrong_item")
    services.approve_return(scope=scope, return_id=rma.id)
    services.close_return(scope=scope, return_id=rma.id, reason="Nothing came back within the window.")


PLANS = (
    _requested,
    _approved_by_mail,
    _approved_at_the_store,
    _received_in_part,
    _refund_to_settle,
    _refund_settled,
    _store_credit,
    _exchanged,
    _rejected,
    _closed,
)
