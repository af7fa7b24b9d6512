"""The order's delivery promise: computed by fulfilment (which registers its rule here when Django starts: orders
may not import it) at placement from the locations intake reserved at, and again at allocation from the locations
routing chose. A promise the client sent with the order is what the customer saw at checkout: it stays the
order's promise, never recomputed. Delivery is measured against the promise when the order becomes delivered.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

_RULES: list = []


def register_promise_rule(rule) -> None:
    """`rule(tenant, wanted, now)` with `wanted` as [(order, locations)] (Location rows, or their ids) answers
    {order id: (earliest, latest)} for the orders it can promise."""
    if rule not in _RULES:
        _RULES.append(rule)


def computed_promises(*, tenant, wanted: list, now: datetime) -> dict:
    """{order id: (earliest, latest)} for the orders of `wanted` whose promise OMS computes."""
    wanted = [(order, ids) for order, ids in wanted if not order.promise_from_client and ids]
    if not wanted:
        return {}
    found: dict = {}
    for rule in _RULES:
        found.update(rule(tenant, wanted, now))
    return found


def apply_promise(order, window: tuple[date, date] | None) -> bool:
    """Set the order's computed promise; True when it changed."""
    if window is None or order.promise_from_client:
        return False
    earliest, latest = window
    if (order.promised_delivery_earliest, order.promised_delivery_latest) == (earliest, latest):
        return False
    order.promised_delivery_earliest, order.promised_delivery_latest = earliest, latest
    return True


def delivered_on_time(order, delivered_at: datetime, zone: ZoneInfo) -> bool | None:
    """Within the promise: delivered on or before its latest day, in the destination's calendar (`zone`); None
    without a promise."""
    if order.promised_delivery_latest is None:
        return None
    return delivered_at.astimezone(zone).date() <= order.promised_delivery_latest
