"""The managers' dashboards: the overview (a tile per KPI against a comparison period, the charts), the drill-downs
by channel, location, product and reason, a location's own view, the CSV download of every chart and table, and
the weekly digest's switch. They read the KPI tables only, through reporting.selectors and reporting.dashboard."""

import csv
from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from inventory.selectors import location_list
from oms.permissions import page_access, page_roles, register_nav
from oms.sales_channels import channels_of, find_channel
from reporting import dashboard, digest, selectors
from reporting.aggregation import today_for
from reporting.forms import GRANULARITY_LABELS, ReportFilterForm

register_nav(_("Reports"), "reports", page_roles("kpis"), order=50)


@dataclass(frozen=True)
class Query:
    """The filters a dashboard was asked for, checked: codes found in the tenant, the range in bounds."""

    first: date
    last: date
    granularity: str
    compare: str
    channel: object
    location: object

    def span(self, first=None, last=None) -> selectors.Range:
        return selectors.Range(
            first=first or self.first,
            last=last or self.last,
            granularity=self.granularity,
            channel_id=self.channel.id if self.channel else None,
            location_id=self.location.id if self.location else None,
        )


def _query(request, *, location_code: str | None = None) -> tuple[Query, ReportFilterForm]:
    """The query string's filters (the defaults where it says nothing or something malformed); a channel or
    location code the tenant does not have is a 404, as in the KPI API."""
    tenant = request.tenant
    form = ReportFilterForm(request.GET, today=today_for(tenant))
    cleaned = form.cleaned_data if form.is_valid() else _defaults(form.today)
    channel = location = None
    if cleaned.get("channel"):
        channel = find_channel(tenant=tenant, code=cleaned["channel"])
        if channel is None:
            raise Http404
    code = location_code or cleaned.get("location")
    if code:
        location = location_list(tenant=tenant).filter(code=code).first()
        if location is None:
            raise Http404
    query = Query(
        first=cleaned["first"],
        last=cleaned["last"],
        granularity=cleaned["granularity"],
        compare=cleaned["compare"],
        channel=channel,
        location=location,
    )
    return query, form


def _defaults(today: date) -> dict:
    """The filters of a page asked for with none: what a malformed query falls back to."""
    form = ReportFilterForm({}, today=today)
    form.is_valid()
    return form.cleaned_data


def _reports(request, query: Query) -> tuple[dict, dict]:
    """The range's report and the comparison period's."""
    first, last = dashboard.compared_range(query.first, query.last, query.compare)
    report = selectors.kpi_report(tenant=request.tenant, scope=query.span())
    compared = selectors.kpi_report(tenant=request.tenant, scope=query.span(first, last))
    return report, compared


def _filters(request, query: Query, form: ReportFilterForm, *, fixed_location: bool = False) -> dict:
    """What the filter bar shows: the choices, what is chosen, the query string to carry to the other pages."""
    carried = {
        "from": query.first.isoformat(),
        "to": query.last.isoformat(),
        "granularity": query.granularity,
        "compare": query.compare,
    }
    if query.channel:
        carried["channel"] = query.channel.code
    if query.location and not fixed_location:
        carried["location"] = query.location.code
    return {
        "query": query,
        "form": form,
        "compared": dashboard.compared_range(query.first, query.last, query.compare),
        "granularities": list(GRANULARITY_LABELS.items()),
        "comparisons": list(dashboard.COMPARISONS.items()),
        "channels": channels_of(request.tenant).order_by("code"),
        "locations": None if fixed_location else location_list(tenant=request.tenant).order_by("code"),
        "carried_query": urlencode(carried),
    }


def _dashboard(request, query, form, *, template: str, fixed_location: bool = False, status: int = 200):
    report, compared = _reports(request, query)
    currency = request.tenant.default_currency
    context = {
        **_filters(request, query, form, fixed_location=fixed_location),
        "tiles": dashboard.tiles(report, compared, currency),
        "charts": dashboard.charts(report, query.granularity, currency),
        "chart_list": dashboard.CHARTS,
        "tables": dashboard.TABLES,
        "subscribed": digest.is_subscribed(tenant=request.tenant, user=request.user),
    }
    return render(request, template, context, status=status)


@require_GET
@page_access("kpis")
def overview(request):
    """Every KPI of the range for the tenant (or a channel, or a location) against the comparison period."""
    query, form = _query(request)
    return _dashboard(request, query, form, template="reporting/overview.html", status=400 if form.errors else 200)


@require_GET
@page_access("kpis")
def store(request, code: str):
    """One location's tiles and charts: the store manager's view."""
    query, form = _query(request, location_code=code)
    return _dashboard(
        request, query, form, template="reporting/store.html", fixed_location=True, status=400 if form.errors else 200
    )


@require_GET
@page_access("kpis")
def table(request, name: str):
    """A drill-down: a table of the range, sorted as asked (`?sort=key`, `?sort=-key` for the largest first)."""
    shown = dashboard.TABLE_BY_NAME[name]
    query, form = _query(request)
    rows = dashboard.table_rows(shown, tenant=request.tenant, span=query.span())
    rows, sort = dashboard.sort_rows(rows, shown.columns, request.GET.get("sort") or shown.default_sort)
    currency = request.tenant.default_currency
    context = {
        **_filters(request, query, form),
        "table": shown,
        "tables": dashboard.TABLES,
        "sort": sort,
        "headers": dashboard.headers(shown.columns, sort),
        "rows": [{"row": row, "cells": dashboard.cells(row, shown.columns, currency)} for row in rows],
        "links_to_store": name == "locations",
    }
    return render(request, "reporting/table.html", context, status=400 if form.errors else 200)


def _csv(filename: str, header: list, rows: list) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


@require_GET
@page_access("kpis")
def export(request, name: str):
    """A chart's or a table's figures as CSV, for the same filters, written as the KPI API writes them."""
    query, form = _query(request)
    if form.errors:
        return HttpResponse(status=400)
    stem = f"{name}-{query.first.isoformat()}-{query.last.isoformat()}.csv"
    if name == "tiles":
        return _csv(stem, *dashboard.tile_csv(*_reports(request, query)))
    if name in dashboard.CHART_BY_NAME:
        report = selectors.kpi_report(tenant=request.tenant, scope=query.span())
        return _csv(stem, *dashboard.chart_csv(report, dashboard.CHART_BY_NAME[name]))
    shown = dashboard.TABLE_BY_NAME[name]
    rows = dashboard.table_rows(shown, tenant=request.tenant, span=query.span())
    rows, _sort = dashboard.sort_rows(rows, shown.columns, request.GET.get("sort") or shown.default_sort)
    header = [column.key for column in shown.columns]
    return _csv(stem, header, [dashboard.csv_cells(row, shown.columns) for row in rows])


@require_POST
@page_access("kpi_digest", write=True)
def digest_switch(request):
    """Subscribe to the weekly digest (in the language of the page) or stop it."""
    weekly = request.POST.get("weekly") == "1"
    digest.subscribe(tenant=request.tenant, user=request.user, weekly=weekly, language=get_language())
    if weekly:
        messages.success(request, gettext("You will receive the weekly digest every Monday."))
    else:
        messages.success(request, gettext("You will no longer receive the weekly digest."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("reports")
    return redirect(back)
