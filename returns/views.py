"""Back-office pages of returns: the queue (filters, sorting, pages) and a return's page with its lines, receipts,
refunds, exchange and timeline, and the decisions on it (approve, reject, cancel, close, settle a refund). The same
services as the API do the work; a refused step is shown on the page in its language."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from channels.models import Channel
from inventory.models import Location
from oms.errors import DomainError, NotFound
from oms.permissions import page_access, page_roles, register_nav, role_of
from oms.views import register_home_tile
from returns import queue, reasons, selectors, services
from returns.forms import NoteForm, QueueForm, RejectForm, SettleForm
from returns.models import ReturnStatus
from returns.refusals import describe

READERS = page_roles("returns")
WORKERS = page_roles("returns", write=True)
DECIDERS = page_roles("return_decisions", write=True)
RECEIVERS = page_roles("return_receipts", write=True)
SETTLERS = page_roles("refund_settlement", write=True)
PER_PAGE = 50

register_nav(_("Returns"), "returns-list", READERS, order=37)


def _waiting_tile(request):
    if role_of(request) not in DECIDERS:
        return None
    waiting = selectors.returns_for(scope=request.oms_scope).filter(status=ReturnStatus.REQUESTED).count()
    return {
        "title": _("Returns awaiting a decision"),
        "value": waiting,
        "url": reverse("returns-list") + "?status=requested",
    }


register_home_tile(_waiting_tile)


def _language() -> str:
    return translation.get_language() or "en"


def _return_or_404(request, pk):
    try:
        return selectors.return_detail(scope=request.oms_scope, return_id=pk)
    except NotFound:
        raise Http404 from None


def _queue_locations(scope):
    """The locations a return can name (those that take returns back), a clerk's own only."""
    locations = Location.objects.for_tenant(scope.tenant).filter(accepts_returns=True)
    return scope.narrow_to_stores(locations, "pk").order_by("code")


@page_access("returns")
def return_list(request):
    """The queue: every return the caller may see, filtered, sorted by a column, fifty a page."""
    scope = request.oms_scope
    form = QueueForm(
        request.GET or None,
        reasons=reasons.reason_list(tenant=request.tenant),
        channels=scope.narrow_to_channel(Channel.objects.for_tenant(request.tenant), "pk").order_by("code"),
        locations=_queue_locations(scope),
        language=_language(),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    sort = queue.chosen_sort(filters.get("sort") or "")
    returns = queue.return_queue(
        scope=scope,
        now=timezone.now(),
        query=filters.get("q") or "",
        status=filters.get("status") or "",
        reason=filters.get("reason") or "",
        channel=filters.get("channel") or "",
        location=filters.get("location") or "",
        older_than=filters.get("older_than"),
        sort=sort,
    )
    page = Paginator(returns, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "returns/list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "columns": _sort_links(request, sort),
            "now": timezone.now(),
            "can_decide": scope.has_role(*DECIDERS),
        },
    )


def _sort_links(request, sort: str) -> dict:
    """Per sortable column, the link that sorts by it (descending when it already sorts ascending) and its arrow."""
    kept = request.GET.copy()
    kept.pop("page", None)
    links = {}
    for name in queue.SORTS:
        ascending = sort == name
        kept["sort"] = f"-{name}" if ascending else name
        arrow = "↑" if ascending else "↓" if sort == f"-{name}" else ""
        links[name] = {"url": "?" + kept.urlencode(), "arrow": arrow}
    return links


# How the kinds of the return's timeline read on a page.
EVENT_LABELS = {
    "requested": _("Requested"),
    "approved": _("Approved"),
    "rejected": _("Rejected"),
    "cancelled": _("Cancelled"),
    "received": _("Received"),
    "inspected": _("Inspected"),
    "refunded": _("Refunded"),
    "exchanged": _("Exchanged"),
    "closed": _("Closed"),
    "refund_settled": _("Refund settled"),
}


def line_rows(rma, language: str) -> list[dict]:
    """The return's lines with their reason in the page's language and what became of the units received."""
    return [
        {
            "line": line,
            "reason": line.reason.label(language),
            "receipts": ", ".join(
                f"{receipt.quantity} × {receipt.get_disposition_display()}" for receipt in line.receipts.all()
            ),
        }
        for line in rma.lines.all()
    ]


def receipts_of(rma) -> list:
    """Every receipt of the return, oldest first."""
    found = [receipt for line in rma.lines.all() for receipt in line.receipts.all()]
    return sorted(found, key=lambda receipt: (receipt.received_at, receipt.id))


@page_access("returns")
def return_detail(request, pk: int):
    rma = _return_or_404(request, pk)
    scope = request.oms_scope
    events = list(rma.events.all())
    for event in events:
        event.label = EVENT_LABELS.get(event.kind, event.kind)
    context = {
        "rma": rma,
        "lines": line_rows(rma, _language()),
        "units": sum(line.quantity for line in rma.lines.all()),
        "events": events,
        "receipts": receipts_of(rma),
        "refunds": list(rma.refunds.all()),
        "can_decide": scope.has_role(*DECIDERS),
        "can_cancel": scope.has_role(*WORKERS),
        "can_close": scope.has_role(*RECEIVERS),
        "can_settle": scope.has_role(*SETTLERS),
        "can_see_orders": scope.has_role(*page_roles("orders")),
        "closable": rma.status in (ReturnStatus.APPROVED, ReturnStatus.RECEIVED),
        "reject_form": RejectForm(auto_id="reject_%s"),
        "cancel_form": NoteForm(auto_id="cancel_%s"),
        "close_form": NoteForm(auto_id="close_%s"),
        "settle_form": SettleForm(),
        "statuses": ReturnStatus,
        "slip_url": reverse("api-return-slip", args=[rma.id]),
    }
    return render(request, "returns/detail.html", context)


# --- decisions ----------------------------------------------------------------------------------------------


def _act(request, pk: int, run, done: str):
    """Run a step on a return the caller sees (its lookup came first: 404), and say how it went."""
    try:
        run()
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, done)
    return redirect("return-detail", pk=pk)


def _invalid(request, pk: int, form):
    messages.error(request, " ".join(str(message) for errors in form.errors.values() for message in errors))
    return redirect("return-detail", pk=pk)


@require_POST
@page_access("return_decisions", write=True)
def return_approve(request, pk: int):
    rma = _return_or_404(request, pk)
    return _act(
        request,
        pk,
        lambda: services.approve_return(scope=request.oms_scope, return_id=pk),
        gettext("Return %(number)s approved.") % {"number": rma.number},
    )


@require_POST
@page_access("return_decisions", write=True)
def return_reject(request, pk: int):
    rma = _return_or_404(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.reject_return(scope=request.oms_scope, return_id=pk, reason=form.cleaned_data["reason"]),
        gettext("Return %(number)s rejected.") % {"number": rma.number},
    )


@require_POST
@page_access("returns", write=True)
def return_cancel(request, pk: int):
    rma = _return_or_404(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.cancel_return(scope=request.oms_scope, return_id=pk, reason=form.cleaned_data["reason"]),
        gettext("Return %(number)s cancelled.") % {"number": rma.number},
    )


@require_POST
@page_access("return_receipts", write=True)
def return_close(request, pk: int):
    rma = _return_or_404(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _act(
        request,
        pk,
        lambda: services.close_return(scope=request.oms_scope, return_id=pk, reason=form.cleaned_data["reason"]),
        gettext("Return %(number)s closed.") % {"number": rma.number},
    )


@require_POST
@page_access("refund_settlement", write=True)
def return_settle(request, pk: int):
    """The payment side of one of the return's refunds is done: record its reference."""
    rma = _return_or_404(request, pk)
    form = SettleForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    refund_id = form.cleaned_data["refund"]
    if not rma.refunds.filter(id=refund_id).exists():
        raise Http404
    return _act(
        request,
        pk,
        lambda: services.settle_refund(
            scope=request.oms_scope, refund_id=refund_id, reference=form.cleaned_data["reference"]
        ),
        gettext("Refund settled."),
    )
