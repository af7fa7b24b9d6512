"""The dashboards over the hand-built data set (tests/reporting/builder.py): the tiles show its known figures in the
reader's language, against the comparison period; the drill-downs and the store view; every CSV download holds the
KPI API's figures; filters, 404s for codes the tenant does not have, and who may open them."""

import csv
import io
from datetime import timedelta

import pytest

from oms.models import Role
from reporting import aggregation
from tests import factories
from tests.reporting.builder import D, build

pytestmark = pytest.mark.django_db

DAY = {"from": D.isoformat(), "to": D.isoformat()}
THREE_DAYS = {"from": (D - timedelta(days=1)).isoformat(), "to": (D + timedelta(days=1)).isoformat()}


@pytest.fixture
def data(tenant):
    data = build(tenant)
    aggregation.rebuild(tenant=tenant, first=D - timedelta(days=3), last=D + timedelta(days=3))
    return data


@pytest.fixture
def manager(user_client):
    return user_client(Role.MANAGER)


def tile(page: str, name: str) -> str:
    """The tile of KPI `name` in the page, from its opening tag to its end."""
    start = page.index(f'id="tile-{name}"')
    return page[start : page.index("</article>", start)]


def value_of(page: str, name: str) -> str:
    found = tile(page, name)
    start = found.index('class="kpi-value">') + len('class="kpi-value">')
    return found[start : found.index("</p>", start)]


def rows_of(answer) -> list[dict]:
    assert answer["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.content.decode())))


def api_figures(api, **query) -> dict:
    answer = api.get("/api/v1/kpis/", query)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_the_tiles_show_the_days_known_figures_the_french_way(manager, data):
    page = manager.get("/reports/", DAY, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert value_of(page, "orders_placed") == "4"
    assert value_of(page, "order_value") == "90,00\xa0€"
    assert value_of(page, "average_order_value") == "22,50\xa0€"
    assert value_of(page, "on_time_rate") == "66,7\xa0%"
    assert value_of(page, "lead_time_p50_s") == "2\xa0j 0\xa0h"
    assert value_of(page, "processing_time_p50_s") == "2\xa0h 0\xa0min"
    assert value_of(page, "csat_avg") == "4,50 / 5"
    assert "Commandes passées sur la période, quel que soit leur sort." in tile(page, "orders_placed")  # tooltip


def test_the_tiles_show_the_days_known_figures_the_english_way(manager, data):
    page = manager.get("/reports/", DAY, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert value_of(page, "orders_placed") == "4"
    assert value_of(page, "order_value") == "€90.00"
    assert value_of(page, "fill_rate") == "85.7%"
    assert value_of(page, "stockout_sku_days") == "2"
    assert 'title="Orders placed in the period, whatever became of them."' in tile(page, "orders_placed")


def test_each_tile_shows_its_change_against_the_previous_period(manager, data):
    page = manager.get("/reports/", DAY, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # The day before: O5 only (1 order, 10.00); no order was cancelled then, so no change can be told.
    assert 'class="kpi-change good"' in tile(page, "orders_placed") and "▲ 300.0%" in tile(page, "orders_placed")
    assert "▲ 800.0%" in tile(page, "order_value")
    assert 'class="kpi-change even"' in tile(page, "cancellation_rate") and ">—</p>" in tile(page, "cancellation_rate")
    # One more stock-out SKU-day than the day before: a rise of what should fall reads as bad news.
    assert 'class="kpi-change bad"' in tile(page, "stockout_sku_days")


def test_the_same_period_last_year_has_no_figures_to_compare_with(manager, data):
    page = manager.get("/reports/", {**DAY, "compare": "last_year"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "compared with March 10, 2025 to March 10, 2025" in page
    assert "▲" not in tile(page, "orders_placed") and "—" in tile(page, "orders_placed")


def test_the_charts_data_holds_each_periods_figures_in_the_pages_language(manager, data):
    answer = manager.get("/reports/", THREE_DAYS, HTTP_ACCEPT_LANGUAGE="fr")

    charts = answer.context["charts"]
    assert charts["labels"] == ["09/03/2026", "10/03/2026", "11/03/2026"]
    assert charts["separators"] == ",\xa0"
    orders = {trace["name"]: trace["values"] for trace in charts["charts"][0]["traces"]}
    assert orders == {"Commandes passées": [1.0, 4.0, 0.0], "Valeur des commandes": [10.0, 90.0, 0.0]}
    lead = charts["charts"][1]["traces"][0]
    assert lead["values"] == [None, 48.0, None]  # hours
    assert '<script id="chart-data" type="application/json">' in answer.content.decode()


def same(written: str, answered) -> bool:
    """A CSV cell says what the KPI API answered: the same string for money, the same number otherwise."""
    if answered is None:
        return written == ""
    return written == answered if isinstance(answered, str) else float(written) == answered


def test_the_tiles_csv_holds_the_kpi_apis_figures(manager, api, data):
    totals = api_figures(api, **DAY)["totals"]
    day_before = (D - timedelta(days=1)).isoformat()
    previous = api_figures(api, **{"from": day_before, "to": day_before})["totals"]

    rows = {row["kpi"]: row for row in rows_of(manager.get("/reports/export/tiles.csv", DAY))}

    assert list(rows) == list(totals)
    wrong = [
        name
        for name in totals
        if not same(rows[name]["value"], totals[name]) or not same(rows[name]["compared_value"], previous[name])
    ]
    assert wrong == []
    assert rows["orders_placed"]["change"] == "3"  # 4 against 1: +300 %


def test_a_charts_csv_holds_the_kpi_apis_series(manager, api, data):
    series = api_figures(api, **THREE_DAYS)["series"]

    rows = rows_of(manager.get("/reports/export/orders.csv", THREE_DAYS))

    assert [(row["period"], int(row["orders_placed"]), row["order_value"]) for row in rows] == [
        (period["period"], period["orders_placed"], period["order_value"]) for period in series
    ]
    rates = rows_of(manager.get("/reports/export/rates.csv", THREE_DAYS))
    assert all(same(row["fill_rate"], period["fill_rate"]) for row, period in zip(rates, series, strict=True))


def test_the_location_filter_shows_the_orders_fulfilled_there(manager, api, data):
    page = manager.get("/reports/", {**DAY, "location": data.par.code}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    par = api_figures(api, **DAY, location=data.par.code)["totals"]
    assert value_of(page, "orders_placed") == str(par["orders_placed"]) == "2"  # O2 in part, O3 collected there
    assert value_of(page, "stock_accuracy") == "50.0%"


def test_the_channel_filter_counts_that_channels_orders_only(manager, tenant, data):
    quiet = factories.ChannelFactory(tenant=tenant, code="SHOP2")

    page = manager.get("/reports/", {**DAY, "channel": quiet.code}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert value_of(page, "orders_placed") == "0"
    assert value_of(page, "order_value") == "€0.00"


def test_the_week_and_month_periods_group_the_days(manager, data):
    answer = manager.get("/reports/export/orders.csv", {**THREE_DAYS, "granularity": "week"})

    assert [(row["period"], row["orders_placed"]) for row in rows_of(answer)] == [("2026-03-09", "5")]


@pytest.mark.parametrize(
    "url",
    [
        "/reports/",
        "/reports/channels/",
        "/reports/locations/",
        "/reports/products/",
        "/reports/export/tiles.csv",
        "/reports/export/locations.csv",
    ],
)
def test_a_channel_or_location_code_the_tenant_does_not_have_is_404(url, manager, data, other_tenant):
    foreign = factories.LocationFactory(tenant=other_tenant, code="ZZ-PAR")
    foreign_channel = factories.ChannelFactory(tenant=other_tenant, code="ZZ")

    assert manager.get(url, {"location": foreign.code}).status_code == 404
    assert manager.get(url, {"channel": foreign_channel.code}).status_code == 404
    assert manager.get(url, {"location": "NOWHERE"}).status_code == 404
    assert manager.get(url, {"location": data.par.code}).status_code == 200


def test_another_tenants_store_view_is_404(manager, data, other_tenant):
    foreign = factories.LocationFactory(tenant=other_tenant, code="ZZ-PAR")

    assert manager.get(f"/reports/store/{foreign.code}/").status_code == 404
    assert manager.get("/reports/store/NOWHERE/").status_code == 404


def test_a_range_that_ends_before_it_starts_is_refused_naming_why(manager, data):
    answer = manager.get("/reports/", {"from": "2026-03-12", "to": "2026-03-10"}, HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 400
    assert "The first day comes after the last." in answer.content.decode()
    assert manager.get("/reports/export/tiles.csv", {"from": "2026-03-12", "to": "2026-03-10"}).status_code == 400
    assert manager.get("/reports/", {"granularity": "hour"}).status_code == 400


def test_the_location_table_has_each_locations_figures_and_leads_to_its_view(manager, api, data):
    answer = manager.get("/reports/locations/", {**DAY, "sort": "-orders_placed"}, HTTP_ACCEPT_LANGUAGE="en")
    page = answer.content.decode()

    assert answer.status_code == 200
    assert f'href="/reports/store/{data.par.code}/?' in page
    rows = {row["code"]: row for row in rows_of(manager.get("/reports/export/locations.csv", DAY))}
    for location in (data.wh, data.par):
        totals = api_figures(api, **DAY, location=location.code)["totals"]
        assert int(rows[location.code]["orders_placed"]) == totals["orders_placed"]
        assert same(rows[location.code]["inventory_value"], totals["inventory_value"])
        assert same(rows[location.code]["fill_rate"], totals["fill_rate"])


def test_the_store_view_shows_that_locations_tiles(manager, api, data):
    page = manager.get(f"/reports/store/{data.wh.code}/", DAY, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    totals = api_figures(api, **DAY, location=data.wh.code)["totals"]
    assert value_of(page, "orders_placed") == str(totals["orders_placed"]) == "2"  # O1, and O2 in part
    assert value_of(page, "inventory_value") == "€40.00"  # P1's 10 units at 4.00 at the day's end
    assert f"<h1>{data.wh.code} · " in page
    assert 'id="filter-location"' not in page


def test_tables_sort_on_the_server_as_asked(manager, tenant, data):
    factories.ChannelFactory(tenant=tenant, code="AAA")

    by_code = rows_of(manager.get("/reports/export/channels.csv", {**DAY, "sort": "code"}))
    by_orders = rows_of(manager.get("/reports/export/channels.csv", {**DAY, "sort": "-orders_placed"}))

    assert [row["code"] for row in by_code] == ["AAA", "WEB"]
    assert [(row["code"], row["orders_placed"]) for row in by_orders] == [("WEB", "4"), ("AAA", "0")]
    page = manager.get("/reports/channels/", {**DAY, "sort": "-orders_placed"}).content.decode()
    assert 'aria-sort="descending"' in page and page.index(">WEB<") < page.index(">AAA<")


def test_the_product_and_reason_tables(manager, data):
    products = rows_of(manager.get("/reports/export/products.csv", DAY))
    returns = rows_of(manager.get("/reports/export/return-reasons.csv", DAY))
    cancellations = rows_of(manager.get("/reports/export/cancellation-reasons.csv", DAY))

    p1 = next(row for row in products if row["sku"] == "WEB-P1")
    assert (p1["units_ordered"], p1["units_returned"], p1["order_value"]) == ("5", "1", "50.00")
    assert returns == [{"reason": "too_small", "count": "1"}]
    assert cancellations == [{"reason": "customer_request", "count": "1"}]
    page = manager.get("/reports/products/", DAY, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "50,00\xa0€" in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.MANAGER, 200),
        (Role.BACK_OFFICE, 403),
        (Role.STORE_CLERK, 403),
        (Role.VIEWER, 403),
    ],
)
def test_managers_and_admins_open_the_reports(role, status, user_client, data):
    client = user_client(role, locations=[data.par] if role == Role.STORE_CLERK else [])

    assert client.get("/reports/", DAY).status_code == status
    assert client.get(f"/reports/store/{data.par.code}/", DAY).status_code == status
    assert client.get("/reports/export/tiles.csv", DAY).status_code == status
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ('href="/reports/"' in home) is (status == 200)


def test_a_stranger_is_sent_to_sign_in(client, data):
    answer = client.get("/reports/")

    assert answer.status_code == 302 and "/login/" in answer["Location"]
