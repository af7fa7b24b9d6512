"""Read queries for returns, each narrowed to what the caller may see: a channel key its own channel's returns,
a store clerk the returns made at their stores, everyone else every return of the tenant."""

from django.db.models import Prefetch, Q, Sum

from oms.api.scope import Scope, rows
from oms.errors import NotFound
from returns.models import ExchangeLine, Refund, Return, ReturnEvent, ReturnLine, ReturnReceipt


def returns_for(*, scope: Scope | None):
    if scope is None:
        return Return.objects.none()
    return scope.narrow_to_stores(scope.narrow_to_channel(rows(Return, scope)))


def receivable_by(*, scope: Scope | None):
    """The returns the scope may receive: those it sees, and for a store clerk also the mail returns (made at no
    store), which a customer may bring to any counter."""
    if scope is None:
        return Return.objects.none()
    queryset = scope.narrow_to_channel(rows(Return, scope))
    if scope.store_ids is None:
        return queryset
    return queryset.filter(Q(location_id__in=scope.store_ids) | Q(location__isnull=True))


def attach_to_order(order) -> None:
    """An order's detail shows its returns (`order.return_list`): number, status and units asked back."""
    order.return_list = list(
        Return.objects.for_tenant(order.tenant_id)
        .filter(order=order)
        .annotate(units=Sum("lines__quantity"))
        .order_by("sequence")
    )


def _detailed(queryset):
    return queryset.select_related("order", "channel", "location", "exchange_order").prefetch_related(
        Prefetch(
            "lines",
            queryset=ReturnLine.all_tenants.select_related("order_line", "reason")
            .prefetch_related(Prefetch("receipts", queryset=ReturnReceipt.all_tenants.select_related("location")))
            .order_by("id"),
        ),
        Prefetch("refunds", queryset=Refund.all_tenants.select_related("credit_note").order_by("id")),
        Prefetch("exchange_lines", queryset=ExchangeLine.all_tenants.order_by("id")),
        Prefetch("events", queryset=ReturnEvent.all_tenants.order_by("at", "id")),
    )


def return_list(*, scope: Scope | None, status: str = "", order: int | None = None, channel: str = ""):
    queryset = returns_for(scope=scope)
    if status:
        queryset = queryset.filter(status=status)
    if order is not None:
        queryset = queryset.filter(order_id=order)
    if channel:
        queryset = queryset.filter(channel__code=channel)
    return _detailed(queryset).order_by("-id")


def return_detail(*, scope: Scope | None, return_id) -> Return:
    try:
        return _detailed(returns_for(scope=scope)).get(id=return_id)
    except (Return.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such return.") from None


def refunds_for(*, scope: Scope | None):
    """The refunds the scope may see: a channel key its channel's, a store clerk those of returns made at their
    stores, everyone else the tenant's."""
    if scope is None:
        return Refund.objects.none()
    return scope.narrow_to_stores(scope.narrow_to_channel(rows(Refund, scope), "rma__channel"), "rma__location")


def refund_list(*, scope: Scope | None, status: str = "", method: str = "", order=None, return_id=None):
    queryset = refunds_for(scope=scope)
    if status:
        queryset = queryset.filter(status=status)
    if method:
        queryset = queryset.filter(method=method)
    if order is not None:
        queryset = queryset.filter(order_id=order)
    if return_id is not None:
        queryset = queryset.filter(rma_id=return_id)
    return queryset.select_related("credit_note").order_by("-id")


def refund_detail(*, scope: Scope | None, refund_id) -> Refund:
    try:
        return refund_list(scope=scope).get(id=refund_id)
    except (Refund.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such refund.") from None
