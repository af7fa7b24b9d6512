"""Cycle counts: count some SKUs at a location, compare with what the ledger expected, post the variance.

A line's `expected` is the on-hand the ledger held at the moment the line was counted (`counted_at`):
movements recorded after that moment (a sale during the count) are not mistaken for a variance. Completing
the count posts `variance = counted - expected` as a `count` movement dated `counted_at`, for every counted
line, in one transaction; a variance that would leave less on hand than is reserved refuses the completion
with the SKU named, so stock promised to orders is never silently written off.

Lot-tracked SKUs are counted as a whole or lot by lot, never both in one count:
- a line that names a lot compares with that lot alone; a surplus posts to the lot (created with the line's
  `expires_on` when the location does not hold it yet), a shortfall takes from it;
- a line without a lot compares with the SKU's total; a shortfall is taken earliest expiry first (expired
  lots first), and a surplus is refused, naming `lot`, because units that appear must say which lot they are.
A refused line refuses the completion (nothing is posted, the count stays open) so that it can be corrected.
The counted/expected/variance figures stay on the lines for the stock accuracy KPI.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.alerts import evaluate_levels
from inventory.ledger import level_for, lot_for, post_movement
from inventory.models import CycleCount, CycleCountLine, Location, Lot, MovementKind, Product, StockLevel, StockMovement
from inventory.units import MAX_UNITS
from oms import audit
from oms.actors import Actor
from oms.db import LOCK_ROW
from oms.errors import IllegalTransition, NotFound, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.sequences import next_value

MAX_LINES = 2000


@dataclass(frozen=True)
class Counted:
    """Units found on the shelf: of a SKU, or of one lot of a lot-tracked SKU (`lot`, with `expires_on` when
    the lot is new at the location). `counted=None` clears a figure saved earlier (the line is not counted)."""

    sku: str
    counted: int | None
    lot: str = ""
    expires_on: date | None = None


def _location(tenant, code: str) -> Location:
    location = Location.objects.for_tenant(tenant).filter(code=code).first()
    if location is None:
        raise ValidationFailed(errors={"location": [f"Unknown location {code}."]})
    return location


def _products(tenant, skus) -> dict:
    skus = list(dict.fromkeys(skus))
    products = {p.sku: p for p in Product.objects.for_tenant(tenant).filter(sku__in=skus)}
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise ValidationFailed(errors={"skus": [f"Unknown SKU {sku}." for sku in unknown]})
    return products


def _stocked_lots(tenant, location, products) -> dict:
    """{product_id: [Lot]} of the lots holding units at `location`, earliest expiry first."""
    tracked = [p.id for p in products if p.tracks_lots]
    found: dict[int, list] = {}
    if tracked:
        for lot in (
            Lot.objects.for_tenant(tenant)
            .filter(stock_level__location=location, stock_level__product_id__in=tracked, on_hand__gt=0)
            .select_related("stock_level")
            .order_by("expires_on", "code")
        ):
            found.setdefault(lot.stock_level.product_id, []).append(lot)
    return found


def start_count(
    *, tenant: Tenant, actor: Actor, location: str, skus: list[str] | None = None, note: str = ""
) -> CycleCount:
    """Open a count at `location` for `skus`, or for every SKU that has a stock row there when none are given.

    A lot-tracked SKU gets one line per lot holding units there (earliest expiry first), or one line for the
    SKU when it holds none."""
    place = _location(tenant, location)
    if skus:
        products = list(_products(tenant, skus).values())
    else:
        products = list(
            Product.objects.for_tenant(tenant).filter(stock_levels__location=place).order_by("sku")[: MAX_LINES + 1]
        )
        if not products:
            raise ValidationFailed(errors={"skus": ["Nothing is stocked at this location: name the SKUs to count."]})
    if len(products) > MAX_LINES:
        raise ValidationFailed(errors={"skus": [f"At most {MAX_LINES} SKUs per count: split it."]})
    lots = _stocked_lots(tenant, place, products)
    lines = []
    for product in products:
        for lot in lots.get(product.id) or [None]:
            lines.append(
                CycleCountLine(
                    tenant=tenant,
                    product=product,
                    location=place,
                    lot_code=lot.code if lot else "",
                    expires_on=lot.expires_on if lot else None,
                )
            )
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            errors={"skus": [f"At most {MAX_LINES} lines (SKUs and their lots) per count: split it."]}
        )
    with transaction.atomic():
        count = CycleCount.objects.create(
            tenant=tenant,
            number=f"CC-{next_value(tenant=tenant, name='count'):06d}",
            location=place,
            note=note[:200],
            created_by=actor.label[:200],
        )
        for line in lines:
            line.count = count
        CycleCountLine.objects.bulk_create(lines)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.count_started",
            obj=count,
            changes={"location": location, "lines": len(lines)},
        )
    return count


def _locked_open(tenant, count_id: int) -> CycleCount:
    count = (
        CycleCount.objects.for_tenant(tenant)
        .select_for_update(**LOCK_ROW)
        .select_related("location")
        .filter(id=count_id)
        .first()
    )
    if count is None:
        raise NotFound("No such count.")
    if count.status != CycleCount.Status.OPEN:
        raise IllegalTransition(current=count.status, requested=CycleCount.Status.COMPLETED, count=count.number)
    return count


def _entries(counted) -> list[Counted]:
    """The counted figures as Counted entries with tidy lot codes; malformed ones refused by position."""
    entries = (
        [Counted(sku=sku, counted=qty) for sku, qty in counted.items()] if isinstance(counted, dict) else list(counted)
    )
    errors, seen, tidy = {}, set(), []
    for index, entry in enumerate(entries):
        qty = entry.counted
        lot = (entry.lot or "").strip()
        if qty is not None and (not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_UNITS):
            errors[f"lines[{index}].counted"] = [f"{entry.sku}: the counted quantity is a whole number of 0 or more."]
        elif "\x00" in lot or len(lot) > 64:
            errors[f"lines[{index}].lot"] = [f"{entry.sku}: a lot code has at most 64 characters and no NUL."]
        elif entry.expires_on is not None and not lot:
            errors[f"lines[{index}].expires_on"] = [f"{entry.sku}: an expiry date goes with a lot code (lot)."]
        elif (entry.sku, lot) in seen:
            errors[f"lines[{index}].sku"] = [f"{entry.sku}{' lot ' + lot if lot else ''} appears twice."]
        seen.add((entry.sku, lot))
        tidy.append(replace(entry, lot=lot))
    if errors:
        raise ValidationFailed(errors=errors)
    return tidy


def _label(sku: str, lot: str) -> str:
    return f"{sku} lot {lot}" if lot else sku


def record_counts(*, tenant: Tenant, actor: Actor, count_id: int, counted, counted_at=None) -> CycleCount:
    """Record counted units at `counted_at` (now by default): `{sku: units}` or a list of `Counted` (which may
    name lots). A SKU or lot found but not on the count is added. Refused: a lot of a SKU that does not track
    lots, a new lot without its expiry date, an expiry date that is not the known lot's, and a lot-tracked SKU
    counted both as a whole and lot by lot."""
    counted_at = counted_at or timezone.now()
    if counted_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(errors={"counted_at": ["A count cannot be in the future."]})
    entries = _entries(counted)
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        products = _products(tenant, [entry.sku for entry in entries])
        lines = {(line.product_id, line.lot_code): line for line in count.lines.all()}
        known = {
            (lot.stock_level.product_id, lot.code): lot
            for lot in Lot.objects.for_tenant(tenant)
            .filter(
                stock_level__location=count.location,
                stock_level__product__in=[products[e.sku] for e in entries if e.lot],
                code__in=[e.lot for e in entries if e.lot],
            )
            .select_related("stock_level")
        }
        errors, first_index, changed = {}, {}, []
        for index, entry in enumerate(entries):
            product = products[entry.sku]
            first_index.setdefault(product.id, index)
            line = lines.get((product.id, entry.lot))
            expires_on = entry.expires_on or (line.expires_on if line is not None else None)
            if entry.lot:
                lot = known.get((product.id, entry.lot))
                if not product.tracks_lots:
                    errors[f"lines[{index}].lot"] = [f"{entry.sku} does not track lots: count it without a lot."]
                    continue
                if lot is not None and entry.expires_on is not None and entry.expires_on != lot.expires_on:
                    errors[f"lines[{index}].expires_on"] = [
                        f"{_label(entry.sku, entry.lot)} expires on {lot.expires_on.isoformat()}, "
                        f"not {entry.expires_on.isoformat()}."
                    ]
                    continue
                if lot is None and entry.counted and expires_on is None:
                    errors[f"lines[{index}].expires_on"] = [
                        f"{_label(entry.sku, entry.lot)} is new at {count.location.code}: give its expiry date "
                        "(expires_on)."
                    ]
                    continue
                if lot is not None:
                    expires_on = lot.expires_on
            if line is None:
                if entry.counted is None:
                    continue
                line = CycleCountLine(
                    tenant=tenant, count=count, product=product, location=count.location, lot_code=entry.lot
                )
                lines[(product.id, entry.lot)] = line
            line.counted, line.expires_on = entry.counted, expires_on
            line.counted_at = counted_at if entry.counted is not None else None
            changed.append(line)
        if errors:
            raise ValidationFailed(errors=errors)
        if len(lines) > MAX_LINES:
            raise ValidationFailed(errors={"lines": [f"At most {MAX_LINES} lines per count."]})
        mixed = _mixed(lines.values())
        for product_id in sorted(mixed & first_index.keys(), key=first_index.get):
            sku = next(p.sku for p in products.values() if p.id == product_id)
            errors[f"lines[{first_index[product_id]}].lot"] = [
                f"{sku} is counted both as a whole and lot by lot: count it one way (clear the other figures)."
            ]
        if errors:
            raise ValidationFailed(errors=errors)
        for line in changed:
            line.save()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.count_recorded",
            obj=count,
            changes={
                "counted": [
                    {"sku": e.sku, "lot": e.lot, "counted": e.counted}
                    if e.lot
                    else {"sku": e.sku, "counted": e.counted}
                    for e in entries
                ]
            },
        )
    return count


def _mixed(lines) -> set:
    """Product ids counted both as a whole (a counted line without a lot) and lot by lot."""
    whole, by_lot = set(), set()
    for line in lines:
        if line.counted is not None:
            (by_lot if line.lot_code else whole).add(line.product_id)
    return whole & by_lot


def complete_count(*, tenant: Tenant, actor: Actor, count_id: int) -> CycleCount:
    """Post every counted line's variance as a `count` movement and close the count (see the module rules)."""
    return _complete(tenant=tenant, actor=actor, count_id=count_id, positions=None)


def _complete(*, tenant: Tenant, actor: Actor, count_id: int, positions: dict | None) -> CycleCount:
    """`positions` {(sku, lot): index} names a refused line by its place in the request (`lines[2].lot`)."""
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        lines = list(
            count.lines.filter(counted__isnull=False).select_related("product").order_by("product_id", "lot_code")
        )
        if not lines:
            raise ValidationFailed(errors={"counted": ["Record at least one counted quantity first."]})
        levels = {}
        for line in lines:
            if line.product_id not in levels:
                levels[line.product_id] = level_for(tenant=tenant, product=line.product, location=count.location)
        # Lock the rows (one location, by product) before reading what moved since each line was counted; the
        # level's lock also holds its lots still (every lot change updates its level first).
        locked = {
            lvl.id: lvl
            for lvl in StockLevel.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .filter(id__in=[lvl.id for lvl in levels.values()])
            .order_by("location_id", "product_id")
        }
        lots = {
            (lot.stock_level_id, lot.code): lot
            for lot in Lot.objects.for_tenant(tenant).filter(
                stock_level_id__in=list(locked), code__in={line.lot_code for line in lines if line.lot_code}
            )
        }

        def field(line, name):
            if positions is not None and (line.product.sku, line.lot_code) in positions:
                return f"lines[{positions[(line.product.sku, line.lot_code)]}].{name}"
            return name

        refused: dict[str, list] = {}
        for product_id in _mixed(lines):
            line = next(line for line in lines if line.product_id == product_id)
            refused.setdefault(field(line, "lot"), []).append(
                f"{line.product.sku} is counted both as a whole and lot by lot: count it one way."
            )
        for line in lines:
            level, line.lot_row = levels[line.product_id], None
            moved = StockMovement.objects.for_tenant(tenant).filter(
                stock_level_id=level.id, occurred_at__gt=line.counted_at, sellable=True
            )
            if line.lot_code:
                lot = lots.get((level.id, line.lot_code))
                line.lot_row = lot
                line.expected = (
                    lot.on_hand - (moved.filter(lot=lot).aggregate(total=Sum("quantity"))["total"] or 0)
                    if lot is not None
                    else 0
                )
            else:
                line.expected = locked[level.id].on_hand - (moved.aggregate(total=Sum("quantity"))["total"] or 0)
            line.variance = line.counted - line.expected
            if line.lot_code and not line.product.tracks_lots:
                refused.setdefault(field(line, "lot"), []).append(
                    f"{line.product.sku} does not track lots: count it without a lot."
                )
            if line.variance <= 0:
                continue
            if line.product.tracks_lots and not line.lot_code:
                refused.setdefault(field(line, "lot"), []).append(
                    f"{line.product.sku}: {line.variance} more unit(s) than expected at {count.location.code}; "
                    f"{line.product.sku} tracks lots, so units found must name their lot: count them lot by lot "
                    "(lot code and expiry date)."
                )
            elif line.lot_code and line.lot_row is None and line.expires_on is None:
                refused.setdefault(field(line, "expires_on"), []).append(
                    f"{_label(line.product.sku, line.lot_code)} is new at {count.location.code}: give its expiry "
                    "date (expires_on)."
                )
            elif line.lot_row is not None and line.expires_on and line.expires_on != line.lot_row.expires_on:
                refused.setdefault(field(line, "expires_on"), []).append(
                    f"{_label(line.product.sku, line.lot_code)} expires on {line.lot_row.expires_on.isoformat()}, "
                    f"not {line.expires_on.isoformat()}."
                )
        if refused:
            raise ValidationFailed("Some counted lines cannot be posted; nothing was posted.", errors=refused)
        now, increased, posted = timezone.now(), set(), 0
        for line in lines:
            level = levels[line.product_id]
            if line.variance:
                lot = line.lot_row
                if line.lot_code and lot is None:
                    lot = lot_for(tenant=tenant, level=level, code=line.lot_code, expires_on=line.expires_on)
                line.movement = post_movement(
                    tenant=tenant,
                    level=level,
                    kind=MovementKind.COUNT,
                    quantity=line.variance,
                    actor=actor,
                    reason="cycle count",
                    reference=count.number,
                    occurred_at=line.counted_at,
                    lot=lot,
                )
                posted += 1
                if line.variance > 0:
                    increased.add(line.product.sku)
            if line.lot_row is not None:
                line.expires_on = line.lot_row.expires_on
            line.posted_at = now
            line.save(update_fields=["expected", "variance", "movement", "posted_at", "expires_on"])
        count.status, count.completed_at, count.completed_by = CycleCount.Status.COMPLETED, now, actor.label[:200]
        count.save(update_fields=["status", "completed_at", "completed_by"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.count_completed",
            obj=count,
            changes={"lines": len(lines), "adjusted": posted, "variance": sum(abs(line.variance) for line in lines)},
        )
        if increased:
            emit(
                tenant,
                "stock.adjusted",
                {
                    "source": "count",
                    "count": count.number,
                    "skus": sorted(increased),
                    "locations": [count.location.code],
                    "rows": len(increased),
                },
            )
        evaluate_levels(tenant=tenant, level_ids=list(locked))
    return count


def cancel_count(*, tenant: Tenant, actor: Actor, count_id: int) -> CycleCount:
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        count.status = CycleCount.Status.CANCELLED
        count.save(update_fields=["status"])
        audit.record(tenant=tenant, actor=actor, action="inventory.count_cancelled", obj=count)
    return count


def count_and_post(
    *, tenant: Tenant, actor: Actor, location: str, counted, counted_at=None, note: str = ""
) -> CycleCount:
    """A count done elsewhere (a WMS, a handheld): open, record and complete it in one transaction.

    `counted` is `{sku: units}` or a list of `Counted`; a refused entry is named by its position
    (`lines[2].lot`)."""
    if not counted:
        raise ValidationFailed(errors={"lines": ["A count needs at least one line."]})
    entries = _entries(counted)
    if any(entry.counted is None for entry in entries):
        raise ValidationFailed(errors={"lines": ["Every line of a posted count has a counted quantity."]})
    positions = {(entry.sku, entry.lot): index for index, entry in enumerate(entries)}
    with transaction.atomic():
        count = CycleCount.objects.create(
            tenant=tenant,
            number=f"CC-{next_value(tenant=tenant, name='count'):06d}",
            location=_location(tenant, location),
            note=note[:200],
            created_by=actor.label[:200],
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.count_started",
            obj=count,
            changes={"location": location, "lines": len(entries)},
        )
        record_counts(tenant=tenant, actor=actor, count_id=count.id, counted=entries, counted_at=counted_at)
        return _complete(tenant=tenant, actor=actor, count_id=count.id, positions=positions)


# --- selectors ----------------------------------------------------------------------------------------------


def count_list(*, tenant: Tenant, locations=None, status: str = ""):
    counts = CycleCount.objects.for_tenant(tenant).select_related("location").order_by("-id")
    if locations is not None:
        counts = counts.filter(location__in=locations)
    if status:
        counts = counts.filter(status=status)
    return counts


def count_detail(*, tenant: Tenant, count_id: int, locations=None) -> CycleCount:
    counts = CycleCount.objects.for_tenant(tenant).select_related("location")
    if locations is not None:
        counts = counts.filter(location__in=locations)
    count = counts.filter(id=count_id).first()
    if count is None:
        raise NotFound("No such count.")
    return count


def accuracy(*, tenant: Tenant, since=None, location=None) -> dict:
    """Stock accuracy of completed counts: share of exact lines and 1 - sum|variance| / sum expected."""
    lines = CycleCountLine.objects.for_tenant(tenant).filter(posted_at__isnull=False)
    if since is not None:
        lines = lines.filter(posted_at__gte=since)
    if location is not None:
        lines = lines.filter(location=location)
    total = exact = abs_variance = expected = 0
    for variance, exp in lines.values_list("variance", "expected"):
        total += 1
        exact += variance == 0
        abs_variance += abs(variance)
        expected += max(exp, 0)
    return {
        "lines": total,
        "exact_lines": exact,
        "line_accuracy": exact / total if total else None,
        "unit_accuracy": max(1 - abs_variance / expected, 0) if expected else None,
    }
