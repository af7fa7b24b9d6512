"""Reserving stock: never oversell (DESIGN rule 2).

Every reservation is one conditional UPDATE (`reserved + q` only where `on_hand - reserved - safety_stock >= q`).
When several rows change in one transaction they are updated sorted by (location, product), so two
transactions always take their row locks in the same order and cannot deadlock.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.models import MovementKind, Reservation, StockLevel
from oms.actors import Actor
from oms.errors import Conflict, InsufficientStock, NotFound


@dataclass(frozen=True)
class Hold:
    """Units to hold of one product at one location."""

    level: StockLevel
    quantity: int
    order_line: object = None
    reference: str = ""


@dataclass
class LineDemand:
    """What an order line (or a cart hold) asks for; `key` identifies it in the answer."""

    key: object
    product: object
    quantity: int
    holds: list = field(default_factory=list)


def _take(tenant, level_id: int, quantity: int) -> bool:
    return bool(StockLevel.objects.for_tenant(tenant)
                .filter(id=level_id, on_hand__gte=F("reserved") + F("safety_stock") + quantity)
                .update(reserved=F("reserved") + quantity, updated_at=timezone.now()))


def _give_back(tenant, level_id: int, quantity: int) -> None:
    updated = (StockLevel.objects.for_tenant(tenant).filter(id=level_id, reserved__gte=quantity)
               .update(reserved=F("reserved") - quantity, updated_at=timezone.now()))
    if not updated:
        raise Conflict("Reserved quantity is lower than the release asked for.", stock_level=level_id)


def hold(*, tenant, holds: list[Hold], channel=None, ttl_seconds: int | None = None) -> list[Reservation]:
    """Reserve every hold or none: raises InsufficientStock naming the short ones.

    Returns the reservations in the order of `holds`; the rows are updated in (location, product) order.
    """
    if any(item.quantity <= 0 for item in holds):
        raise ValueError("hold quantities are positive")
    expires_at = timezone.now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None
    with transaction.atomic():
        for item in sorted(holds, key=lambda h: (h.level.location_id, h.level.product_id)):
            if not _take(tenant, item.level.id, item.quantity):
                transaction.set_rollback(True)
                raise InsufficientStock(lines=_short_lines(tenant, holds))
        return Reservation.objects.bulk_create([
            Reservation(tenant=tenant, stock_level=item.level, channel=channel, quantity=item.quantity,
                        order_line=item.order_line, reference=item.reference[:120], expires_at=expires_at)
            for item in holds])


def _short_lines(tenant, holds: list[Hold]) -> list[dict]:
    fresh = {lvl.id: lvl for lvl in StockLevel.objects.for_tenant(tenant)
             .filter(id__in=[h.level.id for h in holds]).select_related("product", "location")}
    return [{"sku": fresh[h.level.id].product.sku, "location": fresh[h.level.id].location.code,
             "requested": h.quantity, "available": fresh[h.level.id].available}
            for h in holds if fresh[h.level.id].available < h.quantity] or [
            {"sku": fresh[h.level.id].product.sku, "location": fresh[h.level.id].location.code,
             "requested": h.quantity, "available": fresh[h.level.id].available} for h in holds]


def release(*, tenant, reservation: Reservation, quantity: int | None = None,
            status: str = Reservation.Status.RELEASED) -> int:
    """Give back all or part of an active reservation; returns the units released (0 if nothing was held)."""
    with transaction.atomic():
        locked = Reservation.objects.for_tenant(tenant).select_for_update().filter(
            id=reservation.id, status=Reservation.Status.ACTIVE).first()
        if locked is None:
            return 0
        quantity = locked.quantity if quantity is None else min(quantity, locked.quantity)
        if quantity <= 0:
            return 0
        _give_back(tenant, locked.stock_level_id, quantity)
        if quantity == locked.quantity:
            locked.status, locked.closed_at = status, timezone.now()
        else:
            locked.quantity -= quantity
        locked.save(update_fields=["status", "closed_at", "quantity"])
        return quantity


def consume(*, tenant, reservation: Reservation, quantity: int, actor: Actor, reference: str = "") -> None:
    """Units leave the building (shipment, handover, store sale): on_hand and reserved drop together."""
    from inventory.ledger import post_movement

    with transaction.atomic():
        locked = Reservation.objects.for_tenant(tenant).select_for_update().select_related(
            "stock_level__product", "stock_level__location").filter(
            id=reservation.id, status=Reservation.Status.ACTIVE).first()
        if locked is None or quantity > locked.quantity:
            raise Conflict("Only active reserved units can be consumed.", reservation=reservation.id)
        post_movement(tenant=tenant, level=locked.stock_level, kind=MovementKind.SALE, quantity=-quantity,
                      release_reserved=quantity, actor=actor, reference=reference)
        if quantity == locked.quantity:
            locked.status, locked.closed_at = Reservation.Status.CONSUMED, timezone.now()
        else:
            locked.quantity -= quantity
        locked.save(update_fields=["status", "closed_at", "quantity"])


def pool_levels(*, tenant, channel, products, locations=None) -> dict:
    """{(product_id, location_id): StockLevel} for the channel's pool (or the given locations), one query."""
    if locations is None:
        location_ids = list(channel.pool.values_list("location_id", flat=True))
    else:
        location_ids = [loc.id for loc in locations]
    levels = (StockLevel.objects.for_tenant(tenant)
              .filter(product__in=[p.id for p in products], location_id__in=location_ids)
              .select_related("location", "product"))
    return {(lvl.product_id, lvl.location_id): lvl for lvl in levels}


def plan_sourcing(*, demands: list[LineDemand], ordered_locations: list, levels: dict) -> list[LineDemand]:
    """Choose where each line is reserved, from a snapshot of availability.

    One location for the whole order when one can serve every line (the first in pool priority);
    otherwise each line takes the first locations in priority that can serve it, split if it must.
    Lines that cannot be covered keep fewer holds than they need; the caller reports them short.
    """
    def available(product, location):
        level = levels.get((product.id, location.id))
        return level.available if level else 0

    for location in ordered_locations:
        if all(available(d.product, location) >= d.quantity for d in demands):
            for d in demands:
                d.holds = [Hold(level=levels[(d.product.id, location.id)], quantity=d.quantity)]
            return demands
    for d in demands:
        d.holds, missing = [], d.quantity
        for location in ordered_locations:
            take = min(missing, available(d.product, location))
            if take > 0:
                d.holds.append(Hold(level=levels[(d.product.id, location.id)], quantity=take))
                missing -= take
            if missing == 0:
                break
    return demands


def shortfalls(demands: list[LineDemand], levels: dict, ordered_locations: list) -> list[dict]:
    out = []
    for d in demands:
        covered = sum(h.quantity for h in d.holds)
        if covered < d.quantity:
            total = sum(levels[(d.product.id, loc.id)].available for loc in ordered_locations
                        if (d.product.id, loc.id) in levels)
            out.append({"sku": d.product.sku, "requested": d.quantity, "available": total})
    return out


def channel_locations(*, tenant, channel) -> list:
    """The channel's sourcing pool, in priority order, active locations only."""
    return [cl.location for cl in channel.pool.select_related("location").filter(location__active=True)
            .order_by("priority", "id")]


def reserve_demands(*, tenant, channel, demands: list[LineDemand], locations=None, ttl_seconds=None,
                    order_lines: dict | None = None, attempts: int = 3) -> list[LineDemand]:
    """Plan and reserve every demand at concrete locations, all or nothing.

    `locations` narrows the pool (a pickup store); `order_lines` maps a demand key to the OrderLine its
    reservations belong to. A plan can lose a race to a concurrent buyer: it is then redone from fresh
    figures, a few times, before answering InsufficientStock. Each demand gets `.reservations`.
    """
    ordered = locations if locations is not None else channel_locations(tenant=tenant, channel=channel)
    products = [d.product for d in demands]
    order_lines = order_lines or {}
    for attempt in range(attempts):
        levels = pool_levels(tenant=tenant, channel=channel, products=products, locations=ordered)
        plan_sourcing(demands=demands, ordered_locations=ordered, levels=levels)
        short = shortfalls(demands, levels, ordered)
        if short:
            raise InsufficientStock(lines=short)
        planned = [(d, h) for d in demands for h in d.holds]
        holds = [Hold(level=h.level, quantity=h.quantity, order_line=order_lines.get(d.key),
                      reference=str(d.key)) for d, h in planned]
        try:
            reservations = hold(tenant=tenant, holds=holds, channel=channel, ttl_seconds=ttl_seconds)
        except InsufficientStock:
            if attempt == attempts - 1:
                raise
            continue
        for d in demands:
            d.reservations = []
        for (d, _), reservation in zip(planned, reservations):
            d.reservations.append(reservation)
        return demands
    raise AssertionError("unreachable")  # pragma: no cover


def find_reservation(*, tenant, reservation_id: int) -> Reservation:
    try:
        return Reservation.objects.for_tenant(tenant).select_related("stock_level__product",
                                                                     "stock_level__location").get(id=reservation_id)
    except Reservation.DoesNotExist:
        raise NotFound("No such reservation.") from None
