"""What routing reads: the candidate locations of an order's channel with what each can give now, its load today
and whether it is open, and where the order goes. The engine (fulfillment.engine) decides from these alone."""

import zoneinfo
from datetime import datetime, timedelta

from django.utils import timezone

from fulfillment.engine import Candidate, Destination
from fulfillment.models import FulfillmentOrder, FulfillmentStatus, RoutingSimulation
from inventory import sourcing
from inventory.geo import point_for_postal_code
from oms.api.scope import Scope, rows
from oms.errors import NotFound
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
    """{location_id: fulfilment orders created since midnight in the location's time zone, not rejected}."""
    midnights = {
        loc.id: now.astimezone(_zone(loc.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        for loc in locations
    }
    if not midnights:
        return {}
    rows = (
        FulfillmentOrder.objects.for_tenant(tenant)
        .filter(location_id__in=list(midnights), created_at__gte=min(midnights.values()) - timedelta(days=1))
        .exclude(status__in=NOT_COUNTED)
        .values_list("location_id", "created_at")
    )
    loads: dict = {}
    for location_id, created_at in rows:
        if created_at >= midnights[location_id]:
            loads[location_id] = loads.get(location_id, 0) + 1
    return loads


def routing_candidates(
    *, tenant: Tenant, channel, product_ids, now: datetime | None = None, held: dict | None = None
) -> list[Candidate]:
    """Every location of the channel's sourcing pool, in pool order (inactive ones too, so that each gets its
    reason), with what it can give of these products to this channel (inventory.sourcing's one rule). `held`,
    {(product_id, location_id): units} the order being routed already reserves, counts as available again: routing
    may keep them where they are."""
    held = held or {}
    now = now or timezone.now()
    entries = list(channel.pool.select_related("location").order_by("priority", "id"))
    locations = [entry.location for entry in entries]
    figures = sourcing.stock_figures(
        tenant=tenant, product_ids=set(product_ids), location_ids=[loc.id for loc in locations], channel=channel
    )
    loads = _loads_today(tenant=tenant, locations=locations, now=now)
    candidates = []
    for rank, location in enumerate(locations):
        candidates.append(
            Candidate(
                location_id=location.id,
                code=location.code,
                kind=location.kind,
                active=location.active,
                in_pool=True,
                pool_rank=rank,
                ships=location.ships,
                pickup=location.pickup,
                is_open=_open_today(location, now),
                daily_capacity=location.daily_capacity,
                load_today=loads.get(location.id, 0),
                latitude=float(location.latitude) if location.latitude is not None else None,
                longitude=float(location.longitude) if location.longitude is not None else None,
                available={
                    pid: figures.get((pid, location.id), 0) + held.get((pid, location.id), 0) for pid in product_ids
                },
            )
        )
    return candidates


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


def local_date(location, moment: datetime):
    """The date `moment` falls on in the location's time zone: the day its capacity and opening hours count."""
    return moment.astimezone(_zone(location.timezone)).date()


def open_on(location, moment: datetime) -> bool | None:
    """Whether the location opens at all on the day `moment` falls on (its time zone), as routing judges today;
    None when it publishes no hours. The policy simulation asks it of past days."""
    return _open_today(location, moment)


def simulations_for(*, scope: Scope | None):
    """The tenant's routing simulations, newest first; nothing without a scope."""
    return rows(RoutingSimulation, scope).select_related("active_policy").order_by("-id")


def simulation_detail(*, scope: Scope | None, simulation_id) -> RoutingSimulation:
    """One of the tenant's simulations; another tenant's id, or one that does not exist, is NotFound (404)."""
    simulation = simulations_for(scope=scope).filter(id=simulation_id).first()
    if simulation is None:
        raise NotFound("No such routing simulation.")
    return simulation
