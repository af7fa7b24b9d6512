"""Available-to-promise (ATP) for a channel.

Per SKU:
- `available`: what the channel can promise over its sourcing pool, by the one rule of inventory.sourcing
  (each row's on_hand - reserved - safety_stock, lots within the channel's minimum shelf life, less the
  channel's buffer);
- `locations`: per pickup location of the pool, what that location can hand over, nearest first when a
  position (latitude/longitude or a French postal code) is given, pool priority otherwise; all of them by
  default, or only the first N (`max_locations`) to keep a large network's answer small;
- `promise`: the delivery promise, per SKU and per listed location, computed by the provider fulfilment
  registers when Django starts (inventory may not import it): once per request for all SKUs; None without one.

The answer takes a fixed number of queries whatever the number of SKUs and locations: the products, the
pool, the stock rows and (when a product tracks lots) the lot sums.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from inventory.geo import haversine_km, point_for_postal_code
from inventory.models import Location, Product
from inventory.sourcing import channel_locations, network_available, stock_figures
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import Tenant

MAX_SKUS = 100


@dataclass
class LocationAvailability:
    location: object
    available: int
    distance_km: float | None = None
    promise: object = None


@dataclass
class SkuAvailability:
    sku: str
    available: int
    known: bool
    product: object = None
    locations: list = field(default_factory=list)
    promise: object = None


# What fulfilment registers (AppConfig.ready): provider(tenant=, channel=, pool=, figures=, results=, postal_code=,
# now=) sets `promise` on the results and their locations. One provider; registering again replaces it.
_promise_provider: list = []


def register_promise_provider(provider) -> None:
    _promise_provider[:] = [provider]


def point_near(*, lat: float | None = None, lon: float | None = None, postal_code: str = "") -> tuple | None:
    """Where the shopper is: coordinates when given, else a French postal code's (400 when unknown), else None."""
    if lat is not None and lon is not None:
        return (lat, lon)
    if postal_code:
        near = point_for_postal_code(postal_code)
        if near is None:
            raise ValidationFailed(errors={"postal_code": ["Not a known French postal code (5 digits)."]})
        return near
    return None


def locations_named(*, tenant: Tenant, codes: str) -> list | None:
    """The locations a comma-separated list of codes names (None for an empty list); an unknown code is a 404."""
    wanted = [c.strip() for c in (codes or "").split(",") if c.strip()]
    if not wanted:
        return None
    found = list(Location.objects.for_tenant(tenant).filter(code__in=wanted))
    missing = sorted(set(wanted) - {loc.code for loc in found})
    if missing:
        raise NotFound(f"No location with code {missing[0]!r}.")
    return found


def parse_skus(raw: str | list) -> list[str]:
    """Comma-separated SKUs, de-duplicated in order; 1 to MAX_SKUS of them."""
    items = raw if isinstance(raw, list) else (raw or "").split(",")
    skus = list(dict.fromkeys(s.strip() for s in items if s and s.strip()))
    if not skus:
        raise ValidationFailed(errors={"skus": ["Give one or more comma-separated SKUs."]})
    if len(skus) > MAX_SKUS:
        raise ValidationFailed(errors={"skus": [f"Ask for at most {MAX_SKUS} SKUs per call ({len(skus)} given)."]})
    return skus


def channel_availability(
    *,
    tenant,
    channel,
    skus: list[str],
    only_locations: list | None = None,
    near: tuple[float, float] | None = None,
    visible_location_ids: set | None = None,
    max_locations: int | None = None,
    postal_code: str = "",
) -> list[SkuAvailability]:
    """ATP of `skus` for `channel`, in the order asked.

    `only_locations` limits the per-location list to those locations of the pool (a store page, a pickup
    point chosen by the shopper); `visible_location_ids` hides the others from someone bound to some
    stores; `max_locations` keeps the first N of the list (the nearest when `near` is given, else in pool
    priority order). None changes the network quantity. Unknown SKUs (or another tenant's) answer 0,
    `known` False. `postal_code` is where the promise delivers to (the tenant's default zone without it).
    """
    if max_locations is not None and max_locations < 0:
        raise ValueError("max_locations is a number of locations")
    if channel.tenant_id != tenant.id:
        raise ValueError("the channel belongs to the tenant")
    if not channel.active:
        raise Conflict(f"Channel {channel.code} is inactive.", channel=channel.code)
    products = {
        p.sku: p
        for p in Product.objects.for_tenant(tenant).filter(sku__in=skus).only("id", "sku", "active", "tracks_lots")
    }
    pool = channel_locations(tenant=tenant, channel=channel)
    pool_ids = [loc.id for loc in pool]
    figures = stock_figures(
        tenant=tenant, product_ids=[p.id for p in products.values()], location_ids=pool_ids, channel=channel
    )

    listed = _listed_locations(pool, only_locations, visible_location_ids, near)
    if max_locations is not None:
        listed = listed[:max_locations]
    results = []
    for sku in skus:
        product = products.get(sku)
        if product is None:
            results.append(SkuAvailability(sku=sku, available=0, known=False))
            continue
        results.append(
            SkuAvailability(
                sku=sku,
                available=network_available(figures, product.id, pool_ids, channel),
                known=True,
                product=product,
                locations=[
                    LocationAvailability(
                        location=loc, available=figures.get((product.id, loc.id), 0), distance_km=distance
                    )
                    for loc, distance in listed
                ],
            )
        )
    for provider in _promise_provider:
        provider(
            tenant=tenant,
            channel=channel,
            pool=pool,
            figures=figures,
            results=results,
            postal_code=postal_code,
            now=timezone.now(),
        )
    return results


def _listed_locations(pool, only_locations, visible_location_ids, near):
    """[(location, distance_km)]: the pool's pickup locations (or those asked for), nearest first."""
    if only_locations is not None:
        asked = {loc.id for loc in only_locations}
        listed = [loc for loc in pool if loc.id in asked]
    else:
        listed = [loc for loc in pool if loc.pickup]
    if visible_location_ids is not None:
        listed = [loc for loc in listed if loc.id in visible_location_ids]
    with_distance = []
    for loc in listed:
        distance = None
        if near is not None and loc.latitude is not None and loc.longitude is not None:
            distance = round(haversine_km(near, (float(loc.latitude), float(loc.longitude))), 1)
        with_distance.append((loc, distance))
    if near is not None:
        # Python's sort is stable: equal distances (and locations without coordinates, last) keep pool order.
        with_distance.sort(key=lambda pair: (pair[1] is None, pair[1] or 0.0))
    return with_distance
