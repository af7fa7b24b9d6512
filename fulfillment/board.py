"""What the fulfilment board shows: the locations a caller may work (a clerk's own stores), and for one location
its open fulfilment orders in a column per status with their age against the SLA, the counts, and what shipped
today; and the units to collect for a pick list."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from fulfillment import carriers, selectors
from fulfillment.models import FulfillmentStatus
from inventory.models import Location
from inventory.sourcing import today_for
from oms.api.scope import Scope
from oms.timezones import zone

COLUMNS = (
    FulfillmentStatus.PENDING,
    FulfillmentStatus.ACCEPTED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PACKED,
)


@dataclass(frozen=True)
class Card:
    fulfillment: object
    units: int
    age_hours: float
    due_at: datetime
    overdue: bool
    due_soon: bool


def board_locations(*, scope: Scope) -> list:
    return list(scope.narrow_to_stores(Location.objects.for_tenant(scope.tenant), "pk").order_by("code"))


def chosen_location(locations: list, code: str):
    """The location named by code among those the caller may see; the first one by default."""
    for location in locations:
        if location.code == code:
            return location
    return locations[0] if locations and not code else None


def board(*, scope: Scope, location, now: datetime) -> dict:
    sla = timedelta(hours=carriers.sla_hours(scope.tenant))
    open_work = selectors.fulfillment_list(scope=scope, location=location.code).filter(status__in=COLUMNS)
    columns = {status: [] for status in COLUMNS}
    overdue = 0
    for fulfillment in sorted(open_work, key=lambda f: f.created_at):
        due_at = fulfillment.created_at + sla
        card = Card(
            fulfillment=fulfillment,
            units=sum(line.quantity_open for line in fulfillment.lines.all()),
            age_hours=round((now - fulfillment.created_at).total_seconds() / 3600, 1),
            due_at=due_at,
            overdue=now > due_at,
            due_soon=not now > due_at and due_at - now < sla / 4,
        )
        overdue += card.overdue
        columns[fulfillment.status].append(card)
    labels = dict(FulfillmentStatus.choices)
    start_of_day = datetime.combine(today_for(scope.tenant), datetime.min.time(), tzinfo=_zone(scope.tenant))
    shipped_today = (
        selectors.fulfillment_list(scope=scope, location=location.code)
        .filter(status=FulfillmentStatus.SHIPPED, closed_at__gte=start_of_day)
        .count()
    )
    return {
        "columns": [(status, labels[status], cards) for status, cards in columns.items()],
        "open_count": sum(len(cards) for cards in columns.values()),
        "overdue_count": overdue,
        "shipped_today": shipped_today,
        "sla_hours": carriers.sla_hours(scope.tenant),
    }


def pick_totals(fulfillments) -> list[tuple[str, str, int]]:
    """(SKU, name, units) to collect for these fulfilment orders, by SKU."""
    totals: dict = {}
    for fulfillment in fulfillments:
        for line in fulfillment.lines.all():
            if line.quantity_open:
                sku, name = line.order_line.sku, line.order_line.name
                totals[sku] = (sku, name, totals.get(sku, (sku, name, 0))[2] + line.quantity_open)
    return sorted(totals.values())


def _zone(tenant):
    return zone(tenant.timezone)
