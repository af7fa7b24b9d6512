"""The returns desk of the store screens, for clerks on a tablet: find the order (its number, a receipt's barcode,
the customer's e-mail) or the return (its RMA number), take units back with their reason and what becomes of them,
approve and receive them at once where the policy or the caller's role allows, and print the slip; receive an
approved mail return brought to the counter; the returns made at the store.

The store comes from the caller's stores (another store, or another tenant's, is a 404); any order of the tenant may
be returned here whatever channel sold it. Readers (manager, viewer) see the desk without its buttons."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from inventory.selectors import store_for, stores_for
from oms.errors import DomainError, NotFound
from oms.permissions import page_access, page_roles
from returns import desk, reasons, services
from returns.forms import DeskReturnForm, ReceiveForm
from returns.models import ReturnMethod, ReturnStatus
from returns.refusals import describe
from returns.selectors import receivable_by
from returns.views import line_rows

WORKERS = page_roles("returns", write=True)
DECIDERS = page_roles("return_decisions", write=True)
RECEIVERS = page_roles("return_receipts", write=True)
SELLERS = page_roles("store_sales", write=True)


def _store_or_404(request, code: str):
    try:
        return store_for(scope=request.oms_scope, code=code)
    except NotFound:
        raise Http404 from None


def _context(request, store, **extra) -> dict:
    """What the store screens' layout needs (the store, the switcher, the nav), and who may act here."""
    scope = request.oms_scope
    return {
        "store": store,
        "stores": stores_for(scope=scope),
        "can_sell": scope.has_role(*SELLERS),
        "can_work": scope.has_role(*WORKERS) and store.accepts_returns,
        "can_receive": scope.has_role(*RECEIVERS) and store.accepts_returns,
        **extra,
    }


def _require(request, store, roles):
    """Acting at the desk: a role that may, at a store that takes returns back."""
    if not request.oms_scope.has_role(*roles):
        raise PermissionDenied
    if not store.accepts_returns:
        raise Http404


def _language() -> str:
    return translation.get_language() or "en"


def _seen_by_scope(request, rma) -> bool:
    """Whether the caller may act on the return at this desk: the returns made at their stores, and the mail
    returns a customer brings to the counter (the receipt makes them this store's)."""
    return receivable_by(scope=request.oms_scope).filter(id=rma.id).exists()


@page_access("returns")
def desk_home(request, code: str):
    """The desk: one field for what the customer shows (scanned or typed); below it the returns made here."""
    store = _store_or_404(request, code)
    query = request.GET.get("q", "")
    rma, orders = desk.find(scope=request.oms_scope, store=store, query=query)
    if rma is not None:
        return redirect("store-return", code=store.code, pk=rma.id)
    if len(orders) == 1:
        return redirect("store-return-new", code=store.code, pk=orders[0].id)
    context = _context(
        request,
        store,
        query=query,
        orders=orders,
        recent=desk.recent_at(scope=request.oms_scope, store=store),
    )
    return render(request, "returns/desk.html", context)


def _order_or_404(request, pk: int):
    try:
        return desk.order_at_desk(scope=request.oms_scope, order_id=pk)
    except NotFound:
        raise Http404 from None


@page_access("returns")
def desk_new_return(request, code: str, pk: int):
    """An order's returnable lines; the clerk gives units, reason and disposition per line and the outcome. The
    return is requested at this store, approved at once where the policy (or the caller's role) allows, and then
    received here with the dispositions given."""
    store = _store_or_404(request, code)
    order = _order_or_404(request, pk)
    form = DeskReturnForm(
        request.POST or None,
        lines=desk.returnable_lines(order),
        reasons=reasons.reason_list(tenant=request.tenant, active=True),
        language=_language(),
    )
    status = 200
    if request.method == "POST":
        _require(request, store, WORKERS)
        if form.is_valid():
            try:
                rma = services.request_return(
                    scope=request.oms_scope,
                    order_id=order.id,
                    method=ReturnMethod.STORE,
                    lines=form.line_requests(),
                    comment=form.cleaned_data["comment"],
                    outcome=form.cleaned_data["outcome"],
                    exchange_lines=form.exchange_requests(),
                    location=store.code,
                )
            except NotFound:
                raise Http404 from None
            except DomainError as exc:
                form.add_error(None, describe(exc))
                status = exc.status
            else:
                _approve_and_receive(request, store, rma, form.receipt_lines())
                return redirect("store-return", code=store.code, pk=rma.id)
        else:
            status = 400
    context = _context(request, store, order=order, form=form)
    return render(request, "returns/desk_new.html", context, status=status)


def _approve_and_receive(request, store, rma, lines) -> None:
    """After the request: approve it when the caller decides returns and the policy did not, then receive the units
    here. Each step is its own transaction: the return stays requested (or approved) when a later step is refused."""
    scope = request.oms_scope
    messages.success(request, gettext("Return %(number)s recorded.") % {"number": rma.number})
    try:
        if rma.status == ReturnStatus.REQUESTED and scope.has_role(*DECIDERS):
            rma = services.approve_return(scope=scope, return_id=rma.id)
        if rma.status != ReturnStatus.APPROVED:
            messages.info(request, gettext("It waits for a decision: the units are received once it is approved."))
            return
        if not scope.has_role(*RECEIVERS):
            return
        services.receive_return(scope=scope, return_id=rma.id, location=store.code, lines=lines)
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, gettext("The units are received at %(store)s.") % {"store": store.name})


def _desk_return_or_404(request, store, pk: int):
    try:
        return desk.desk_return(scope=request.oms_scope, store=store, return_id=pk)
    except NotFound:
        raise Http404 from None


@page_access("returns")
def desk_return(request, code: str, pk: int):
    """A return at the desk: its number, status and lines, the slip to print and, while it is approved, what
    arrives at the counter and what becomes of it."""
    store = _store_or_404(request, code)
    rma = _desk_return_or_404(request, store, pk)
    form = ReceiveForm(request.POST or None, rma=rma)
    status = 200
    if request.method == "POST":
        _require(request, store, RECEIVERS)
        if form.is_valid():
            try:
                services.receive_return(
                    scope=request.oms_scope, return_id=rma.id, location=store.code, lines=form.receipt_lines()
                )
            except NotFound:
                raise Http404 from None
            except DomainError as exc:
                form.add_error(None, describe(exc))
                status = exc.status
            else:
                messages.success(request, gettext("The units are received at %(store)s.") % {"store": store.name})
                return redirect("store-return", code=store.code, pk=rma.id)
        else:
            status = 400
    seen = _seen_by_scope(request, rma)
    context = _context(
        request,
        store,
        rma=rma,
        lines=line_rows(rma, _language()),
        form=form,
        seen=seen,
        receivable=seen and rma.status in (ReturnStatus.APPROVED, ReturnStatus.RECEIVED) and bool(form.rows),
        slip_url=reverse("api-return-slip", args=[rma.id]) if seen else None,
    )
    return render(request, "returns/desk_return.html", context, status=status)
