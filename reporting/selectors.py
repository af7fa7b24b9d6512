"""Reading the KPI tables for a range of days, whole and per period (day, week or month), for a channel, a
location or the whole tenant. Only the aggregate tables are read: never the orders.

With a location, the order figures are those of the orders with a part fulfilled there (reporting/models.py) and
the stock figures those of that location; without one, each order counts once and the stock is every location's.
Stock figures do not depend on the channel."""

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db import connection

from reporting.kpis import figures, money, ratio

GRANULARITIES = ("day", "week", "month")

_ORDER_SUMS = (
    "orders",
    "order_value",
    "units_ordered",
    "units_shipped",
    "units_returned",
    "orders_cancelled",
    "orders_backordered",
    "orders_routed",
    "orders_split",
    "orders_first_time_filled",
    "orders_received",
    "orders_on_time",
    "orders_with_promise",
    "fulfillments",
    "fulfillments_rejected",
    "refund_value",
    "csat_sum",
    "csat_responses",
)
_DURATIONS = {
    "processing": "processing_seconds",
    "pickup_ready": "pickup_ready_seconds",
    "pickup_collect": "pickup_collect_seconds",
    "lead": "lead_seconds",
}
_STOCK_SUMS = ("counted_rows", "accurate_rows", "stockout_skus")


@dataclass(frozen=True)
class Range:
    first: date
    last: date
    granularity: str = "day"
    channel_id: int | None = None
    location_id: int | None = None


def period_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def periods(first: date, last: date, granularity: str) -> list[date]:
    """Every period of the range, in order, even those without a row."""
    found, day = [], period_start(first, granularity)
    while day <= last:
        found.append(day)
        if granularity == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if granularity == "week" else 1)
    return found


def _where(tenant_id: int, scope: Range, *, stock: bool = False) -> tuple[str, list]:
    clauses, params = ["tenant_id = %s", "day >= %s", "day <= %s"], [tenant_id, scope.first, scope.last]
    if scope.location_id is not None:
        clauses.append("location_id = %s")
        params.append(scope.location_id)
    elif not stock:
        clauses.append("location_id IS NULL")
    if scope.channel_id is not None and not stock:
        clauses.append("channel_id = %s")
        params.append(scope.channel_id)
    return " AND ".join(clauses), params


def _grouped(statement: str, params: list, granularity: str) -> dict:
    """{period or None (the whole range): row} from a statement grouped by GROUPING SETS ((period), ())."""
    with connection.cursor() as cursor:
        cursor.execute(statement, [granularity, *params])
        columns = [column.name for column in cursor.description]
        return {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def kpi_report(*, tenant, scope: Range) -> dict:
    """{"totals": {KPI: value}, "series": [{"period": date, KPI: value}]} for the range."""
    if scope.granularity not in GRANULARITIES:
        raise ValueError(f"granularity is one of {GRANULARITIES}")
    where, params = _where(tenant.id, scope)
    period = "date_trunc(%s, day::timestamp)::date"
    sums = ", ".join(f"COALESCE(SUM({column}), 0) AS {column}" for column in _ORDER_SUMS)
    orders = _grouped(
        f"SELECT {period} AS period, {sums} FROM reporting_kpiday WHERE {where} GROUP BY GROUPING SETS ((1), ())",
        params,
        scope.granularity,
    )
    durations = {}
    for key, column in _DURATIONS.items():
        durations[key] = _grouped(
            f"SELECT {period} AS period, percentile_disc(0.5) WITHIN GROUP (ORDER BY v) AS p50, "
            f"percentile_disc(0.9) WITHIN GROUP (ORDER BY v) AS p90 "
            f"FROM reporting_kpiday, unnest({column}) AS v WHERE {where} GROUP BY GROUPING SETS ((1), ())",
            params,
            scope.granularity,
        )
    stock_where, stock_params = _where(tenant.id, scope, stock=True)
    stock_sums = ", ".join(f"COALESCE(SUM({column}), 0) AS {column}" for column in _STOCK_SUMS)
    stock = _grouped(
        f"SELECT {period} AS period, {stock_sums} FROM reporting_kpistockday WHERE {stock_where} "
        "GROUP BY GROUPING SETS ((1), ())",
        stock_params,
        scope.granularity,
    )
    # Inventory value is a stock, not a flow: the value at the end of the last day with figures, of the range and
    # of each period.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day, SUM(inventory_value) FROM reporting_kpistockday WHERE {stock_where} "
            "AND inventory_value IS NOT NULL GROUP BY day ORDER BY day",
            stock_params,
        )
        daily_values = cursor.fetchall()
    values: dict = {}
    for day, value in daily_values:  # in order: the last day of each period wins
        values[period_start(day, scope.granularity)] = value
    last_value = daily_values[-1][1] if daily_values else None

    def sums_of(key) -> dict:
        row = {column: 0 for column in _ORDER_SUMS} | (orders.get(key) or {})
        row |= {column: 0 for column in _STOCK_SUMS} | (stock.get(key) or {})
        for name in _DURATIONS:
            found = durations[name].get(key) or {}
            row[name] = (found.get("p50"), found.get("p90"))
        row["inventory_value"] = last_value if key is None else values.get(key)
        return row

    return {
        "totals": figures(sums_of(None)),
        "series": [
            {"period": start, **figures(sums_of(start))}
            for start in periods(scope.first, scope.last, scope.granularity)
        ],
    }


def product_table(*, tenant, scope: Range, limit: int = 50) -> list[dict]:
    """Per product of the range: units ordered, shipped and returned, the value ordered, the return rate."""
    clauses, params = ["r.tenant_id = %s", "r.day >= %s", "r.day <= %s"], [tenant.id, scope.first, scope.last]
    if scope.channel_id is not None:
        clauses.append("r.channel_id = %s")
        params.append(scope.channel_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.sku, p.name, SUM(r.units_ordered), SUM(r.units_shipped), SUM(r.units_returned), "
            "SUM(r.order_value) FROM reporting_kpiproductday r JOIN inventory_product p ON p.id = r.product_id "
            f"WHERE {' AND '.join(clauses)} GROUP BY p.sku, p.name ORDER BY 3 DESC, p.sku LIMIT %s",
            [*params, limit],
        )
        rows = cursor.fetchall()
    return [
        {
            "sku": sku,
            "name": name,
            "units_ordered": ordered,
            "units_shipped": shipped,
            "units_returned": returned,
            "order_value": money(value),
            "return_rate": ratio(returned, shipped),
        }
        for sku, name, ordered, shipped, returned, value in rows
    ]


def reason_table(*, tenant, scope: Range, kind: str) -> list[dict]:
    """Per reason of the range (`return`: units received back; `cancellation`: orders cancelled), most first."""
    clauses, params = (
        ["tenant_id = %s", "day >= %s", "day <= %s", "kind = %s"],
        [
            tenant.id,
            scope.first,
            scope.last,
            kind,
        ],
    )
    if scope.channel_id is not None:
        clauses.append("channel_id = %s")
        params.append(scope.channel_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT reason, SUM(count) FROM reporting_kpireasonday WHERE {' AND '.join(clauses)} "
            "GROUP BY reason ORDER BY 2 DESC, reason",
            params,
        )
        return [{"reason": reason, "count": count} for reason, count in cursor.fetchall()]


def breakdown(*, tenant, scope: Range, by: str, entities) -> list[dict]:
    """The totals of the range for each channel (`by="channel"`) or location (`by="location"`) of `entities`
    (objects with `id`, `code` and `name`), the other filter of `scope` kept: [{"code", "name", "totals"}]. Each
    row is kpi_report's totals for that one channel or location, so a row and that channel's or location's own
    report agree to the cent."""
    if by not in ("channel", "location"):
        raise ValueError("a breakdown is by channel or by location")
    rows = []
    for entity in entities:
        narrowed = replace(scope, **{f"{by}_id": entity.id})
        rows.append(
            {"code": entity.code, "name": entity.name, "totals": kpi_report(tenant=tenant, scope=narrowed)["totals"]}
        )
    return rows
