"""What routing reads: the candidate locations of an order's channel with what each can give now, its load today
and whether it is open, and where the order goes. The engine (fulfillment.engine) decides from these alone.

And what callers read of fulfilment: fulfilment orders and shipments as their scope sees them, and the part of an
order's detail that fulfilment adds."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from channels.models import ChannelLocation
from fulfillment.engine import Candidate, Destination
from fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    RoutingDecision,
    RoutingSimulation,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
)
from inventory import sourcing
from inventory.geo import point_for_postal_code
from inventory.models import Location
from oms.api.scope import Scope, rows
from oms.errors import NotFound
from oms.models import Tenant
from oms.timezones import zone
from orders.models import OrderLine

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Fulfilment orders that no longer take a location's capacity.
NOT_COUNTED = (FulfillmentStatus.REJECTED, FulfillmentStatus.CANCELLED)


def _open_today(location, now: datetime) -> bool | None:
    """Whether the location opens at all today in its time zone; None when it publishes no hours (a warehouse)."""
    hours = location.opening_hours or {}
    if not hours:
        return None
    return bool(hours.get(WEEKDAYS[now.astimezone(zone(location.timezone)).weekday()]))


def _loads_today(*, tenant: Tenant, locations, now: datetime) -> dict:
    """{location_id: fulfilment orders created since midnight in the location's time zone, not rejected}, counted
    by the database (one row per location, however many orders it took today); one query."""
    by_midnight: dict = {}
    for loc in locations:
        midnight = now.astimezone(zone(loc.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
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


def _pool_locations(*, tenant: Tenant, channel) -> list:
    """The locations of the channel's sourcing pool, in priority order (inactive ones too)."""
    # Location rows straight from a subquery on the pool, without a pool entry instance per location: this read is
    # made for every order routed.
    entry = ChannelLocation.objects.for_tenant(tenant).filter(channel=channel, location=OuterRef("pk"))
    return list(
        Location.objects.for_tenant(tenant)
        .annotate(pool_priority=Subquery(entry.values("priority")[:1]), pool_entry=Subquery(entry.values("id")[:1]))
        .filter(pool_entry__isnull=False)
        .order_by("pool_priority", "pool_entry")
    )


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
    snapshot = pool_snapshot(tenant=tenant, channel=channel, product_ids=product_ids, now=now)
    return snapshot.candidates(product_ids, held=held), snapshot.by_id


@dataclass
class PoolSnapshot:
    """A channel's pool read once for some products: its locations in priority order, what each can give
    (`available`, {(product_id, location_id): units}) and its fulfilment orders today (`loads`). A batch of
    allocations routes many orders from one snapshot and updates `available` and `loads` as it places units, so
    that each order of the batch sees what the ones before it took."""

    locations: list
    available: dict
    loads: dict
    static: list  # per location, the candidate fields that do not change within a batch
    by_id: dict = field(default_factory=dict)

    def candidates(self, product_ids, *, held: dict | None = None) -> list[Candidate]:
        held = held or {}
        available, loads = self.available, self.loads
        return [
            Candidate(
                **fields,
                load_today=loads.get(location_id, 0),
                available={
                    pid: available.get((pid, location_id), 0) + held.get((pid, location_id), 0) for pid in product_ids
                },
            )
            for location_id, fields in self.static
        ]

    def take(self, product_id: int, location_id: int, units: int) -> None:
        """Units reserved at a location (negative: given back there) by an order of the batch."""
        key = (product_id, location_id)
        self.available[key] = self.available.get(key, 0) - units

    def add_load(self, location_id: int) -> None:
        self.loads[location_id] = self.loads.get(location_id, 0) + 1


def pool_snapshot(*, tenant: Tenant, channel, product_ids, now: datetime | None = None) -> PoolSnapshot:
    """The channel's pool with what it can give of these products now: three queries (locations, stock, loads)."""
    now = now or timezone.now()
    locations = _pool_locations(tenant=tenant, channel=channel)
    figures = sourcing.stock_figures(
        tenant=tenant, product_ids=set(product_ids), location_ids=[loc.id for loc in locations], channel=channel
    )
    static = [
        (
            location.id,
            {
                "location_id": location.id,
                "code": location.code,
                "kind": location.kind,
                "active": location.active,
                "in_pool": True,
                "pool_rank": rank,
                "ships": location.ships,
                "pickup": location.pickup,
                "is_open": _open_today(location, now),
                "daily_capacity": location.daily_capacity,
                "latitude": float(location.latitude) if location.latitude is not None else None,
                "longitude": float(location.longitude) if location.longitude is not None else None,
            },
        )
        for rank, location in enumerate(locations)
    ]
    return PoolSnapshot(
        locations=locations,
        available=dict(figures),
        loads=_loads_today(tenant=tenant, locations=locations, now=now),
        static=static,
        by_id={location.id: location for location in locations},
    )


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


# --- fulfilment orders and shipments as callers see them --------------------------------------------------


def fulfillments_for(*, scope: Scope | None):
    """The fulfilment orders a caller may see: the tenant's, of its channel's orders for a channel key, at their
    stores for a store clerk."""
    queryset = rows(FulfillmentOrder, scope)
    if scope is None:
        return queryset
    return scope.narrow_to_stores(scope.narrow_to_channel(queryset, "order__channel"), "location")


def fulfillment_list(*, scope: Scope | None, location: str = "", status: str = "", order=None):
    queryset = fulfillments_for(scope=scope).select_related("order__channel", "location", "transfer")
    if location:
        queryset = queryset.filter(location__code=location)
    if status:
        queryset = queryset.filter(status=status)
    if order is not None:
        queryset = queryset.filter(order_id=order)
    return queryset.prefetch_related(
        Prefetch("lines", queryset=FulfillmentLine.all_tenants.select_related("order_line").order_by("id")),
        Prefetch("shipments", queryset=Shipment.all_tenants.prefetch_related("lines").order_by("id")),
    ).order_by("-id")


def fulfillment_detail(*, scope: Scope | None, fulfillment_id) -> FulfillmentOrder:
    try:
        return fulfillment_list(scope=scope).get(id=fulfillment_id)
    except (FulfillmentOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such fulfilment order.") from None


def shipments_for(*, scope: Scope | None):
    queryset = rows(Shipment, scope)
    if scope is None:
        return queryset
    return scope.narrow_to_stores(scope.narrow_to_channel(queryset, "order__channel"), "location")


def shipment_list(*, scope: Scope | None, order=None, status: str = ""):
    queryset = shipments_for(scope=scope).select_related("order", "location", "fulfillment")
    if order is not None:
        queryset = queryset.filter(order_id=order)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.all_tenants.select_related("order_line").order_by("id")),
        Prefetch("events", queryset=ShipmentEvent.all_tenants.order_by("occurred_at", "id")),
    ).order_by("-id")


def shipment_detail(*, scope: Scope | None, shipment_id) -> Shipment:
    try:
        return shipment_list(scope=scope).get(id=shipment_id)
    except (Shipment.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such shipment.") from None


def attach_to_order(order) -> None:
    """What an order's detail shows of fulfilment, as plain data for the API and the page: its fulfilment orders
    with their lines and shipments (`fulfillment_list`), its shipments (`shipment_list`) and its routing decisions,
    newest first, with a reason for every location (`routing_decision_list`). Registered with orders.selectors."""
    fulfillments = list(
        FulfillmentOrder.all_tenants.filter(tenant_id=order.tenant_id, order=order)
        .select_related("location", "transfer")
        .prefetch_related(
            Prefetch("lines", queryset=FulfillmentLine.all_tenants.select_related("order_line").order_by("id")),
            Prefetch(
                "shipments",
                queryset=Shipment.all_tenants.prefetch_related(
                    Prefetch("lines", queryset=ShipmentLine.all_tenants.select_related("order_line").order_by("id"))
                ).order_by("id"),
            ),
        )
        .order_by("id")
    )
    skus = {line.id: line.sku for line in OrderLine.all_tenants.filter(order=order)}
    order.fulfillment_list = [
        {
            "id": fulfillment.id,
            "location": fulfillment.location.code,
            "location_name": fulfillment.location.name,
            "status": fulfillment.status,
            "routing_reason": fulfillment.reason,
            "reject_reason": fulfillment.reject_reason,
            "created_at": fulfillment.created_at,
            "transfer": fulfillment.transfer.number if fulfillment.transfer else None,
            "ready_at": fulfillment.ready_at,
            "pickup_expires_at": fulfillment.pickup_expires_at,
            "lines": [
                {
                    "order_line": line.order_line_id,
                    "sku": line.order_line.sku,
                    "quantity": line.quantity,
                    "quantity_shipped": line.quantity_shipped,
                    "quantity_rejected": line.quantity_rejected,
                    "quantity_cancelled": line.quantity_cancelled,
                }
                for line in fulfillment.lines.all()
            ],
            "shipments": [
                _shipment_data(shipment, fulfillment.location.code) for shipment in fulfillment.shipments.all()
            ],
        }
        for fulfillment in fulfillments
    ]
    order.shipment_list = [shipment for data in order.fulfillment_list for shipment in data["shipments"]]
    # A pickup order waiting at its store shows until when.
    order.pickup_expires_at = next(
        (f.pickup_expires_at for f in fulfillments if f.status == FulfillmentStatus.READY_FOR_PICKUP), None
    )
    order.routing_decision_list = [
        {
            "id": decision.id,
            "kind": decision.kind,
            "policy_version": decision.policy_version,
            "decided_at": decision.decided_at,
            "plan": [
                {
                    "location": code,
                    "lines": [
                        {"order_line": line_id, "sku": skus.get(line_id, ""), "quantity": units}
                        for line_id, units in served
                    ],
                }
                for code, served in decision.plan.items()
            ],
            "unfilled": [
                {"order_line": key, "sku": skus.get(key, ""), "quantity": units} for key, units in decision.unfilled
            ],
            "reasons": decision.reasons,
        }
        for decision in RoutingDecision.all_tenants.filter(tenant_id=order.tenant_id, order=order).order_by("-id")
    ]


def _shipment_data(shipment, location_code: str) -> dict:
    return {
        "id": shipment.id,
        "fulfillment": shipment.fulfillment_id,
        "location": location_code,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "tracking_numbers": shipment.tracking_numbers,
        "tracking_url": shipment.tracking_url,
        "status": shipment.status,
        "shipped_at": shipment.shipped_at,
        "delivered_at": shipment.delivered_at,
        "lines": [
            {"order_line": line.order_line_id, "sku": line.order_line.sku, "quantity": line.quantity}
            for line in shipment.lines.all()
        ],
    }


def local_date(location, moment: datetime):
    """The date `moment` falls on in the location's time zone: the day its capacity and opening hours count."""
    return moment.astimezone(zone(location.timezone)).date()


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
