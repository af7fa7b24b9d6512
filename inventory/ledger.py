"""The one place where on_hand changes: a conditional update plus its StockMovement, in one transaction.

Lock order: a change always updates the StockLevel row first and only then its lots, exactly like the
reservations do, so a level's row lock also serialises every change of its lots.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from inventory import sql
from inventory.models import Lot, MovementKind, StockLevel, StockMovement
from oms.actors import Actor
from oms.errors import Conflict, ValidationFailed
from oms.models import Tenant


def level_for(*, tenant: Tenant, product, location) -> StockLevel:
    """The stock row of a product at a location, created empty on first use (safe under concurrency)."""
    if product.tenant_id != tenant.id or location.tenant_id != tenant.id:
        raise ValueError("product and location belong to the tenant")
    level = StockLevel.objects.for_tenant(tenant).filter(product=product, location=location).first()
    if level is None:
        try:
            with transaction.atomic():
                level = StockLevel.objects.create(tenant=tenant, product=product, location=location)
        except IntegrityError:
            level = StockLevel.objects.for_tenant(tenant).get(product=product, location=location)
    # Callers name the product and location in messages: reuse the instances they already hold.
    level.product, level.location = product, location
    return level


def lot_for(*, tenant: Tenant, level: StockLevel, code: str, expires_on) -> Lot:
    """The lot `code` of a stock row, created empty on first use; a known lot keeps its expiry date."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed(errors={"lot": ["Give the lot code."]})
    if expires_on is None:
        raise ValidationFailed(errors={"expires_on": ["Give the lot's expiry date."]})
    lot = Lot.objects.for_tenant(tenant).filter(stock_level=level, code=code).first()
    if lot is None:
        try:
            with transaction.atomic():
                lot = Lot.objects.create(tenant=tenant, stock_level=level, code=code, expires_on=expires_on)
        except IntegrityError:
            lot = Lot.objects.for_tenant(tenant).get(stock_level=level, code=code)
    if lot.expires_on != expires_on:
        raise ValidationFailed(
            errors={
                "expires_on": [f"Lot {code} expires on {lot.expires_on.isoformat()}, not {expires_on.isoformat()}."]
            }
        )
    return lot


def post_movement(
    *,
    tenant: Tenant,
    level: StockLevel,
    kind: str,
    quantity: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    occurred_at=None,
    release_reserved: int = 0,
    lot: Lot | None = None,
) -> StockMovement:
    """Change on_hand by `quantity` (signed) and write the ledger row.

    The update is conditional: on_hand may never fall below what is reserved (after `release_reserved`
    units of reservation are consumed with it, as a shipment does), so stock already promised to an order
    is never taken by an adjustment. Raises Conflict when the change would break that rule.

    Lot-tracked products: every movement names its lot, and the lot changes with the level. A receipt needs
    the lot (`lot_for()`); a removal without a lot is taken from the unreserved units of the lots in expiry
    order (expired lots first) and written as one movement per lot touched; the first one is returned.
    Either way the returned movement's `lot_movements` lists every movement written (a transfer carries those
    lots, codes and expiry dates, to the receiving location).
    """
    if kind not in MovementKind.values:
        raise ValueError(f"unknown movement kind {kind}")
    if quantity == 0 and not release_reserved:
        raise ValueError("a movement changes something")
    if release_reserved < 0:
        raise ValueError("release_reserved is a number of units")
    product = level.product
    if lot is not None and lot.stock_level_id != level.id:
        raise ValueError("the lot belongs to another stock row")
    if not product.tracks_lots and lot is not None:
        raise ValueError(f"{product.sku} does not track lots")
    if product.tracks_lots and lot is None:
        if quantity > 0:
            raise ValidationFailed(
                f"{product.sku} tracks lots: a receipt names the lot and its expiry date.",
                errors={"lot": [f"{product.sku} tracks lots: give the lot code and its expiry date."]},
            )
        if release_reserved:
            raise ValueError("reserved units of a lot-tracked product are released lot by lot")
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        _change_level(tenant, level, quantity, release_reserved)
        if product.tracks_lots and lot is None:
            return _take_from_lots(tenant, level, kind, -quantity, actor, reason, reference, occurred_at)
        if lot is not None:
            _change_lot(tenant, level, lot, quantity, release_reserved)
        movement = _write(tenant, level, lot, kind, quantity, actor, reason, reference, occurred_at)
        movement.lot_movements = [movement]
        return movement


def post_non_sellable(
    *,
    tenant: Tenant,
    level: StockLevel,
    kind: str,
    quantity: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Change the row's non-sellable units by `quantity` (signed) and write the ledger row (marked not sellable):
    a return received damaged or held for the vendor comes in this way, and leaves it written off or sent back.
    Never below zero (Conflict). Lots are not tracked for these units: they can never be sold."""
    if kind not in MovementKind.values:
        raise ValueError(f"unknown movement kind {kind}")
    if quantity == 0:
        raise ValueError("a movement changes something")
    with transaction.atomic():
        updated = (
            StockLevel.objects.for_tenant(tenant)
            .filter(id=level.id, non_sellable__gte=-quantity)
            .update(non_sellable=F("non_sellable") + quantity, updated_at=timezone.now())
        )
        if not updated:
            current = StockLevel.objects.for_tenant(tenant).get(id=level.id)
            raise Conflict(
                f"{level.product.sku} at {level.location.code}: {current.non_sellable} non-sellable units, fewer "
                f"than the {-quantity} to remove.",
                sku=level.product.sku,
                location=level.location.code,
                non_sellable=current.non_sellable,
                delta=quantity,
            )
        return _write(tenant, level, None, kind, quantity, actor, reason, reference, timezone.now(), sellable=False)


def _change_row(tenant, model, row_id, quantity, release_reserved):
    """Add `quantity` to a stock row's (or a lot's) on-hand and give back `release_reserved` reserved units, in one
    conditional update that keeps 0 <= reserved <= on_hand; the row as it stands when that is refused, else None."""
    updated = (
        model.objects.for_tenant(tenant)
        .filter(id=row_id, on_hand__gte=F("reserved") - quantity - release_reserved, reserved__gte=release_reserved)
        .filter(on_hand__gte=-quantity)
        .update(on_hand=F("on_hand") + quantity, reserved=F("reserved") - release_reserved, updated_at=timezone.now())
    )
    return None if updated else model.objects.for_tenant(tenant).get(id=row_id)


def _change_level(tenant, level, quantity, release_reserved):
    current = _change_row(tenant, StockLevel, level.id, quantity, release_reserved)
    if current is not None:
        raise Conflict(
            f"{level.product.sku} at {level.location.code}: on hand {current.on_hand}, reserved {current.reserved}; "
            f"a change of {quantity} would leave less on hand than is reserved.",
            sku=level.product.sku,
            location=level.location.code,
            on_hand=current.on_hand,
            reserved=current.reserved,
            delta=quantity,
        )


def _change_lot(tenant, level, lot, quantity, release_reserved):
    current = _change_row(tenant, Lot, lot.id, quantity, release_reserved)
    if current is not None:
        raise Conflict(
            f"{level.product.sku} lot {lot.code} at {level.location.code}: on hand {current.on_hand}, reserved "
            f"{current.reserved}; a change of {quantity} would leave less on hand than is reserved.",
            sku=level.product.sku,
            location=level.location.code,
            lot=lot.code,
            on_hand=current.on_hand,
            reserved=current.reserved,
            delta=quantity,
        )


def _take_from_lots(tenant, level, kind, units, actor, reason, reference, occurred_at):
    """Remove `units` unreserved units from the level's lots, earliest expiry first (the level is locked)."""
    lots = list(
        Lot.objects.for_tenant(tenant).filter(stock_level=level, on_hand__gt=F("reserved")).order_by("expires_on", "id")
    )
    movements, missing = [], units
    for lot in lots:
        take = min(missing, lot.on_hand - lot.reserved)
        _change_lot(tenant, level, lot, -take, 0)
        movements.append(_write(tenant, level, lot, kind, -take, actor, reason, reference, occurred_at))
        missing -= take
        if not missing:
            movements[0].lot_movements = movements
            return movements[0]
    raise Conflict(
        f"{level.product.sku} at {level.location.code}: the lots hold {units - missing} unreserved "
        f"units, fewer than the {units} to remove.",
        sku=level.product.sku,
        location=level.location.code,
        delta=-units,
    )


def _write(tenant, level, lot, kind, quantity, actor, reason, reference, occurred_at, sellable=True):
    return StockMovement.objects.create(
        tenant=tenant,
        stock_level=level,
        lot=lot,
        kind=kind,
        quantity=quantity,
        sellable=sellable,
        reason=reason[:200],
        reference=reference[:120],
        actor_label=actor.label[:200],
        occurred_at=occurred_at,
    )


# --- the ledger check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    """A stock row (or lot) that breaks a ledger rule."""

    tenant: str
    sku: str
    location: str
    problem: str
    lot: str = ""

    def __str__(self):
        where = f"{self.tenant} {self.sku} at {self.location}" + (f" lot {self.lot}" if self.lot else "")
        return f"{where}: {self.problem}"


def ledger_discrepancies(*, tenant=None, check_reservations: bool = False) -> list[Discrepancy]:
    """Every stock row whose on_hand (non_sellable) differs from the sum of its sellable (non-sellable) movements
    or whose reserved is outside
    0..on_hand, the same for lots, and lot-tracked rows that are not the sum of their lots. Operator work:
    it reads across tenants unless one is given."""
    rows = sql.ledger_check_rows(
        tenant_id=tenant.id if tenant is not None else None, check_reservations=check_reservations
    )
    found = []
    for slug, sku, code, on_hand, reserved, total, non_sellable, non_sellable_total in rows["levels"]:
        problems = _problems(on_hand, reserved, total)
        if non_sellable != non_sellable_total:
            problems.append(f"non-sellable {non_sellable} but its movements sum to {non_sellable_total}")
        found.append(Discrepancy(slug, sku, code, "; ".join(problems)))
    for slug, sku, code, lot_code, on_hand, reserved, total in rows["lots"]:
        found.append(Discrepancy(slug, sku, code, "; ".join(_problems(on_hand, reserved, total)), lot=lot_code))
    for slug, sku, code, on_hand, reserved, lots_on_hand, lots_reserved in rows["lot_sums"]:
        found.append(
            Discrepancy(
                slug,
                sku,
                code,
                f"on hand {on_hand} / reserved {reserved} but its lots hold {lots_on_hand} / {lots_reserved}",
            )
        )
    for slug, sku, code, reserved, total in rows.get("reservations", []):
        found.append(Discrepancy(slug, sku, code, f"reserved {reserved} but active reservations hold {total}"))
    return found


def _problems(on_hand: int, reserved: int, total: int) -> list[str]:
    problems = []
    if on_hand != total:
        problems.append(f"on hand {on_hand} but movements sum to {total}")
    if reserved < 0 or reserved > on_hand:
        problems.append(f"reserved {reserved} outside 0..{on_hand}")
    return problems
