"""Every KPI on a hand-built data set with known answers (tests/reporting/builder.py), through the aggregation and
the KPI API: to the unit and the cent, day boundaries in the tenant's time zone, per location, per period."""

from datetime import timedelta

import pytest

from reporting import aggregation
from reporting.models import KpiDay
from tests.conftest import make_api_client
from tests.reporting.builder import D, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(tenant):
    data = build(tenant)
    aggregation.rebuild(tenant=tenant, first=D - timedelta(days=3), last=D + timedelta(days=3))
    return data


def kpis(api, **query):
    answer = api.get("/api/v1/kpis/", query)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_every_kpi_of_the_day_has_its_known_answer(api, data):
    body = kpis(api, **{"from": D.isoformat(), "to": D.isoformat()})

    assert (body["from"], body["to"], body["granularity"], body["currency"]) == (
        "2026-03-10",
        "2026-03-10",
        "day",
        "EUR",
    )
    assert body["totals"] == {
        "orders_placed": 4,
        "order_value": "90.00",
        "average_order_value": "22.50",
        "units_ordered": 7,
        "processing_time_p50_s": 7200,
        "processing_time_p90_s": 18000,
        "pickup_ready_time_p50_s": 3600,
        "pickup_collect_time_p50_s": 28800,
        "lead_time_p50_s": 172800,
        "lead_time_p90_s": 259200,
        "on_time_rate": 0.6667,
        "units_shipped": 6,
        "fill_rate": 0.8571,
        "first_time_fill_rate": 0.5,
        "split_rate": 0.3333,
        "cancellation_rate": 0.25,
        "backorder_rate": 0.25,
        "rejection_rate": 0.2,
        "return_rate": 0.1667,
        "refund_value": "12.00",
        "stock_accuracy": 0.5,
        "stockout_sku_days": 2,
        "inventory_value": "40.00",
        "csat_avg": 4.5,
        "csat_response_rate": 0.6667,
    }
    assert body["series"] == [{"period": "2026-03-10", **body["totals"]}]


def test_an_order_counts_on_the_day_it_was_placed_in_the_tenants_time_zone(api, data):
    # O3 was placed at 23:30 UTC on the 9th, 00:30 in Paris on the 10th; O5 at 22:30 UTC, 23:30 in Paris on the 9th.
    before = kpis(api, **{"from": (D - timedelta(days=1)).isoformat(), "to": (D - timedelta(days=1)).isoformat()})

    assert before["totals"]["orders_placed"] == 1
    assert before["totals"]["order_value"] == "10.00"
    assert before["totals"]["stockout_sku_days"] == 1  # P1 at PAR; P2 at WH still had 3


def test_a_range_sums_flows_and_takes_stocks_at_its_end(api, data):
    body = kpis(api, **{"from": (D - timedelta(days=1)).isoformat(), "to": (D + timedelta(days=1)).isoformat()})

    assert body["totals"]["orders_placed"] == 5
    assert body["totals"]["stockout_sku_days"] == 1 + 2 + 2
    assert body["totals"]["inventory_value"] == "20.00"  # 5 units of P1 at 4.00 at the end of the 11th
    assert [row["period"] for row in body["series"]] == ["2026-03-09", "2026-03-10", "2026-03-11"]
    assert [row["inventory_value"] for row in body["series"]] == ["40.00", "40.00", "20.00"]
    assert [row["orders_placed"] for row in body["series"]] == [1, 4, 0]


def test_weeks_and_months(api, data):
    weekly = kpis(api, **{"from": "2026-03-01", "to": "2026-03-31", "granularity": "week"})
    monthly = kpis(api, **{"from": "2026-03-01", "to": "2026-03-31", "granularity": "month"})

    assert [row["period"] for row in weekly["series"]][:3] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    assert next(row for row in weekly["series"] if row["period"] == "2026-03-09")["orders_placed"] == 5
    assert [(row["period"], row["orders_placed"]) for row in monthly["series"]] == [("2026-03-01", 5)]
    assert monthly["totals"]["lead_time_p50_s"] == 172800


def test_a_locations_figures_are_those_of_the_orders_it_fulfilled_a_part_of(api, data):
    body = kpis(api, **{"from": D.isoformat(), "to": D.isoformat(), "location": data.par.code})

    totals = body["totals"]
    assert totals["orders_placed"] == 2  # O2 and O3
    assert totals["units_ordered"] == 2  # O2's part (its rejected part kept nothing) and O3
    assert totals["units_shipped"] == 2
    assert totals["rejection_rate"] == 0.3333  # one of PAR's three fulfilment orders
    assert totals["processing_time_p50_s"] == 9000  # O2's part left PAR 2.5 h after placing
    assert totals["pickup_ready_time_p50_s"] == 3600
    assert totals["stock_accuracy"] == 0.5 and totals["stockout_sku_days"] == 1


def test_the_tolerance_of_a_count_is_the_tenants(api, tenant, data):
    tenant.settings = {**(tenant.settings or {}), "stock_accuracy_tolerance": 1}
    tenant.save(update_fields=["settings"])
    aggregation.rebuild(tenant=tenant, first=D, last=D)

    assert kpis(api, **{"from": D.isoformat(), "to": D.isoformat()})["totals"]["stock_accuracy"] == 0.75


def test_a_channel_filter_and_what_is_refused(api, other_tenant, data):
    theirs = build(other_tenant, code="ZZ")

    assert kpis(api, **{"from": D.isoformat(), "to": D.isoformat(), "channel": "WEB"})["totals"]["orders_placed"] == 4
    assert api.get("/api/v1/kpis/", {"channel": theirs.channel.code}).status_code == 404
    assert api.get("/api/v1/kpis/", {"location": theirs.par.code}).status_code == 404
    assert api.get("/api/v1/kpis/", {"from": "2026-03-10", "to": "2026-03-01"}).status_code == 400
    assert api.get("/api/v1/kpis/", {"granularity": "hour"}).status_code == 400
    assert api.get("/api/v1/kpis/", {"from": "2020-01-01", "to": "2026-01-01"}).status_code == 400


def test_one_tenants_figures_never_include_anothers(tenant, other_tenant, data):
    build(other_tenant, code="ZZ")
    aggregation.rebuild(tenant=other_tenant, first=D, last=D)
    aggregation.rebuild(tenant=tenant, first=D, last=D)

    ours = kpis(make_api_client(tenant), **{"from": D.isoformat(), "to": D.isoformat()})
    theirs = kpis(make_api_client(other_tenant), **{"from": D.isoformat(), "to": D.isoformat()})

    assert ours["totals"]["orders_placed"] == theirs["totals"]["orders_placed"] == 4
    assert ours["totals"]["order_value"] == "90.00"
    assert KpiDay.objects.for_tenant(tenant).filter(channel__tenant=other_tenant).count() == 0


def test_who_reads_the_kpis(tenant, data, user_client):
    from oms.models import Role

    assert user_client(Role.MANAGER).get("/api/v1/kpis/").status_code == 200
    assert user_client(Role.VIEWER).get("/api/v1/kpis/").status_code == 403
    assert user_client(Role.STORE_CLERK).get("/api/v1/kpis/").status_code == 403


def test_the_docs_define_every_kpi_as_the_code_does():
    from pathlib import Path

    from django.utils import translation

    from reporting.kpis import KPIS

    page = (Path(__file__).resolve().parents[2] / "docs" / "kpis.md").read_text(encoding="utf-8")
    with translation.override("en"):
        for kpi in KPIS:
            assert f"| `{kpi.name}` | **{kpi.label}.** {kpi.definition} |" in page
