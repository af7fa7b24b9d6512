"""What the store screens show: the stores a caller may open (a clerk's own, every store for the office; asked of
inventory.selectors), a store's queue in columns with their counts, a fulfilment order's lines with where each
product sits in the store, and the label's scannable code.

The queue's columns are one list (QUEUE_COLUMNS): a column is a name, a title and the condition its fulfilment
orders meet, so a new column is one more line."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.db.models import F, IntegerField, Q, Sum, Value
from django.db.models.functions import Greatest, Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fulfillment import carriers, selectors
from fulfillment.models import FulfillmentStatus
from fulfillment.services import pickup
from inventory.models import StockLevel
from inventory.selectors import store_for, stores_for  # noqa: F401 - the store screens ask here
from oms.api.scope import Scope
from orders.models import DeliveryMethod

S = FulfillmentStatus
CARDS_PER_COLUMN = 50
SESSION_KEY = "store_screen_location"

_OPEN_UNITS = F("lines__quantity") - F("lines__quantity_shipped") - F("lines__quantity_rejected")
_OPEN_UNITS = _OPEN_UNITS - F("lines__quantity_cancelled")


@dataclass(frozen=True)
class Column:
    """One column of the queue: its fulfilment orders (`condition`, on a fulfilment order annotated with
    `units_open` and `units_to_pick`) and what a card offers: the screen (URL name, given the fulfilment order's id)
    that works it, or the action it posts when `posts`; `rejectable` cards also offer the rejection."""

    key: str
    title: object
    condition: Q
    step: str
    verb: object
    posts: bool = False
    rejectable: bool = False


# Still units to confirm by a scan (an accepted order has all of them); every unit confirmed.
_TO_PICK = Q(status=S.ACCEPTED) | Q(status=S.PICKING, units_to_pick__gt=0)
_PICKED = Q(status=S.PICKING, units_to_pick=0)

# The pickup store's own part of a click & collect order: it is handed over at the counter, never shipped.
_AT_THE_COUNTER = Q(order__delivery_method=DeliveryMethod.PICKUP, location_id=F("order__pickup_location_id"))
_READY = Q(status=S.READY_FOR_PICKUP)

QUEUE_COLUMNS = (
    Column("to_accept", _("To accept"), Q(status=S.PENDING), "store-accept", _("Accept"), posts=True, rejectable=True),
    Column("to_pick", _("To pick"), _TO_PICK, "store-pick", _("Pick")),
    Column("to_pack", _("To pack"), _PICKED, "store-pack", _("Pack")),
    Column(
        "to_ship",
        _("To ship"),
        Q(status=S.PACKED) & ~_AT_THE_COUNTER,
        "store-ship",
        pgettext_lazy("fulfilment step", "Ship"),
    ),
    Column(
        "to_make_ready",
        _("To put out for pickup"),
        Q(status=S.PACKED) & _AT_THE_COUNTER,
        "store-ready",
        _("Ready for pickup"),
        posts=True,
    ),
    Column(
        "ready_for_pickup",
        _("Ready for pickup"),
        _READY & Q(pickup_expires_at__gte=Now()),
        "store-collect",
        _("Hand over"),
    ),
    Column(
        "overdue_pickups",
        _("Overdue pickups"),
        _READY & Q(pickup_expires_at__lt=Now()),
        "store-collect",
        _("Hand over"),
    ),
    Column("awaiting_transfer", _("Awaiting a transfer"), Q(status=S.AWAITING_TRANSFER), "store-pick", _("Open")),
)


def ready_pickups(*, scope: Scope, store, query: str = "") -> list:
    """The store's pickups waiting at the counter, those whose hold ends first at the top; with `query`, those it
    names: the order's number, the customer's name or e-mail, or the pickup code the customer shows (checked
    against each one's keyed hash, no attempt counted)."""
    ready = (
        selectors.fulfillments_for(scope=scope)
        .filter(location=store, status=S.READY_FOR_PICKUP)
        .select_related("order__customer")
        .order_by("pickup_expires_at", "id")
    )
    query = " ".join(query.split())[:200]
    if not query:
        return list(ready[:CARDS_PER_COLUMN])
    named = ready.filter(
        Q(order__number__iexact=query)
        | Q(order__customer__name__icontains=query)
        | Q(order__customer__email__iexact=query)
        | Q(order__shipping_address__name__icontains=query)
    )
    found = list(named[:CARDS_PER_COLUMN])
    by_code = pickup.find_ready_by_code(scope=scope, code=query, location_id=store.id)
    if by_code is not None and all(f.id != by_code.id for f in found):
        found.insert(0, ready.get(id=by_code.id))
    return found


@dataclass(frozen=True)
class Card:
    fulfillment: object
    units: int
    age_hours: float
    overdue: bool


def queue(*, scope: Scope, store, now: datetime) -> list[dict]:
    """The store's columns in order, each with its count and its oldest cards first."""
    sla = timedelta(hours=carriers.sla_hours(scope.tenant))
    work = (
        selectors.fulfillments_for(scope=scope)
        .filter(location=store)
        .annotate(
            units_open=Sum(_OPEN_UNITS, default=0),
            units_to_pick=Sum(
                Greatest(_OPEN_UNITS - F("lines__quantity_picked"), Value(0)), default=0, output_field=IntegerField()
            ),
        )
        .select_related("order__channel")
    )
    columns = []
    for column in QUEUE_COLUMNS:
        chosen = work.filter(column.condition)
        cards = [
            Card(
                fulfillment=fulfillment,
                units=fulfillment.units_open,
                age_hours=round((now - fulfillment.created_at).total_seconds() / 3600, 1),
                overdue=now > fulfillment.created_at + sla,
            )
            for fulfillment in chosen.order_by("created_at", "id")[:CARDS_PER_COLUMN]
        ]
        columns.append(
            {"column": column, "key": column.key, "title": column.title, "count": chosen.count(), "cards": cards}
        )
    return columns


@dataclass(frozen=True)
class PickLine:
    line: object
    product: object
    bin: str | None
    needed: int
    picked: int

    @property
    def complete(self) -> bool:
        return self.picked >= self.needed

    @property
    def percent(self) -> int:
        return 100 if not self.needed else min(100, int(self.picked * 100 / self.needed))


def pick_lines(fulfillment) -> list[PickLine]:
    """The fulfilment order's open lines with their product, where it sits in the store and the units confirmed."""
    lines = [line for line in fulfillment.lines.select_related("order_line__product").order_by("id")]
    product_ids = [line.order_line.product_id for line in lines]
    bins = dict(
        StockLevel.objects.for_tenant(fulfillment.tenant_id)
        .filter(location_id=fulfillment.location_id, product_id__in=product_ids)
        .values_list("product_id", "bin")
    )
    return [
        PickLine(
            line=line,
            product=line.order_line.product,
            bin=bins.get(line.order_line.product_id),
            needed=line.quantity_open,
            picked=min(line.quantity_picked, line.quantity_open),
        )
        for line in lines
        if line.quantity_open
    ]


def label_code(fulfillment) -> str:
    """What the label's code says: the order number and the fulfilment order, read back by a scanner."""
    return f"{fulfillment.order.number}/F{fulfillment.id}"


def qr_svg(text: str) -> str:
    """The text as a QR code in SVG, drawn here (no image service): black modules on a white quiet zone."""
    return segno.make(text, error="m", micro=False).svg_inline(scale=4, border=4, title=text)
