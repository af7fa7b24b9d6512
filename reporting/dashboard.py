"""What the dashboards and the weekly digest show, worked out of the KPI reports of reporting.selectors and nothing
else: the tiles (each KPI, its change against a comparison period, its sparkline), the charts' series, and the
drill-down tables, with the columns that the pages, the CSV downloads and the e-mail share."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from inventory.selectors import location_list
from oms.sales_channels import channels_of
from reporting import display, selectors
from reporting.kpis import BY_NAME, KPIS, Kpi

COMPARISONS = {"previous": _("Previous period"), "last_year": _("Same period last year")}
# For these, a rise is bad news: the tiles colour their change the other way round.
LOWER_IS_BETTER = frozenset(
    {
        "processing_time_p50_s",
        "processing_time_p90_s",
        "pickup_ready_time_p50_s",
        "pickup_collect_time_p50_s",
        "lead_time_p50_s",
        "lead_time_p90_s",
        "cancellation_rate",
        "backorder_rate",
        "rejection_rate",
        "return_rate",
        "refund_value",
        "stockout_sku_days",
    }
)


def compared_range(first: date, last: date, compare: str) -> tuple[date, date]:
    """The period a range is compared with: the as many days just before it, or the same days a year earlier
    (29 February becoming the 28th)."""
    if compare == "last_year":

        def year_before(day: date) -> date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:
                return day.replace(year=day.year - 1, day=28)

        return year_before(first), year_before(last)
    length = last - first
    return first - length - timedelta(days=1), first - timedelta(days=1)


def relative_change(value, previous) -> Decimal | None:
    if value is None or previous is None or previous == 0:
        return None
    return ((Decimal(value) - Decimal(previous)) / abs(Decimal(previous))).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Tile:
    kpi: Kpi
    value: object
    previous: object
    change: Decimal | None
    shown: str
    previous_shown: str
    change_shown: str
    tone: str  # good, bad or even: how the change reads
    sparkline: str  # the points of an SVG polyline, empty when there is nothing to draw


SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def sparkline(values: list) -> str:
    """Points of a polyline across SPARK_WIDTH × SPARK_HEIGHT, a missing value skipped; empty under two values."""
    known = [(index, float(value)) for index, value in enumerate(values) if value is not None]
    if len(known) < 2 or len(values) < 2:
        return ""
    low, high = min(v for _i, v in known), max(v for _i, v in known)
    spread = (high - low) or 1.0
    step = SPARK_WIDTH / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{SPARK_HEIGHT - 2 - (value - low) / spread * (SPARK_HEIGHT - 4):.1f}"
        for index, value in known
    )


def tiles(report: dict, compared: dict, currency: str) -> list[Tile]:
    """Every KPI's tile, in the order of reporting.kpis, written in the active language."""
    found = []
    for kpi in KPIS:
        value, previous = report["totals"][kpi.name], compared["totals"][kpi.name]
        change = relative_change(value, previous)
        tone = "even"
        if change:
            rising_is_good = kpi.name not in LOWER_IS_BETTER
            tone = "good" if (change > 0) == rising_is_good else "bad"
        found.append(
            Tile(
                kpi=kpi,
                value=value,
                previous=previous,
                change=change,
                shown=display.figure(kpi.unit, value, currency),
                previous_shown=display.figure(kpi.unit, previous, currency),
                change_shown=display.change(change),
                tone=tone,
                sparkline=sparkline([row[kpi.name] for row in report["series"]]),
            )
        )
    return found


# --- charts ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    name: str
    title: object
    kpis: tuple[str, ...]
    bars: tuple[str, ...] = ()  # drawn as bars; the others as lines
    right_axis: tuple[str, ...] = ()  # on a second axis, at the right


CHARTS = (
    Chart("orders", _("Orders and value"), ("orders_placed", "order_value"), ("orders_placed",), ("order_value",)),
    Chart("lead_times", _("Lead time"), ("lead_time_p50_s", "lead_time_p90_s", "processing_time_p50_s")),
    Chart("rates", _("Fill, on-time and return rates"), ("fill_rate", "on_time_rate", "return_rate")),
)
CHART_BY_NAME = {chart.name: chart for chart in CHARTS}
UNIT_TITLES = {"count": _("orders"), "seconds": _("hours"), "rate": "%"}
# How the script formats each axis's figures (reporting/static/reporting/charts.js).
AXIS_FORMATS = {"count": "count", "seconds": "hours", "rate": "percent", "money": "money"}


def period_label(start: date, granularity: str) -> str:
    if granularity == "month":
        return formats.date_format(start, "YEAR_MONTH_FORMAT")
    return formats.date_format(start, "SHORT_DATE_FORMAT")


def _plotted(unit: str, value):
    """A figure as the chart's axis reads it: hours for durations, percent for rates, plain numbers."""
    if value is None:
        return None
    if unit == "seconds":
        return round(value / 3600, 2)
    if unit == "rate":
        return float(Decimal(value) * 100)
    return float(value)


def charts(report: dict, granularity: str, currency: str) -> dict:
    """The charts' data, for the page's script (json_script): localized period labels and number separators,
    labelled series."""
    labels = [period_label(row["period"], granularity) for row in report["series"]]
    drawn = []
    for chart in CHARTS:
        traces = []
        for name in chart.kpis:
            kpi = BY_NAME[name]
            traces.append(
                {
                    "name": str(kpi.label),
                    "kind": "bar" if name in chart.bars else "line",
                    "axis": "right" if name in chart.right_axis else "left",
                    "values": [_plotted(kpi.unit, row[name]) for row in report["series"]],
                }
            )
        left = BY_NAME[next(name for name in chart.kpis if name not in chart.right_axis)].unit
        drawn.append(
            {
                "name": chart.name,
                "title": str(chart.title),
                "left": str(UNIT_TITLES.get(left, "")),
                "right": currency if chart.right_axis else "",
                "formats": {
                    "left": AXIS_FORMATS.get(left, ""),
                    "right": AXIS_FORMATS.get(BY_NAME[chart.right_axis[0]].unit, "") if chart.right_axis else "",
                },
                "traces": traces,
            }
        )
    decimal, thousands = formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")
    return {"labels": labels, "separators": f"{decimal}{thousands or ' '}", "charts": drawn}


# --- tables -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    unit: str  # text, or a KPI unit
    definition: object = ""  # a KPI's, for the column's tooltip


def kpi_columns(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, BY_NAME[name].label, BY_NAME[name].unit, BY_NAME[name].definition) for name in names)


CODE, NAME = Column("code", _("Code"), "text"), Column("name", _("Name"), "text")
CHANNEL_COLUMNS = (
    CODE,
    NAME,
    *kpi_columns(
        "orders_placed",
        "order_value",
        "average_order_value",
        "fill_rate",
        "on_time_rate",
        "cancellation_rate",
        "return_rate",
        "csat_avg",
    ),
)
LOCATION_COLUMNS = (
    CODE,
    NAME,
    *kpi_columns(
        "orders_placed",
        "units_shipped",
        "fill_rate",
        "processing_time_p50_s",
        "on_time_rate",
        "rejection_rate",
        "stock_accuracy",
        "stockout_sku_days",
        "inventory_value",
    ),
)
PRODUCT_COLUMNS = (
    Column("sku", _("SKU"), "text"),
    NAME,
    Column("units_ordered", _("Units ordered"), "count"),
    Column("units_shipped", _("Units shipped"), "count"),
    Column("units_returned", _("Units returned"), "count"),
    Column("order_value", _("Value ordered"), "money"),
    Column("return_rate", _("Return rate"), "rate"),
)
REASON_COLUMNS = (Column("reason", _("Reason"), "text"), Column("count", _("Count"), "count"))
# How many products the product table ranks (by units ordered) before it is sorted.
PRODUCT_ROWS = 200


def breakdown_rows(found: list[dict]) -> list[dict]:
    """selectors.breakdown's rows, flat: code, name and every KPI."""
    return [{"code": row["code"], "name": row["name"], **row["totals"]} for row in found]


def sort_rows(rows: list[dict], columns, sort: str) -> tuple[list[dict], str]:
    """The rows sorted by `sort` (a column's key, `-key` for the largest first), missing figures last; an unknown
    key leaves them as they are. Answers the sort applied ("" for none)."""
    key = sort.removeprefix("-")
    if key not in {column.key for column in columns}:
        return rows, ""
    descending = sort.startswith("-")
    present = [row for row in rows if row.get(key) is not None]
    missing = [row for row in rows if row.get(key) is None]
    present.sort(key=lambda row: row[key], reverse=descending)
    return present + missing, sort


def cells(row: dict, columns, currency: str) -> list[dict]:
    """The row's cells as the page writes them: {"text", "number"} (a number is aligned right)."""
    return [
        {"text": row.get(c.key) or "", "number": False}
        if c.unit == "text"
        else {"text": display.figure(c.unit, row.get(c.key), currency), "number": True}
        for c in columns
    ]


def headers(columns, sort: str) -> list[dict]:
    """Each column's heading: the sort its link asks for (the largest first, then the other way) and how the
    table is sorted by it now (aria-sort)."""
    found = []
    for column in columns:
        state = "ascending" if sort == column.key else "descending" if sort == f"-{column.key}" else "none"
        link = column.key if state == "descending" else f"-{column.key}"
        if column.unit == "text" and state == "none":
            link = column.key  # names and codes read from A
        found.append({"column": column, "sort": link, "state": state})
    return found


def csv_cells(row: dict, columns) -> list:
    return [(row.get(c.key) or "") if c.unit == "text" else display.for_csv(c.unit, row.get(c.key)) for c in columns]


def tile_csv(report: dict, compared: dict) -> tuple[list[str], list[list]]:
    """The tiles as CSV: each KPI, its value, the comparison period's and the relative change."""
    header = ["kpi", "value", "compared_value", "change"]
    rows = []
    for kpi in KPIS:
        value, previous = report["totals"][kpi.name], compared["totals"][kpi.name]
        change = relative_change(value, previous)
        rows.append(
            [
                kpi.name,
                display.for_csv(kpi.unit, value),
                display.for_csv(kpi.unit, previous),
                display.for_csv("rate", change),
            ]
        )
    return header, rows


def chart_csv(report: dict, chart: Chart) -> tuple[list[str], list[list]]:
    """A chart's series as CSV: the period's first day and the chart's KPIs, as the KPI API writes them."""
    header = ["period", *chart.kpis]
    rows = [
        [row["period"].isoformat(), *(display.for_csv(BY_NAME[name].unit, row[name]) for name in chart.kpis)]
        for row in report["series"]
    ]
    return header, rows


@dataclass(frozen=True)
class Table:
    name: str
    title: object
    columns: tuple[Column, ...]
    default_sort: str


TABLES = (
    Table("channels", _("By channel"), CHANNEL_COLUMNS, "-orders_placed"),
    Table("locations", _("By location"), LOCATION_COLUMNS, "code"),
    Table("products", _("By product"), PRODUCT_COLUMNS, "-units_ordered"),
    Table("return-reasons", _("Return reasons"), REASON_COLUMNS, "-count"),
    Table("cancellation-reasons", _("Cancellation reasons"), REASON_COLUMNS, "-count"),
)
TABLE_BY_NAME = {table.name: table for table in TABLES}


def table_rows(table: Table, *, tenant, span: selectors.Range) -> list[dict]:
    """The table's rows for the range, unsorted, read through reporting.selectors."""
    if table.name == "channels":
        entities = channels_of(tenant).order_by("code")
        return breakdown_rows(selectors.breakdown(tenant=tenant, scope=span, by="channel", entities=entities))
    if table.name == "locations":
        entities = location_list(tenant=tenant).order_by("code")
        return breakdown_rows(selectors.breakdown(tenant=tenant, scope=span, by="location", entities=entities))
    if table.name == "products":
        return selectors.product_table(tenant=tenant, scope=span, limit=PRODUCT_ROWS)
    kind = "return" if table.name == "return-reasons" else "cancellation"
    return selectors.reason_table(tenant=tenant, scope=span, kind=kind)
