"""What routing reads: the candidate locations of an order's channel with what each can give now, its load today
and whether it is open, and where the order goes. The engine (fulfillment.engine) decides from these alone."""

import zoneinfo
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from channels.models import ChannelLocation
from fulfillment.engine import Candidate, Destination
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from inventory import sourcing
from inventory.geo import point_for_postal_code
from inventory.models import Location
from oms.models import Tenant

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Fulfilment orders that no longer take a location's capacity.
NOT_COUNTED = (FulfillmentStatus.REJECTED, FulfillmentStatus.CANCELLED)


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _open_today(location, now: datetime) -> bool | None:
    """Whether the location opens at all today in its time zone; None when it publishes no hours (a warehouse)."""
    hours = location.opening_hours or {}
    if not hours:
        return None
    return bool(hours.get(WEEKDAYS[now.astimezone(_zone(location.timezone)).weekday()]))


def _loads_today(*, tenant: Tenant, locations, now: datetime) -> dict:
    """{location_id: fulfilment orders created since midnight in the location's time zone, not rejected}, counted
    by the database (one row per location, however many orders it took today); one query."""
    by_midnight: dict = {}
    for loc in locations:
        midnight = now.astimezone(_zone(loc.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        by_midnight.setdefault(midnight, []).append(loc.id)
    if not by_midnight:
        return {}
    since = Q()
    for midnight, ids in by_midnight.items():
        since |= Q(location_id__in=ids, created_at__gte=midnight)
    rows = (
        FulfillmentOrder.objects.for_tenant(tenant)
        .filter(since)
        .exclude(status__in=NOT_COUNTED)
        .order_by()
        .values("location_id")
        .annotate(orders=Count("id"))
        .values_list("location_id", "orders")
    )
    return dict(rows)


# The channel's pool as Location rows in pool order, without a ChannelLocation instance per entry: the ORM reaches
# a Location from its pool entries only through them (the relation has no reverse name), and building both cost
# half again the CPU of this read, made for every order routed.
_POOL_LOCATIONS = (
    f"SELECT l.* FROM {ChannelLocation._meta.db_table} p JOIN {Location._meta.db_table} l ON l.id = p.location_id "
    "WHERE p.tenant_id = %s AND p.channel_id = %s AND l.tenant_id = %s ORDER BY p.priority, p.id"
)


def _pool_locations(*, tenant: Tenant, channel) -> list:
    """The locations of the channel's sourcing pool, in priority order (inactive ones too)."""
    return list(Location.objects.for_tenant(tenant).raw(_POOL_LOCATIONS, [tenant.id, channel.id, tenant.id]))


def routing_candidates(
    *, tenant: Tenant, channel, product_ids, now: datetime | None = None, held: dict | None = None
) -> list[Candidate]:
    """Every location of the channel's sourcing pool, in pool order (inactive ones too, so that each gets its
    reason), with what it can give of these products to this channel (inventory.sourcing's one rule). `held`,
    {(product_id, location_id): units} the order being routed already reserves, counts as available again: routing
    may keep them where they are."""
    return pool_candidates(tenant=tenant, channel=channel, product_ids=product_ids, now=now, held=held)[0]


def pool_candidates(
    *, tenant: Tenant, channel, product_ids, now: datetime | None = None, held: dict | None = None
) -> tuple[list[Candidate], dict]:
    """(routing_candidates(), {location_id: Location} of those candidates): the locations as read for them, so
    that naming the candidates of a plan costs no second query."""
    held = held or {}
    now = now or timezone.now()
    locations = _pool_locations(tenant=tenant, channel=channel)
    figures = sourcing.stock_figures(
        tenant=tenant, product_ids=set(product_ids), location_ids=[loc.id for loc in locations], channel=channel
    )
    loads = _loads_today(tenant=tenant, locations=locations, now=now)
    candidates = []
    for rank, location in enumerate(locations):
        location_id = location.id
        candidates.append(
            Candidate(
                location_id=location_id,
                code=location.code,
                kind=location.kind,
                active=location.active,
                in_pool=True,
                pool_rank=rank,
                ships=location.ships,
                pickup=location.pickup,
                is_open=_open_today(location, now),
                daily_capacity=location.daily_capacity,
                load_today=loads.get(location_id, 0),
                latitude=float(location.latitude) if location.latitude is not None else None,
                longitude=float(location.longitude) if location.longitude is not None else None,
                available={
                    pid: figures.get((pid, location_id), 0) + held.get((pid, location_id), 0) for pid in product_ids
                },
            )
        )
    return candidates, {location.id: location for location in locations}


def destination_of(*, address: dict | None, pickup_location=None) -> Destination | None:
    """Where the goods go: the pickup store; else the address's coordinates; else its postal code's area
    (approximate); None when nothing places it."""
    if pickup_location is not None:
        if pickup_location.latitude is None or pickup_location.longitude is None:
            return None
        return Destination(float(pickup_location.latitude), float(pickup_location.longitude), approximate=False)
    address = address or {}
    if address.get("latitude") is not None and address.get("longitude") is not None:
        return Destination(float(address["latitude"]), float(address["longitude"]), approximate=False)
    point = (
        point_for_postal_code(str(address.get("postal_code") or "")) if address.get("country", "FR") == "FR" else None
    )
    if point is None:
        return None
    return Destination(point[0], point[1], approximate=True)
