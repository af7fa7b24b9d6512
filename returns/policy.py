"""The return policy, in one module: whether a request may be made, and whether it is approved at once.

A malformed request is refused before this (400). A request the policy refuses is a 409 `return_refused` whose
`rule` says which rule refused it:

- `order_not_shipped`: nothing of the order has shipped or been collected (or sold at a till) yet;
- `return_window`: the channel's return window (Channel.return_window_days, 30 days by default) has passed,
  counted from the last delivery or collection on the order's timeline, or from the last shipment while no
  delivery is known;
- `not_returnable`: a product is marked not returnable (Product.returnable);
- `quantity`: more units than were shipped or collected, less those already asked back by requests not
  rejected or cancelled, or already returned. The caller holds the order's row lock while it checks and creates
  (returns.services.request_return), so two concurrent requests for the last unit cannot both pass.

Auto-approval (the tenant's `return_auto_approval` setting, returns.tenant_settings) approves a request at once
when every rule it sets holds: the value of the units asked back is at most `max_amount`, the request comes within
`within_days` of the window's start, and no line gives a reason of `excluded_reasons`. Otherwise a person decides.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum

from oms.errors import Conflict
from orders.amounts import share
from orders.models import DeliveryMethod, EventKind, OrderEvent
from returns.models import ReturnLine
from returns.states import COUNTED
from returns.tenant_settings import auto_approval_rules

ORDER_NOT_SHIPPED, RETURN_WINDOW, NOT_RETURNABLE, QUANTITY = (
    "order_not_shipped",
    "return_window",
    "not_returnable",
    "quantity",
)
RULES = (ORDER_NOT_SHIPPED, RETURN_WINDOW, NOT_RETURNABLE, QUANTITY)


class ReturnRefused(Conflict):
    code = "return_refused"
    title = "The return policy refuses this request"

    def __init__(self, detail: str, *, rule: str, **extra):
        super().__init__(detail, rule=rule, **extra)


@dataclass(frozen=True)
class AskedLine:
    """Units of one order line asked back, with the reason (a ReturnReason of the tenant)."""

    order_line: object
    quantity: int
    reason: object


def window_start(order) -> datetime | None:
    """When the return window starts: the last delivery or collection, else the last shipment; a sale at a till
    starts it when the order was placed. None when nothing left yet."""
    if order.delivery_method == DeliveryMethod.IN_STORE:
        return order.placed_at
    events = OrderEvent.objects.for_tenant(order.tenant_id).filter(order=order)
    for kinds in ((EventKind.DELIVERED, EventKind.COLLECTED), (EventKind.SHIPPED,)):
        last = events.filter(kind__in=kinds).order_by("-at").values_list("at", flat=True).first()
        if last is not None:
            return last
    return None


def units_asked_back(order) -> dict[int, int]:
    """Order line id → units asked back by the order's returns that still count (not rejected, not cancelled)."""
    rows = (
        ReturnLine.objects.for_tenant(order.tenant_id)
        .filter(rma__order=order, rma__status__in=COUNTED)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["order_line_id"]: row["units"] for row in rows}


def units_left_to_return(line, asked: dict[int, int]) -> int:
    """What may still be asked back of a line: shipped or collected, less asked back or returned already."""
    taken = max(asked.get(line.id, 0), line.quantity_returned)
    return max(line.quantity_shipped - taken, 0)


def value_of(lines: list[AskedLine]) -> Decimal:
    """What the units asked back were paid: unit price less their share of the line's discount, plus tax."""
    total = Decimal("0")
    for item in lines:
        line = item.order_line
        total += (
            line.unit_price * item.quantity
            - share(line.discount, item.quantity, line.quantity)
            + share(line.tax, item.quantity, line.quantity)
        )
    return total


def check_request(*, order, order_lines: list, lines: list[AskedLine], now: datetime) -> None:
    """Refuse (ReturnRefused, naming the rule) a request the policy does not allow. Call it holding the order's
    row lock, with the order's lines read under that lock."""
    if not any(line.quantity_shipped for line in order_lines):
        raise ReturnRefused(
            f"Order {order.number} has not shipped or been collected: nothing can be returned yet.",
            rule=ORDER_NOT_SHIPPED,
        )
    start = window_start(order)
    window_days = order.channel.return_window_days
    if start is not None and now > start + timedelta(days=window_days):
        raise ReturnRefused(
            f"The return window of {window_days} days ended on {(start + timedelta(days=window_days)).date()}.",
            rule=RETURN_WINDOW,
            window_days=window_days,
            window_started_at=start.isoformat(),
        )
    refused = [item for item in lines if not _returnable(item.order_line)]
    if refused:
        raise ReturnRefused(
            "These products cannot be returned: " + ", ".join(item.order_line.sku for item in refused) + ".",
            rule=NOT_RETURNABLE,
            lines=[{"order_line": item.order_line.id, "sku": item.order_line.sku} for item in refused],
        )
    asked = units_asked_back(order)
    beyond = [
        (item, units_left_to_return(item.order_line, asked))
        for item in lines
        if item.quantity > units_left_to_return(item.order_line, asked)
    ]
    if beyond:
        raise ReturnRefused(
            "More units than can still be returned.",
            rule=QUANTITY,
            lines=[
                {
                    "order_line": item.order_line.id,
                    "sku": item.order_line.sku,
                    "requested": item.quantity,
                    "returnable": left,
                }
                for item, left in beyond
            ],
        )


def _returnable(line) -> bool:
    return line.product.returnable


def approves_automatically(*, order, lines: list[AskedLine], now: datetime) -> bool:
    """Whether the tenant's auto-approval rules approve the request at once (see the module's docstring)."""
    rules = auto_approval_rules(order.tenant)
    if not rules["enabled"]:
        return False
    if rules["max_amount"] is not None and value_of(lines) > Decimal(str(rules["max_amount"])):
        return False
    if rules["within_days"] is not None:
        start = window_start(order)
        if start is None or now > start + timedelta(days=int(rules["within_days"])):
            return False
    excluded = set(rules["excluded_reasons"])
    return not any(item.reason.code in excluded for item in lines)
