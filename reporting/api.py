"""The KPI API: `GET /api/v1/kpis/?from=&to=[&channel=][&location=][&granularity=day|week|month]`, the same figures
the dashboards show, read from the KPI tables only."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import Location
from oms.api.common import query_parameters, read_query
from oms.api.scope import scope_of
from oms.errors import NotFound, ValidationFailed
from oms.sales_channels import find_channel
from reporting import selectors
from reporting.aggregation import today_for
from reporting.kpis import BY_NAME, NAMES

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366

KPI_QUERY = {
    "from": forms.DateField(
        required=False, label="first day (YYYY-MM-DD, the tenant's time zone); 29 days before `to` by default"
    ),
    "to": forms.DateField(required=False, label="last day, included; today by default"),
    "channel": forms.CharField(required=False, max_length=40, label="a channel's code"),
    "location": forms.CharField(required=False, max_length=40, label="a location's code"),
    "granularity": forms.ChoiceField(
        choices=[(g, g) for g in selectors.GRANULARITIES], required=False, label="day (default), week or month"
    ),
}


def as_json(name: str, value):
    """Money as a string in the tenant's currency, rates and scores as numbers, counts and seconds as integers."""
    if value is None:
        return None
    unit = BY_NAME[name].unit
    if unit == "money":
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def report_for(request) -> tuple[dict, selectors.Range]:
    """The range the query asks for, checked (404 for another tenant's channel or location), and its report."""
    scope = scope_of(request)
    query = read_query(request, KPI_QUERY)
    tenant = scope.tenant
    last = query["to"] or today_for(tenant)
    first = query["from"] or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(errors={"from": ["The first day comes after the last."]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(errors={"from": [f"Ask for at most {MAX_DAYS} days at a time."]})
    channel = location = None
    if query["channel"]:
        channel = find_channel(tenant=tenant, code=query["channel"])
        if channel is None:
            raise NotFound(f"No channel with code {query['channel']!r}.")
    if query["location"]:
        location = Location.objects.for_tenant(tenant).filter(code=query["location"]).first()
        if location is None:
            raise NotFound(f"No location with code {query['location']!r}.")
        scope.require_location(location)
    span = selectors.Range(
        first=first,
        last=last,
        granularity=query["granularity"] or "day",
        channel_id=channel.id if channel else None,
        location_id=location.id if location else None,
    )
    return selectors.kpi_report(tenant=tenant, scope=span), span


class Kpis(APIView):
    access = "kpis"

    @extend_schema(
        parameters=query_parameters(KPI_QUERY),
        responses=OpenApiResponse(
            description='{"from", "to", "granularity", "currency", "totals": {KPI: value}, '
            '"series": [{"period", KPI: value}]}; KPIs: ' + ", ".join(NAMES)
        ),
    )
    def get(self, request):
        report, span = report_for(request)
        return Response(
            {
                "from": span.first.isoformat(),
                "to": span.last.isoformat(),
                "granularity": span.granularity,
                "currency": scope_of(request).tenant.default_currency,
                "totals": {name: as_json(name, value) for name, value in report["totals"].items()},
                "series": [
                    {"period": row["period"].isoformat()} | {name: as_json(name, row[name]) for name in NAMES}
                    for row in report["series"]
                ],
            }
        )
