"""The KPIs: each one's name, its written definition (the docs and the dashboards' tooltips say it from here), and
how it is worked out of the sums the KPI tables keep (reporting/selectors.py reads them).

Order KPIs count the orders placed in the period (in the tenant's time zone), and what has happened to them since:
a rate's numerator is always part of its denominator. Rates are decimals between 0 and 1 (None when the
denominator is 0), durations are whole seconds, money is in the tenant's currency."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    definition: str
    unit: str  # count, money, rate, seconds, score


KPIS = (
    Kpi("orders_placed", _("Orders placed"), _("Orders placed in the period, whatever became of them."), "count"),
    Kpi("order_value", _("Order value"), _("What the orders placed charged: goods, tax and shipping."), "money"),
    Kpi(
        "average_order_value",
        _("Average order value"),
        _("Order value divided by the orders placed."),
        "money",
    ),
    Kpi("units_ordered", _("Units ordered"), _("Units of the orders placed."), "count"),
    Kpi(
        "processing_time_p50_s",
        _("Processing time (median)"),
        _("From placing to the first shipment, for the orders delivered by carrier that have shipped: the median."),
        "seconds",
    ),
    Kpi(
        "processing_time_p90_s",
        _("Processing time (90th percentile)"),
        _("From placing to the first shipment: 9 orders in 10 shipped within this time."),
        "seconds",
    ),
    Kpi(
        "pickup_ready_time_p50_s",
        _("Ready for pickup (median)"),
        _("From placing to ready for pickup at the store, for click & collect orders: the median."),
        "seconds",
    ),
    Kpi(
        "pickup_collect_time_p50_s",
        _("Collected after (median)"),
        _("From ready for pickup to collected by the customer: the median."),
        "seconds",
    ),
    Kpi(
        "lead_time_p50_s",
        _("Lead time (median)"),
        _("From placing to delivered or collected, for the orders received in full: the median."),
        "seconds",
    ),
    Kpi(
        "lead_time_p90_s",
        _("Lead time (90th percentile)"),
        _("From placing to delivered or collected: 9 orders in 10 were received within this time."),
        "seconds",
    ),
    Kpi(
        "on_time_rate",
        _("On time"),
        _("Orders received by the promised date, among the orders received in full that had a promise."),
        "rate",
    ),
    Kpi("units_shipped", _("Units shipped"), _("Units of the orders placed that left, shipped or collected."), "count"),
    Kpi("fill_rate", _("Fill rate"), _("Units shipped divided by units ordered."), "rate"),
    Kpi(
        "first_time_fill_rate",
        _("First-time fill rate"),
        _(
            "Orders shipped in full from their first allocation (never re-routed, rejected or backordered), among the "
            "orders placed."
        ),
        "rate",
    ),
    Kpi(
        "split_rate",
        _("Split rate"),
        _("Orders fulfilled from more than one location, among the orders routed."),
        "rate",
    ),
    Kpi("cancellation_rate", _("Cancellation rate"), _("Orders cancelled, among the orders placed."), "rate"),
    Kpi(
        "backorder_rate",
        _("Backorder rate"),
        _("Orders that waited for stock at some point, among the orders placed."),
        "rate",
    ),
    Kpi(
        "rejection_rate",
        _("Rejection rate"),
        _("Fulfilment orders a location rejected, among the fulfilment orders it was given."),
        "rate",
    ),
    Kpi("return_rate", _("Return rate"), _("Units received back, divided by the units shipped."), "rate"),
    Kpi(
        "refund_value", _("Refund value"), _("Money refunded or given as store credit for the orders placed."), "money"
    ),
    Kpi(
        "stock_accuracy",
        _("Stock accuracy"),
        _("Cycle-count rows within tolerance of the expected quantity, among the rows counted in the period."),
        "rate",
    ),
    Kpi(
        "stockout_sku_days",
        _("Stock-out SKU-days"),
        _(
            "For each day of the period, the stock rows (SKU at a location) with nothing on hand at the day's end, "
            "summed."
        ),
        "count",
    ),
    Kpi(
        "inventory_value",
        _("Inventory value"),
        _("Units on hand at the end of the period at their product's cost, for the products whose cost is known."),
        "money",
    ),
    Kpi("csat_avg", _("Satisfaction"), _("The customers' average score, from 1 to 5."), "score"),
    Kpi(
        "csat_response_rate",
        _("Satisfaction responses"),
        _("Orders with a satisfaction response, among the orders received in full."),
        "rate",
    ),
)
NAMES = tuple(kpi.name for kpi in KPIS)
BY_NAME = {kpi.name: kpi for kpi in KPIS}


def ratio(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def figures(sums: dict) -> dict:
    """The KPIs of one period (or of the whole range) from the sums the selectors read."""
    orders = sums["orders"]
    return {
        "orders_placed": orders,
        "order_value": money(sums["order_value"]),
        "average_order_value": money(Decimal(sums["order_value"] or 0) / orders) if orders else None,
        "units_ordered": sums["units_ordered"],
        "processing_time_p50_s": sums["processing"][0],
        "processing_time_p90_s": sums["processing"][1],
        "pickup_ready_time_p50_s": sums["pickup_ready"][0],
        "pickup_collect_time_p50_s": sums["pickup_collect"][0],
        "lead_time_p50_s": sums["lead"][0],
        "lead_time_p90_s": sums["lead"][1],
        "on_time_rate": ratio(sums["orders_on_time"], sums["orders_with_promise"]),
        "units_shipped": sums["units_shipped"],
        "fill_rate": ratio(sums["units_shipped"], sums["units_ordered"]),
        "first_time_fill_rate": ratio(sums["orders_first_time_filled"], orders),
        "split_rate": ratio(sums["orders_split"], sums["orders_routed"]),
        "cancellation_rate": ratio(sums["orders_cancelled"], orders),
        "backorder_rate": ratio(sums["orders_backordered"], orders),
        "rejection_rate": ratio(sums["fulfillments_rejected"], sums["fulfillments"]),
        "return_rate": ratio(sums["units_returned"], sums["units_shipped"]),
        "refund_value": money(sums["refund_value"]),
        "stock_accuracy": ratio(sums["accurate_rows"], sums["counted_rows"]),
        "stockout_sku_days": sums["stockout_skus"],
        "inventory_value": money(sums["inventory_value"]) if sums["inventory_value"] is not None else None,
        "csat_avg": (Decimal(sums["csat_sum"]) / sums["csat_responses"]).quantize(CENT, rounding=ROUND_HALF_UP)
        if sums["csat_responses"]
        else None,
        "csat_response_rate": ratio(sums["csat_responses"], sums["orders_received"]),
    }
