"""What the stock operation endpoints (sync, transfers, counts, alert rules) share: a sales channel's key reads
them and never posts them; a location named in the query string."""

from django import forms
from rest_framework.views import APIView

from inventory.models import Location
from oms.api.pagination import StableCursorPagination
from oms.api.scope import scope_of
from oms.errors import NotFound


class StockOperationView(APIView):
    """Stock operations change stock: a sales channel's key may read them, never post them."""

    pagination_class = StableCursorPagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            scope_of(request).forbid_channel_key("change stock")

    def paginated(self, request, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def operation_query(statuses) -> dict:
    """The query of a stock operation list: `?status=` one of `statuses`, `?location=` a location's code."""
    return {
        "status": forms.ChoiceField(choices=[(s, s) for s in statuses], required=False),
        "location": forms.CharField(required=False, label="a location's code"),
    }


def location_param(request, name="location"):
    """The location the query string names (`?location=CODE`), None when it names none; an unknown code is a 404."""
    code = request.query_params.get(name, "").replace("\x00", "\ufffd").strip()
    if not code:
        return None
    location = Location.objects.for_tenant(request.tenant).filter(code=code).first()
    if location is None:
        raise NotFound(f"Unknown location {code}.")
    return location
