"""Reserving stock: never oversell (DESIGN rule 2).

Every reservation is one conditional UPDATE (`reserved + q` only where `on_hand - reserved - safety_stock >= q`).
When several rows change in one transaction they are updated sorted by (location, product), so two
transactions always take their row locks in the same order and cannot deadlock.

Lot-tracked products (fresh goods): the StockLevel row is still the aggregate and still takes the one
conditional update; with its row lock held, the units are then allocated to the row's lots in expiry order
(FEFO), skipping expired lots and lots whose remaining shelf life is shorter than the channel's minimum. If the
sellable lots cannot cover the quantity, the whole reservation is rolled back and answered as insufficient.
"""

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory import sql
from inventory.models import Lot, MovementKind, Reservation, ReservationLot, StockLevel
from inventory.sourcing import (
    apply_buffer,
    level_available,
    network_total,
    pool_levels,
    pool_snapshot,
    sellable_from,
    sellable_lot_units,
)
from oms.actors import Actor
from oms.db import LOCK_ROW, insert_rows
from oms.errors import Conflict, InsufficientStock, NotFound
from oms.models import Tenant

# How often a transaction chosen as a deadlock victim (or a serialisation failure) is retried before failing.
DEADLOCK_RETRIES = 3


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
    reservations: list = field(default_factory=list)


class _Short(Exception):
    pass


# --- sellable dates --------------------------------------------------------------------------------------

# --- the conditional updates -----------------------------------------------------------------------------


def _take(tenant, level_id: int, quantity: int) -> bool:
    return bool(
        StockLevel.objects.for_tenant(tenant)
        .filter(id=level_id, on_hand__gte=F("reserved") + F("safety_stock") + quantity)
        .update(reserved=F("reserved") + quantity, updated_at=timezone.now())
    )


def _take_rows(tenant, wanted: dict[int, int]) -> bool:
    """Reserve `wanted[level_id]` units on every row, rows taken in (location, product) order (`wanted` is
    in that order); False as soon as one row cannot cover its quantity (the caller rolls back)."""
    if len(wanted) < 2:
        return all(_take(tenant, level_id, quantity) for level_id, quantity in wanted.items())
    return sql.reserve_rows(tenant_id=tenant.id, wanted=wanted, now=timezone.now())


def _allocate_lots(tenant, level_id: int, quantity: int, expires_from: date) -> list[tuple[int, int]] | None:
    """[(lot_id, units)] taken FEFO from the sellable lots of a row whose lock this transaction holds;
    None when they cannot cover the quantity (the caller rolls back)."""
    lots = (
        Lot.objects.for_tenant(tenant)
        .filter(stock_level_id=level_id, expires_on__gte=expires_from, on_hand__gt=F("reserved"))
        .order_by("expires_on", "id")
        .values_list("id", "on_hand", "reserved")
    )
    taken, missing = [], quantity
    for lot_id, on_hand, reserved in lots:
        take = min(missing, on_hand - reserved)
        if not (
            Lot.objects.for_tenant(tenant)
            .filter(id=lot_id, on_hand__gte=F("reserved") + take)
            .update(reserved=F("reserved") + take, updated_at=timezone.now())
        ):
            return None
        taken.append((lot_id, take))
        missing -= take
        if not missing:
            return taken
    return None


def _give_back(tenant, level_id: int, quantity: int) -> None:
    updated = (
        StockLevel.objects.for_tenant(tenant)
        .filter(id=level_id, reserved__gte=quantity)
        .update(reserved=F("reserved") - quantity, updated_at=timezone.now())
    )
    if not updated:
        raise Conflict("Reserved quantity is lower than the release asked for.", stock_level=level_id)


def _give_back_lots(tenant, reservation: Reservation, quantity: int) -> None:
    """Free `quantity` units of the reservation's lot allocations, latest expiry first (the order keeps the
    units that must leave soonest)."""
    allocations = list(reservation.lot_allocations.select_related("lot").order_by("-lot__expires_on", "-lot_id"))
    missing = quantity
    for allocation in allocations:
        take = min(missing, allocation.quantity)
        if not (
            Lot.objects.for_tenant(tenant)
            .filter(id=allocation.lot_id, reserved__gte=take)
            .update(reserved=F("reserved") - take, updated_at=timezone.now())
        ):
            raise Conflict("Reserved lot quantity is lower than the release asked for.", lot=allocation.lot.code)
        _shrink(tenant, allocation, take)
        missing -= take
        if not missing:
            return


def _shrink(tenant, allocation: ReservationLot, units: int) -> None:
    allocations = ReservationLot.objects.for_tenant(tenant).filter(id=allocation.id)
    if units == allocation.quantity:
        allocations.delete()
    else:
        allocations.update(quantity=F("quantity") - units)


def _is_deadlock(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in ("40P01", "40001")


# --- holding units at concrete locations -----------------------------------------------------------------


def hold(*, tenant: Tenant, holds: list[Hold], channel=None, ttl_seconds: int | None = None) -> list[Reservation]:
    """Reserve every hold or none: raises InsufficientStock naming the short ones.

    Returns the reservations in the order of `holds`; the rows are updated in (location, product) order.
    Lot-tracked products are allocated to their lots FEFO within the channel's minimum shelf life.
    """
    if any(item.quantity <= 0 for item in holds):
        raise ValueError("hold quantities are positive")
    if any(item.level.tenant_id != tenant.id for item in holds):
        raise ValueError("stock rows belong to the tenant")
    if channel is not None and channel.tenant_id != tenant.id:
        raise ValueError("the channel belongs to the tenant")
    if not holds:
        return []
    expires_at = timezone.now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None
    expires_from = sellable_from(tenant=tenant, channel=channel)
    ordered = sorted(range(len(holds)), key=lambda i: (holds[i].level.location_id, holds[i].level.product_id, i))
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                wanted: dict[int, int] = {}
                for index in ordered:
                    wanted[holds[index].level.id] = wanted.get(holds[index].level.id, 0) + holds[index].quantity
                if not _take_rows(tenant, wanted):
                    raise _Short
                allocations = {}
                for index in ordered:
                    item = holds[index]
                    if item.level.product.tracks_lots:
                        allocations[index] = _allocate_lots(tenant, item.level.id, item.quantity, expires_from)
                        if allocations[index] is None:
                            raise _Short
                reservations = [
                    Reservation(
                        tenant=tenant,
                        stock_level=item.level,
                        channel=channel,
                        quantity=item.quantity,
                        order_line=item.order_line,
                        reference=(item.reference or "")[:120],
                        expires_at=expires_at,
                    )
                    for item in holds
                ]
                insert_rows(reservations)
                ReservationLot.objects.bulk_create(
                    [
                        ReservationLot(tenant=tenant, reservation=reservations[index], lot_id=lot_id, quantity=units)
                        for index, taken in allocations.items()
                        for lot_id, units in taken
                    ]
                )
                return reservations
        except _Short:
            raise InsufficientStock(lines=_short_lines(tenant, holds, expires_from)) from None
        except OperationalError as exc:
            # Locks are taken in one order, so this is a last resort against writers that do not.
            if not _is_deadlock(exc) or attempt == DEADLOCK_RETRIES:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _short_lines(tenant, holds: list[Hold], expires_from: date) -> list[dict]:
    """Per (SKU, location) asked for: requested and available now; the short ones, or all if none is short
    any more (the race was lost to a buyer who has since released)."""
    level_ids = {h.level.id for h in holds}
    fresh = {
        lvl.id: lvl
        for lvl in StockLevel.objects.for_tenant(tenant).filter(id__in=level_ids).select_related("product", "location")
    }
    lots = sellable_lot_units(
        tenant=tenant, level_ids=[i for i, lvl in fresh.items() if lvl.product.tracks_lots], expires_from=expires_from
    )
    requested = {}
    for h in holds:
        requested[h.level.id] = requested.get(h.level.id, 0) + h.quantity
    lines = []
    for level_id, quantity in requested.items():
        level = fresh[level_id]
        available = level_available(level, lots.get(level_id, 0) if level.product.tracks_lots else None)
        lines.append(
            {"sku": level.product.sku, "location": level.location.code, "requested": quantity, "available": available}
        )
    return [line for line in lines if line["available"] < line["requested"]] or lines


def release(
    *,
    tenant: Tenant,
    reservation: Reservation,
    quantity: int | None = None,
    status: str = Reservation.Status.RELEASED,
    expired_before=None,
) -> int:
    """Give back all or part of an active reservation; returns the units released (0 if nothing was held).

    `expired_before`: release only if the reservation expires before that instant (the expiry task, which
    must not release a hold whose expiry was extended meanwhile).
    """
    with transaction.atomic():
        locked = (
            Reservation.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .select_related("stock_level__product")
            .filter(id=reservation.id, status=Reservation.Status.ACTIVE)
            .first()
        )
        if locked is None:
            return 0
        if expired_before is not None and (locked.expires_at is None or locked.expires_at >= expired_before):
            return 0
        quantity = locked.quantity if quantity is None else min(quantity, locked.quantity)
        if quantity <= 0:
            return 0
        _give_back(tenant, locked.stock_level_id, quantity)
        if locked.stock_level.product.tracks_lots:
            _give_back_lots(tenant, locked, quantity)
        _close_or_shrink(locked, quantity, status)
        return quantity


def release_all(*, tenant: Tenant, reservation_ids) -> int:
    """Give back every unit of these reservations at once (orders' reservations moving elsewhere); returns the
    units released. Reservations already closed are skipped; those of lot-tracked products go back lot by lot
    through release(). One locking read, one update of the stock rows, one of the reservations."""
    if not reservation_ids:
        return 0
    with transaction.atomic():
        locked = list(
            Reservation.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .filter(id__in=list(reservation_ids), status=Reservation.Status.ACTIVE)
            .order_by("id")
            .values_list(
                "id",
                "stock_level_id",
                "stock_level__location_id",
                "stock_level__product_id",
                "quantity",
                "stock_level__product__tracks_lots",
            )
        )
        plain = sorted((row for row in locked if not row[5]), key=lambda row: (row[2], row[3]))
        given: dict[int, int] = {}
        for _id, level_id, _location_id, _product_id, quantity, _lots in plain:
            given[level_id] = given.get(level_id, 0) + quantity
        if given and not sql.give_back_rows(tenant_id=tenant.id, given=given, now=timezone.now()):
            raise Conflict("Reserved quantity is lower than the release asked for.")
        if plain:
            Reservation.objects.for_tenant(tenant).filter(id__in=[row[0] for row in plain]).update(
                status=Reservation.Status.RELEASED, closed_at=timezone.now()
            )
        released = sum(given.values())
        by_lot = [row[0] for row in sorted((row for row in locked if row[5]), key=lambda row: (row[2], row[3]))]
        if by_lot:
            reservations = Reservation.objects.for_tenant(tenant).select_related("stock_level").in_bulk(by_lot)
            for reservation_id in by_lot:
                released += release(tenant=tenant, reservation=reservations[reservation_id])
        return released


def _close_or_shrink(locked: Reservation, quantity: int, status: str) -> None:
    if quantity == locked.quantity:
        locked.status, locked.closed_at = status, timezone.now()
    else:
        locked.quantity -= quantity
    locked.save(update_fields=["status", "closed_at", "quantity"])


def consume(*, tenant: Tenant, reservation: Reservation, quantity: int, actor: Actor, reference: str = "") -> list:
    """Units leave the building (shipment, handover, store sale): on_hand and reserved drop together.

    Lot-tracked: the reservation's lots are consumed earliest expiry first, one sale movement per lot.
    Returns the movements written.
    """
    from inventory.ledger import post_movement

    if quantity <= 0:
        raise ValueError("consume a positive quantity")
    with transaction.atomic():
        locked = (
            Reservation.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .select_related("stock_level__product", "stock_level__location")
            .filter(id=reservation.id, status=Reservation.Status.ACTIVE)
            .first()
        )
        if locked is None or quantity > locked.quantity:
            raise Conflict("Only active reserved units can be consumed.", reservation=reservation.id)
        level = locked.stock_level
        movements = []
        if not level.product.tracks_lots:
            movements.append(
                post_movement(
                    tenant=tenant,
                    level=level,
                    kind=MovementKind.SALE,
                    quantity=-quantity,
                    release_reserved=quantity,
                    actor=actor,
                    reference=reference,
                )
            )
        else:
            missing = quantity
            for allocation in locked.lot_allocations.select_related("lot").order_by("lot__expires_on", "lot_id"):
                take = min(missing, allocation.quantity)
                movements.append(
                    post_movement(
                        tenant=tenant,
                        level=level,
                        kind=MovementKind.SALE,
                        quantity=-take,
                        release_reserved=take,
                        lot=allocation.lot,
                        actor=actor,
                        reference=reference,
                    )
                )
                _shrink(tenant, allocation, take)
                missing -= take
                if not missing:
                    break
            if missing:
                raise Conflict("The reservation's lots hold fewer units than asked for.", reservation=reservation.id)
        _close_or_shrink(locked, quantity, Reservation.Status.CONSUMED)
        return movements


# --- sourcing: where each demand is reserved ---------------------------------------------------------------


def plan_sourcing(
    *, demands: list[LineDemand], ordered_locations: list, levels: dict, split: bool = True
) -> list[LineDemand]:
    """Choose where each line is reserved, from a snapshot of availability.

    One location for the whole order when one can serve every line (the first in pool priority);
    otherwise each line takes the first locations in priority that can serve it, split across several if
    it must (`split=False`: only a location that can serve the whole line). Lines of the same SKU share
    the snapshot: what one line takes, the next cannot. Lines that cannot be covered keep fewer holds than
    they need; the caller reports them short.
    """
    remaining = {key: level.sellable for key, level in levels.items()}
    needed = {}
    for d in demands:
        needed[d.product.id] = needed.get(d.product.id, 0) + d.quantity
    for location in ordered_locations:
        if all(remaining.get((pid, location.id), 0) >= qty for pid, qty in needed.items()):
            for d in demands:
                d.holds = [Hold(level=levels[(d.product.id, location.id)], quantity=d.quantity)]
            return demands
    for d in demands:
        d.holds, missing = [], d.quantity
        for location in ordered_locations:
            key = (d.product.id, location.id)
            free = remaining.get(key, 0)
            take = min(missing, free) if split else (missing if free >= missing else 0)
            if take > 0:
                d.holds.append(Hold(level=levels[key], quantity=take))
                remaining[key] = free - take
                missing -= take
            if missing == 0:
                break
    return demands


def shortfalls(demands: list[LineDemand], levels: dict, ordered_locations: list, *, split: bool = True) -> list[dict]:
    """The demands the plan could not cover: `available` is what the locations hold for that SKU in total
    (with `split=False`, the most any one location holds)."""
    out = []
    for d in demands:
        covered = sum(h.quantity for h in d.holds)
        if covered < d.quantity:
            figures = [
                levels[(d.product.id, loc.id)].sellable for loc in ordered_locations if (d.product.id, loc.id) in levels
            ]
            total = (sum(figures) if split else max(figures, default=0)) if d.product.active else 0
            out.append({"sku": d.product.sku, "requested": d.quantity, "available": total})
    return out


def _buffer_shortfalls(demands: list[LineDemand], levels: dict, ordered_locations: list, channel) -> list[dict]:
    """Demands beyond the channel's network quantity once its buffer is held back."""
    if not channel.buffer:
        return []
    needed, out = {}, []
    for d in demands:
        needed[d.product.id] = needed.get(d.product.id, 0) + d.quantity
    figures = {key: level.sellable for key, level in levels.items()}
    for d in demands:
        promisable = apply_buffer(network_total(figures, d.product.id, [loc.id for loc in ordered_locations]), channel)
        if needed[d.product.id] > promisable:
            out.append({"sku": d.product.sku, "requested": d.quantity, "available": promisable})
    return out


def reserve_demands(
    *,
    tenant: Tenant,
    channel,
    demands: list[LineDemand],
    locations=None,
    ttl_seconds=None,
    order_lines: dict | None = None,
    attempts: int = 3,
    split: bool = True,
) -> list[LineDemand]:
    """Plan and reserve every demand at concrete locations, all or nothing.

    `locations` narrows the pool (a pickup store); `order_lines` maps a demand key to the OrderLine its
    reservations belong to. When the pool is used, the channel's buffer is held back: a demand beyond the
    channel's network quantity is short even if some location still holds the units. A plan can lose a race
    to a concurrent buyer: it is then redone from fresh figures, a few times, before answering
    InsufficientStock. Inactive products are never reserved. Each demand gets `.holds` and `.reservations`.
    """
    if channel.tenant_id != tenant.id:
        raise NotFound("No such channel.")
    if not channel.active:
        raise Conflict(f"Channel {channel.code} is inactive.", channel=channel.code)
    if any(d.product.tenant_id != tenant.id for d in demands):
        raise NotFound("No such product.")
    if any(not isinstance(d.quantity, int) or d.quantity <= 0 for d in demands):
        raise ValueError("demand quantities are positive integers")
    pool_sourcing = locations is None
    ordered = [] if pool_sourcing else list(locations)
    products = list({d.product.id: d.product for d in demands}.values())
    order_lines = order_lines or {}
    for attempt in range(attempts):
        if pool_sourcing:
            ordered, levels = pool_snapshot(tenant=tenant, channel=channel, products=products)
        else:
            levels = pool_levels(tenant=tenant, channel=channel, products=products, locations=ordered)
        for level in levels.values():
            if not level.product.active:
                level.sellable = 0
        plan_sourcing(demands=demands, ordered_locations=ordered, levels=levels, split=split)
        short = shortfalls(demands, levels, ordered, split=split)
        if not short and channel.buffer:
            # The buffer is the channel's, whatever location serves: never promise beyond the pool's quantity less
            # the buffer, at a pickup store or a named location too.
            pool, pool_levels_ = (
                (ordered, levels) if pool_sourcing else pool_snapshot(tenant=tenant, channel=channel, products=products)
            )
            short = _buffer_shortfalls(demands, pool_levels_, pool, channel)
        if short:
            raise InsufficientStock(lines=short)
        planned = [(d, h) for d in demands for h in d.holds]
        holds = [
            Hold(level=h.level, quantity=h.quantity, order_line=order_lines.get(d.key), reference=str(d.key))
            for d, h in planned
        ]
        try:
            reservations = hold(tenant=tenant, holds=holds, channel=channel, ttl_seconds=ttl_seconds)
        except InsufficientStock:
            if attempt == attempts - 1:
                raise
            continue
        for d in demands:
            d.reservations = []
        for (d, _), reservation in zip(planned, reservations, strict=True):
            d.reservations.append(reservation)
        return demands
    raise AssertionError("unreachable")  # pragma: no cover


def find_reservation(*, tenant: Tenant, reservation_id: int) -> Reservation:
    try:
        return (
            Reservation.objects.for_tenant(tenant)
            .select_related("stock_level__product", "stock_level__location", "channel")
            .get(id=reservation_id)
        )
    except Reservation.DoesNotExist:
        raise NotFound("No such reservation.") from None


def expired_reservation_ids(*, now=None, limit: int = 500) -> list[tuple[int, int]]:
    """[(tenant_id, reservation_id)] of active holds past their expiry, oldest first (all tenants)."""
    now = now or timezone.now()
    return list(
        Reservation.all_tenants.filter(Q(status=Reservation.Status.ACTIVE), expires_at__lt=now)
        .order_by("expires_at", "id")
        .values_list("tenant_id", "id")[:limit]
    )
