"""What each location can give: the one availability rule, read by the availability API, order intake and its
backorders, low-stock alerts and the reservation code.

- A stock row can promise `on_hand - reserved - safety_stock`, floored at 0 (`StockLevel.available`); for a
  lot-tracked product, no more than its sellable lots hold: unreserved units of lots expiring on or after today
  (in the tenant's time zone) plus the channel's minimum shelf life (`level_available`, `stock_figures`).
- A channel can promise the sum of those figures over its active sourcing pool, less its buffer (units, or a
  percentage of the network rounded up), floored at 0 (`network_available`, `apply_buffer`).
- One exception, named here: a till sale, where the customer holds the goods in the store, may take what is on the
  shelf and not reserved, safety stock included (`on_shelf`). Safety stock protects online promises, not goods
  already in a customer's hands; the ledger's own constraint (on_hand >= reserved) bounds it.
"""

from datetime import date, timedelta

from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from inventory import sql
from inventory.models import Location, Lot, Product, StockLevel
from inventory.models.stock import promisable
from oms.errors import NotFound
from oms.models import Tenant
from oms.timezones import zone


def today_for(tenant) -> date:
    """Today in the tenant's time zone: a lot that expires today is still sold today, not tomorrow."""
    return timezone.localdate(timezone=zone(tenant.timezone))


def sellable_from(*, tenant: Tenant, channel=None) -> date:
    """The earliest expiry date a lot may have to be reserved or promised for this channel."""
    return today_for(tenant) + timedelta(days=getattr(channel, "min_shelf_life_days", 0) or 0)


def sellable_lot_units(*, tenant: Tenant, level_ids, expires_from: date) -> dict:
    """{stock_level_id: unreserved units in lots expiring on or after `expires_from`}, one query."""
    rows = (
        Lot.objects.for_tenant(tenant)
        .filter(stock_level_id__in=list(level_ids), expires_on__gte=expires_from, on_hand__gt=F("reserved"))
        .values("stock_level_id")
        .annotate(free=Sum(F("on_hand") - F("reserved")))
    )
    return {row["stock_level_id"]: row["free"] for row in rows}


def level_available(level: StockLevel, sellable_lots: int | None = None) -> int:
    """What a stock row can still promise: on_hand - reserved - safety_stock, floored at 0, and for a
    lot-tracked product no more than its sellable lots hold."""
    available = level.available
    return min(available, sellable_lots or 0) if sellable_lots is not None else available


def pool_levels(*, tenant: Tenant, channel, products, locations=None) -> dict:
    """{(product_id, location_id): StockLevel} for the channel's pool (or the given locations), with
    `.sellable` set to what the row can promise to this channel (lots and shelf life counted); two queries."""
    if locations is None:
        locations = channel_locations(tenant=tenant, channel=channel)
    location_ids = [loc.id for loc in locations]
    levels = list(
        StockLevel.objects.for_tenant(tenant)
        .filter(product_id__in=[p.id for p in products], location_id__in=location_ids)
        .select_related("location", "product")
    )
    _set_sellable(tenant=tenant, channel=channel, levels=levels)
    return {(lvl.product_id, lvl.location_id): lvl for lvl in levels}


# --- the pool in one query -------------------------------------------------------------------------------
# What channel_locations() + pool_levels() read for order intake, in one statement (inventory.sql.pool_rows):
# the stock rows of the products in the channel's active pool with their location, product and pool rank.
# Locations of the pool that hold no row of these products are left out: a plan can take nothing from them,
# so leaving them out changes no plan and no shortfall. Rows are hydrated into model instances directly.


def _hydrate(model, spec, values):
    names, _, converters = spec
    values = [
        convert(value, None, connection) if convert is not None and value is not None else value
        for convert, value in zip(converters, values, strict=True)
    ]
    return model.from_db(connection.alias, names, values)


def pool_snapshot(*, tenant: Tenant, channel, products) -> tuple[list, dict]:
    """(the pool's locations that hold these products, in priority order; {(product_id, location_id): level})
    with `.sellable` set as pool_levels() sets it."""
    rows, (level_spec, location_spec, product_spec) = sql.pool_rows(
        tenant_id=tenant.id, channel_id=channel.id, product_ids=[p.id for p in products]
    )
    first_location, first_product = len(level_spec[0]), len(level_spec[0]) + len(location_spec[0])
    rank_at = first_product + len(product_spec[0])
    locations, ranks, products_by_id, levels = {}, {}, {}, {}
    for row in rows:
        level = _hydrate(StockLevel, level_spec, row[:first_location])
        location = locations.get(level.location_id)
        if location is None:
            location = _hydrate(Location, location_spec, row[first_location:first_product])
            locations[level.location_id] = location
            ranks[level.location_id] = (row[rank_at], row[rank_at + 1])
        product = products_by_id.get(level.product_id)
        if product is None:
            product = products_by_id[level.product_id] = _hydrate(Product, product_spec, row[first_product:rank_at])
        level.location, level.product = location, product
        levels[(level.product_id, level.location_id)] = level
    _set_sellable(tenant=tenant, channel=channel, levels=list(levels.values()))
    ordered = sorted(locations.values(), key=lambda loc: ranks[loc.id])
    return ordered, levels


def channel_locations(*, tenant: Tenant, channel) -> list:
    """The channel's sourcing pool, in priority order, active locations only."""
    if channel.tenant_id != tenant.id:
        raise NotFound("No such channel.")
    return [
        cl.location
        for cl in channel.pool.select_related("location").filter(location__active=True).order_by("priority", "id")
    ]


def apply_buffer(network: int, channel) -> int:
    """The channel's buffer held back from a network quantity, never below 0.

    Percent buffers round the held-back share up, so a channel never promises a unit of the reserve.
    """
    network = max(network, 0)
    if channel is None or not channel.buffer:
        return network
    if channel.buffer_kind == "percent":  # channels.models.BufferKind.PERCENT (inventory sits below channels)
        held = -(-network * min(channel.buffer, 100) // 100)
        return max(network - held, 0)
    return max(network - channel.buffer, 0)


def _set_sellable(*, tenant: Tenant, channel, levels: list) -> None:
    """Set `.sellable` on each row (model instances with their product): what it can promise to `channel`."""
    tracked = [lvl.id for lvl in levels if lvl.product.tracks_lots]
    lots = (
        sellable_lot_units(tenant=tenant, level_ids=tracked, expires_from=sellable_from(tenant=tenant, channel=channel))
        if tracked
        else {}
    )
    for lvl in levels:
        lvl.sellable = level_available(lvl, lots.get(lvl.id, 0) if lvl.product.tracks_lots else None)


def stock_figures(*, tenant: Tenant, product_ids, location_ids, channel=None) -> dict:
    """{(product_id, location_id): what the row can promise} for these products at these locations, to `channel`
    (its minimum shelf life; None: today's sellable lots). Rows of inactive products count 0. Two queries."""
    rows = list(
        StockLevel.objects.for_tenant(tenant)
        .filter(product_id__in=list(product_ids), location_id__in=list(location_ids))
        .values_list(
            "id",
            "product_id",
            "location_id",
            "on_hand",
            "reserved",
            "safety_stock",
            "product__tracks_lots",
            "product__active",
        )
    )
    tracked = [row[0] for row in rows if row[6]]
    lots = (
        sellable_lot_units(tenant=tenant, level_ids=tracked, expires_from=sellable_from(tenant=tenant, channel=channel))
        if tracked
        else {}
    )
    # A batch of allocations reads thousands of rows here: level_available's rule from the bare figures, without
    # an object per row.
    figures = {}
    for level_id, product_id, location_id, on_hand, reserved, safety_stock, tracks_lots, active in rows:
        if not active:
            figures[(product_id, location_id)] = 0
        elif tracks_lots:
            figures[(product_id, location_id)] = min(promisable(on_hand, reserved, safety_stock), lots.get(level_id, 0))
        else:
            figures[(product_id, location_id)] = promisable(on_hand, reserved, safety_stock)
    return figures


def network_total(figures: dict, product_id: int, location_ids) -> int:
    """What the locations can give of a product in all, from `{(product_id, location_id): units}`."""
    return sum(figures.get((product_id, location_id), 0) for location_id in location_ids)


def network_available(figures: dict, product_id: int, location_ids, channel) -> int:
    """What a channel can promise of a product: its pool's total less the channel's buffer."""
    return apply_buffer(network_total(figures, product_id, location_ids), channel)


def on_shelf(level: StockLevel | None) -> int:
    """What a till sale can take from a store's row: on hand and not reserved, safety stock included."""
    return max(level.on_hand - level.reserved, 0) if level is not None else 0
