"""What the returns desk of a store shows (reads only): the order or the return a clerk looks for, what is left to
return on each line of an order, and the returns taken back at the store.

At the counter a customer may bring any order of the tenant (bought online, returned in store), and a mail return
whose slip they hold: a desk sees the returns made at its store and the returns that name no store, found by their
number. Returns made at another store stay out of sight (404), as everywhere for a store clerk."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, Sum

from oms.api.scope import Scope, rows
from oms.errors import NotFound
from orders.models import Order
from orders.selectors import orders_for
from returns import policy
from returns.models import Return, ReturnLine

FOUND_LIMIT = 20
RECENT_LIMIT = 50


@dataclass(frozen=True)
class ReturnableLine:
    """An order line and the units that may still be asked back of it."""

    line: object
    left: int


def desk_returns(*, scope: Scope, store):
    """The returns a desk may open: those made at its store (one the caller may open) and those that name no store
    (a mail return brought to the counter), of the caller's channel for a channel-bound caller."""
    desk = scope.narrow_to_channel(rows(Return, scope)).filter(Q(location=store) | Q(location__isnull=True))
    return desk.select_related("order", "channel", "location", "exchange_order")


def desk_return(*, scope: Scope, store, return_id):
    """One return the desk may open, with its lines; NotFound otherwise."""
    try:
        return (
            desk_returns(scope=scope, store=store)
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=ReturnLine.all_tenants.select_related("order_line", "reason")
                    .prefetch_related("receipts")
                    .order_by("id"),
                ),
                "refunds",
            )
            .get(id=return_id)
        )
    except (Return.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such return.") from None


def order_at_desk(*, scope: Scope, order_id):
    """Any order of the tenant the caller sees (bought online, returned in store); NotFound otherwise."""
    try:
        return orders_for(scope=scope).select_related("customer", "channel").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None


def find(*, scope: Scope, store, query: str):
    """What a typed or scanned text names: a return (its RMA number) or orders (the order number a receipt's barcode
    gives, or the customer's e-mail). Returns (rma, orders): at most one of them is set."""
    query = " ".join(query.split())[:200]
    if not query:
        return None, []
    rma = desk_returns(scope=scope, store=store).filter(number__iexact=query).first()
    if rma is not None:
        return rma, []
    orders = (
        orders_for(scope=scope)
        .filter(Q(number__iexact=query) | Q(customer__email__iexact=query))
        .select_related("customer", "channel")
        .order_by("-placed_at", "-id")
    )
    return None, list(orders[:FOUND_LIMIT])


def returnable_lines(order) -> list[ReturnableLine]:
    """Each line of the order with the units still returnable: shipped or collected, less what is asked back."""
    asked = policy.units_asked_back(order)
    lines = order.lines.select_related("product").order_by("line_number")
    return [ReturnableLine(line, policy.units_left_to_return(line, asked)) for line in lines]


def recent_at(*, scope: Scope, store) -> list:
    """The returns made at this store, newest first, with their units."""
    made_here = desk_returns(scope=scope, store=store).filter(location=store)
    return list(made_here.annotate(units=Sum("lines__quantity")).order_by("-sequence")[:RECENT_LIMIT])
