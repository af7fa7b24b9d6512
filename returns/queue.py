"""The back office's queue of returns (a read): filtered by status, reason, channel, location and age, searched by
RMA or order number, sorted by a column of the list, each row with its units."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, Sum

from oms.api.scope import Scope
from returns.models import ReturnLine
from returns.selectors import returns_for

# The list's columns that sort, by the name the page gives them in `?sort=` (a leading `-`: descending).
SORTS = {
    "number": ("sequence",),
    "requested": ("requested_at", "sequence"),
    "status": ("status", "sequence"),
    "order": ("order__number", "sequence"),
    "channel": ("channel__code", "sequence"),
    "location": ("location__code", "sequence"),
    "units": ("units", "sequence"),
}
DEFAULT_SORT = "-number"
NO_LOCATION = "-"  # the location filter's value for returns that name no store (by mail)


def chosen_sort(value: str) -> str:
    """The sort asked for when the list knows it, else the newest first."""
    return value if value.removeprefix("-") in SORTS else DEFAULT_SORT


def return_queue(
    *,
    scope: Scope | None,
    now: datetime,
    query: str = "",
    status: str = "",
    reason: str = "",
    channel: str = "",
    location: str = "",
    older_than: int | None = None,
    sort: str = DEFAULT_SORT,
):
    queryset = returns_for(scope=scope).select_related("order", "channel", "location")
    query = query.strip()
    if query:
        queryset = queryset.filter(Q(number__iexact=query) | Q(order__number__iexact=query))
    if status:
        queryset = queryset.filter(status=status)
    if reason:
        lines = ReturnLine.objects.for_tenant(scope.tenant).filter(rma=OuterRef("pk"), reason__code=reason)
        queryset = queryset.filter(Exists(lines))
    if channel:
        queryset = queryset.filter(channel__code=channel)
    if location == NO_LOCATION:
        queryset = queryset.filter(location__isnull=True)
    elif location:
        queryset = queryset.filter(location__code=location)
    if older_than is not None:
        queryset = queryset.filter(requested_at__lte=now - timedelta(days=older_than))
    sort = chosen_sort(sort)
    fields = SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    ordering = [f"-{field}" if descending else field for field in fields]
    return queryset.annotate(units=Sum("lines__quantity")).order_by(*ordering)
