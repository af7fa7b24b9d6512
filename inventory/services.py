"""Catalog and network use cases, cart holds, reservation expiry. One transaction each, audited.

Stock quantities change in inventory/ledger.py (on_hand) and inventory/reservations.py (reserved) only.
"""

from dataclasses import dataclass, field
from datetime import time
from decimal import ROUND_HALF_UP, Decimal

import holidays as public_holidays
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Location, LocationKind, Product, Reservation, StockLevel
from inventory.reservations import LineDemand, expired_reservation_ids, find_reservation, release, reserve_demands
from inventory.sourcing import channel_locations
from oms import audit
from oms.actors import Actor
from oms.api.scope import Scope
from oms.codes import CODE_HELP, SKU_HELP, is_code, is_sku
from oms.db import LOCK_ROW
from oms.digits import ascii_digits
from oms.errors import Conflict, NotFound, ReservationOwnedByOrder, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.timezones import is_zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRODUCT_FIELDS = ("name", "barcode", "active", "weight_grams", "attributes", "tracks_lots", "returnable")
LOCATION_FIELDS = (
    "name",
    "kind",
    "address",
    "latitude",
    "longitude",
    "timezone",
    "ships",
    "pickup",
    "accepts_returns",
    "daily_capacity",
    "cutoff_time",
    "opening_hours",
    "handling_days",
    "holiday_subdivision",
    "active",
    "pickup_hold_days",
)
# Cart and store holds always expire: at most a week (a customer's "keep it for me until Saturday"), and after the
# channel's time to live, or DEFAULT_HOLD_TTL, when the call names none.
MAX_RESERVATION_TTL = 7 * 24 * 3600
MIN_RESERVATION_TTL = 60
DEFAULT_HOLD_TTL = 900


# --- validation shared by the API and the services -------------------------------------------------------


def gtin_is_valid(code: str) -> bool:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct GS1 check digit."""
    if not ascii_digits(code) or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gtin_check_digit(body: str) -> str:
    """The GS1 check digit completing `body` (e.g. 12 digits → an EAN-13)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def check_sku(sku: str) -> str:
    sku = (sku or "").strip()
    if not is_sku(sku):
        raise ValidationFailed(errors={"sku": [SKU_HELP]})
    if sku == "bulk":
        raise ValidationFailed(errors={"sku": ["'bulk' is reserved by the API (POST /products/bulk/)."]})
    return sku


def check_code(code: str, field_name: str = "code") -> str:
    code = (code or "").strip()
    if not is_code(code):
        raise ValidationFailed(errors={field_name: [CODE_HELP]})
    return code


def _check_product_fields(data: dict) -> dict:
    errors = {}
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = ["Give the product a name."]
    if "barcode" in data:
        data["barcode"] = (data["barcode"] or "").strip()
        if data["barcode"] and not gtin_is_valid(data["barcode"]):
            errors["barcode"] = ["Not a valid EAN/GTIN: 8, 12, 13 or 14 digits with a correct check digit."]
    if "attributes" in data and not isinstance(data["attributes"], dict):
        errors["attributes"] = ["Give an object of attribute names and values."]
    if data.get("weight_grams") is not None and data["weight_grams"] < 0:
        errors["weight_grams"] = ["A weight cannot be negative."]
    if errors:
        raise ValidationFailed(errors=errors)
    return data


def _check_location_fields(data: dict, current: Location | None = None) -> dict:
    errors = {}
    merged = {f: getattr(current, f) for f in LOCATION_FIELDS} if current is not None else {}
    merged.update(data)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = ["Give the location a name."]
    if "kind" in data and data["kind"] not in LocationKind.values:
        errors["kind"] = [f"Choose one of {', '.join(LocationKind.values)}."]
    if "timezone" in data:
        if not is_zone(data["timezone"]):
            errors["timezone"] = [f"Unknown time zone {data['timezone']!r}."]
    for name, limit in (("latitude", 90), ("longitude", 180)):
        if data.get(name) is not None:
            value = Decimal(str(data[name]))
            if not value.is_finite():
                errors[name] = ["A finite number is required."]
                continue
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            if abs(value) > limit:
                errors[name] = [f"Must lie between -{limit} and {limit}."]
            data[name] = value
    if (merged.get("latitude") is None) != (merged.get("longitude") is None):
        errors.setdefault(
            "latitude" if merged.get("latitude") is None else "longitude",
            ["Give both latitude and longitude, or neither."],
        )
    if "address" in data and not isinstance(data["address"], dict):
        errors["address"] = ["Give an object (line1, postal_code, city, country, ...)."]
    if "opening_hours" in data:
        problem = _opening_hours_problem(data["opening_hours"])
        if problem:
            errors["opening_hours"] = [problem]
    if data.get("holiday_subdivision"):
        problem = _subdivision_problem(merged.get("address"), data["holiday_subdivision"])
        if problem:
            errors["holiday_subdivision"] = [problem]
    if merged.get("kind") == LocationKind.DROPSHIP and merged.get("pickup"):
        errors["pickup"] = ["A drop-ship supplier cannot offer pickup."]
    if data.get("daily_capacity") is not None and data["daily_capacity"] < 0:
        errors["daily_capacity"] = ["Capacity cannot be negative."]
    if data.get("pickup_hold_days") is not None and not 1 <= data["pickup_hold_days"] <= 90:
        errors["pickup_hold_days"] = ["Between 1 and 90 days."]
    if errors:
        raise ValidationFailed(errors=errors)
    return data


def _subdivision_problem(address, subdivision: str) -> str | None:
    """A subdivision the holidays package knows for the location's country (FR when its address names none)."""
    country = (address or {}).get("country") if isinstance(address, dict) else None
    country = country or "FR"
    try:
        known = public_holidays.country_holidays(country).subdivisions
    except NotImplementedError:
        return f"No public holidays are known for {country}: leave the subdivision empty."
    if subdivision not in known:
        return f"Not a subdivision of {country}: use one of {', '.join(known)}."
    return None


def _opening_hours_problem(hours) -> str | None:
    """{"mon": [["09:00", "12:30"], ["14:00", "19:00"]], ...}; days not given are closed."""
    if not isinstance(hours, dict):
        return "Give an object keyed by day (mon..sun) of [opens, closes] pairs."
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            return f"Unknown day {day!r}: use {', '.join(WEEKDAYS)}."
        if not isinstance(spans, list):
            return f"{day}: give a list of [opens, closes] pairs."
        for span in spans:
            if not (isinstance(span, list) and len(span) == 2 and all(isinstance(t, str) for t in span)):
                return f'{day}: each opening is ["HH:MM", "HH:MM"].'
            try:
                opens, closes = (time.fromisoformat(t) for t in span)
            except ValueError:
                return f"{day}: times are HH:MM."
            if opens >= closes:
                return f"{day}: {span[0]} is not before {span[1]}."
    return None


def _diff(obj, data: dict) -> dict:
    """{field: [before, after]} for the fields that change, JSON-friendly."""
    changes = {}
    for name, value in data.items():
        before = getattr(obj, name)
        if before != value:
            changes[name] = [_plain(before), _plain(value)]
    return changes


def _plain(value):
    if isinstance(value, (Decimal, time)):
        return str(value)
    return value


# --- products --------------------------------------------------------------------------------------------


def product_by_sku(*, tenant: Tenant, sku: str, for_update: bool = False) -> Product:
    queryset = Product.objects.for_tenant(tenant)
    if for_update:
        queryset = queryset.select_for_update(**LOCK_ROW)
    try:
        return queryset.get(sku=sku)
    except Product.DoesNotExist:
        raise NotFound(f"No product with SKU {sku!r}.") from None


def create_product(
    *,
    tenant: Tenant,
    actor: Actor,
    sku: str,
    name: str,
    barcode: str = "",
    active: bool = True,
    weight_grams: int | None = None,
    attributes: dict | None = None,
    tracks_lots: bool = False,
    returnable: bool = True,
) -> Product:
    sku = check_sku(sku)
    data = _check_product_fields(
        {
            "name": name,
            "barcode": barcode,
            "active": active,
            "weight_grams": weight_grams,
            "attributes": attributes or {},
            "tracks_lots": tracks_lots,
            "returnable": returnable,
        }
    )
    try:
        with transaction.atomic():
            product = Product.objects.create(tenant=tenant, sku=sku, **data)
            audit.record(
                tenant=tenant,
                actor=actor,
                action="product.created",
                obj=product,
                changes={k: _plain(v) for k, v in data.items()},
            )
    except IntegrityError:
        raise Conflict(f"A product with SKU {sku!r} already exists.", sku=sku) from None
    return product


def _lot_tracking_change_problem(tenant, product: Product) -> str | None:
    if StockLevel.objects.for_tenant(tenant).filter(product=product).exclude(on_hand=0, reserved=0).exists():
        return "Lot tracking can only change while the product has no stock anywhere."
    return None


def update_product(*, tenant: Tenant, actor: Actor, sku: str, changes: dict) -> Product:
    """Change some fields of a product (the SKU never changes); audited with before and after."""
    data = _check_product_fields({k: v for k, v in changes.items() if k in PRODUCT_FIELDS})
    with transaction.atomic():
        product = product_by_sku(tenant=tenant, sku=sku, for_update=True)
        diff = _diff(product, data)
        if "tracks_lots" in diff:
            problem = _lot_tracking_change_problem(tenant, product)
            if problem:
                raise Conflict(problem, sku=sku, errors={"tracks_lots": [problem]})
        if diff:
            for name in diff:
                setattr(product, name, data[name])
            product.save(update_fields=[*diff, "updated_at"])
            audit.record(tenant=tenant, actor=actor, action="product.changed", obj=product, changes=diff)
    return product


@dataclass
class RowResult:
    index: int
    sku: str
    status: str  # created, updated, unchanged, rejected
    errors: dict = field(default_factory=dict)


MAX_BULK_ROWS = 1000


def upsert_products(
    *, tenant, actor: Actor, rows: list[dict], rejected: list[RowResult] | None = None
) -> list[RowResult]:
    """Create or update products by SKU, row by row: a bad row is rejected with its reasons, the others
    are applied in one transaction. Fields a row omits keep their value on an existing product.

    `rejected` carries rows the caller already found invalid (shape errors), so that the answer lists every
    row in order.
    """
    if len(rows) + len(rejected or []) > MAX_BULK_ROWS:
        raise ValidationFailed(errors={"products": [f"Send at most {MAX_BULK_ROWS} products per call."]})
    results = {r.index: r for r in rejected or []}
    valid = []
    seen = set()
    for row in rows:
        index, sku = row["index"], (row.get("sku") or "").strip()
        try:
            sku = check_sku(sku)
            data = _check_product_fields({k: v for k, v in row.items() if k in PRODUCT_FIELDS})
        except ValidationFailed as exc:
            results[index] = RowResult(index, sku, "rejected", exc.extra["errors"])
            continue
        if sku in seen:
            results[index] = RowResult(index, sku, "rejected", {"sku": ["This SKU appears twice in the batch."]})
            continue
        seen.add(sku)
        valid.append((index, sku, data))
    for attempt in range(2):
        try:
            return _apply_upsert(tenant, actor, valid, dict(results))
        except IntegrityError:
            # A concurrent batch created one of these SKUs first: the second pass updates it instead.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _apply_upsert(tenant, actor, valid, results) -> list[RowResult]:
    with transaction.atomic():
        existing = {
            p.sku: p
            for p in Product.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .filter(sku__in=[sku for _, sku, _ in valid])
        }
        tracked_change = {}
        to_create, to_update, changed_fields, created, updated = [], [], set(), [], []
        for index, sku, data in valid:
            product = existing.get(sku)
            if product is None:
                if "name" not in data:
                    results[index] = RowResult(index, sku, "rejected", {"name": ["A new product needs a name."]})
                    continue
                defaults = {
                    "barcode": "",
                    "active": True,
                    "weight_grams": None,
                    "attributes": {},
                    "tracks_lots": False,
                    "returnable": True,
                }
                to_create.append(Product(tenant=tenant, sku=sku, **{**defaults, **data}))
                results[index] = RowResult(index, sku, "created")
                created.append(sku)
                continue
            diff = _diff(product, data)
            if "tracks_lots" in diff:
                tracked_change[index] = product
            if not diff:
                results[index] = RowResult(index, sku, "unchanged")
                continue
            for name in diff:
                setattr(product, name, data[name])
            to_update.append((index, product))
            changed_fields.update(diff)
            results[index] = RowResult(index, sku, "updated")
        for index, product in tracked_change.items():
            problem = _lot_tracking_change_problem(tenant, product)
            if problem:
                results[index] = RowResult(index, product.sku, "rejected", {"tracks_lots": [problem]})
                to_update = [(i, p) for i, p in to_update if i != index]
        updated = [p.sku for _, p in to_update]
        now = timezone.now()
        for _, product in to_update:
            product.updated_at = now
        if to_create:
            Product.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Product.objects.for_tenant(tenant).bulk_update(
                [p for _, p in to_update], [*sorted(changed_fields), "updated_at"], batch_size=500
            )
        if created or updated:
            audit.record(
                tenant=tenant,
                actor=actor,
                action="product.bulk_upserted",
                object_type="inventory.product",
                object_repr=f"{len(created)} created, {len(updated)} updated",
                changes={"created": created, "updated": updated},
            )
    return [results[i] for i in sorted(results)]


# --- locations -------------------------------------------------------------------------------------------


def location_by_code(*, tenant: Tenant, code: str, for_update: bool = False) -> Location:
    queryset = Location.objects.for_tenant(tenant)
    if for_update:
        queryset = queryset.select_for_update(**LOCK_ROW)
    try:
        return queryset.get(code=code)
    except Location.DoesNotExist:
        raise NotFound(f"No location with code {code!r}.") from None


def create_location(*, tenant: Tenant, actor: Actor, code: str, name: str, kind: str, **fields) -> Location:
    code = check_code(code)
    data = _check_location_fields(
        {"name": name, "kind": kind, **{k: v for k, v in fields.items() if k in LOCATION_FIELDS}}
    )
    try:
        with transaction.atomic():
            location = Location.objects.create(tenant=tenant, code=code, **data)
            audit.record(
                tenant=tenant,
                actor=actor,
                action="location.created",
                obj=location,
                changes={k: _plain(v) for k, v in data.items()},
            )
    except IntegrityError:
        raise Conflict(f"A location with code {code!r} already exists.", location=code) from None
    return location


def update_location(*, tenant: Tenant, actor: Actor, code: str, changes: dict) -> Location:
    with transaction.atomic():
        location = location_by_code(tenant=tenant, code=code, for_update=True)
        data = _check_location_fields({k: v for k, v in changes.items() if k in LOCATION_FIELDS}, current=location)
        diff = _diff(location, data)
        if diff:
            for name in diff:
                setattr(location, name, data[name])
            location.save(update_fields=[*diff, "updated_at"])
            audit.record(tenant=tenant, actor=actor, action="location.changed", obj=location, changes=diff)
    return location


# --- stock settings --------------------------------------------------------------------------------------


def set_bin(*, tenant: Tenant, actor: Actor, level: StockLevel, bin: str | None) -> StockLevel:
    """Where the product sits at the location (aisle, shelf, bin), shown on the pick screens; blank clears it."""
    value = (bin or "").strip()[:40] or None
    with transaction.atomic():
        locked = (
            StockLevel.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .select_related("product", "location")
            .get(id=level.id)
        )
        if locked.bin != value:
            before = locked.bin
            StockLevel.objects.for_tenant(tenant).filter(id=level.id).update(bin=value, updated_at=timezone.now())
            audit.record(
                tenant=tenant,
                actor=actor,
                action="stock.bin_changed",
                obj=locked,
                object_repr=f"{locked.product.sku} @ {locked.location.code}",
                changes={"bin": [before, value]},
            )
        locked.bin = value
    return locked


def set_safety_stock(*, tenant: Tenant, actor: Actor, level: StockLevel, safety_stock: int) -> StockLevel:
    """Units a location keeps back from every promise (display stock, damaged-in-waiting)."""
    if not isinstance(safety_stock, int) or safety_stock < 0:
        raise ValidationFailed(errors={"safety_stock": ["Give a whole number of units, 0 or more."]})
    with transaction.atomic():
        locked = (
            StockLevel.objects.for_tenant(tenant)
            .select_for_update(**LOCK_ROW)
            .select_related("product", "location")
            .get(id=level.id)
        )
        if locked.safety_stock != safety_stock:
            before = locked.safety_stock
            StockLevel.objects.for_tenant(tenant).filter(id=level.id).update(
                safety_stock=safety_stock, updated_at=timezone.now()
            )
            audit.record(
                tenant=tenant,
                actor=actor,
                action="stock.safety_stock_changed",
                obj=locked,
                object_repr=f"{locked.product.sku} @ {locked.location.code}",
                changes={"safety_stock": [before, safety_stock]},
            )
        locked.safety_stock = safety_stock
    return locked


# --- cart holds and API reservations ----------------------------------------------------------------------


def hold_for_caller(
    *,
    scope: Scope,
    channel,
    sku: str,
    quantity: int,
    location_code: str = "",
    ttl_seconds: int | None = None,
    reference: str = "",
) -> Reservation:
    """A cart hold asked through the API: at the store named, which a clerk must name and which must be one of
    theirs (another is 404, like a code that does not exist), else wherever the channel's pool serves it."""
    product = product_by_sku(tenant=scope.tenant, sku=sku)
    location = None
    if location_code:
        location = scope.require_location(location_by_code(tenant=scope.tenant, code=location_code), "location")
    elif scope.store_ids is not None:
        raise ValidationFailed(errors={"location": ["Name the store to reserve at."]})
    return place_hold(
        tenant=scope.tenant,
        channel=channel,
        product=product,
        quantity=quantity,
        location=location,
        ttl_seconds=ttl_seconds,
        reference=reference,
    )


def place_hold(
    *,
    tenant: Tenant,
    channel,
    product: Product,
    quantity: int,
    location: Location | None = None,
    ttl_seconds: int | None = None,
    reference: str = "",
) -> Reservation:
    """Hold `quantity` units of one SKU for a channel at one location (the first in pool priority that can
    serve all of them, or the location given); expires after the TTL (default: the channel's)."""
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed(errors={"quantity": ["Give a whole number of units, 1 or more."]})
    if ttl_seconds is None:
        ttl_seconds = min(channel.reservation_ttl or DEFAULT_HOLD_TTL, MAX_RESERVATION_TTL)
    elif not 0 < ttl_seconds <= MAX_RESERVATION_TTL:
        raise ValidationFailed(errors={"ttl": [f"Give 1 to {MAX_RESERVATION_TTL} seconds."]})
    if location is not None and location.id not in {
        loc.id for loc in channel_locations(tenant=tenant, channel=channel)
    }:
        # The same pool as intake: an inactive location, or one outside the channel's pool, is not the channel's.
        raise ValidationFailed(
            errors={
                "location": [f"Location {location.code} is not an active location of channel {channel.code}'s pool."]
            }
        )
    demand = LineDemand(key=reference or product.sku, product=product, quantity=quantity)
    reserve_demands(
        tenant=tenant,
        channel=channel,
        demands=[demand],
        ttl_seconds=ttl_seconds,
        split=False,
        locations=[location] if location is not None else None,
    )
    reservation = demand.reservations[0]
    if reservation.reference != reference[:120]:
        Reservation.objects.for_tenant(tenant).filter(id=reservation.id).update(reference=reference[:120])
    return find_reservation(tenant=tenant, reservation_id=reservation.id)


def check_not_owned_by_order(*, tenant: Tenant, reservation: Reservation) -> None:
    """A reservation held for an order line changes only through the order's services (cancel, edit, routing):
    releasing it alone would leave the order allocated while its units are back on sale."""
    if reservation.order_line_id is None:
        return
    order_id, number = (
        Reservation.objects.for_tenant(tenant)
        .filter(id=reservation.id)
        .values_list("order_line__order_id", "order_line__order__number")
        .get()
    )
    raise ReservationOwnedByOrder(
        f"This reservation holds stock for order {number}; cancel or edit the order instead.",
        reservation=reservation.id,
        order_id=order_id,
        order_number=number,
    )


def release_hold(*, tenant: Tenant, reservation: Reservation) -> Reservation:
    """DELETE a hold: idempotent for released and expired ones; a consumed hold cannot be given back, nor a
    reservation held for an order line (see check_not_owned_by_order)."""
    check_not_owned_by_order(tenant=tenant, reservation=reservation)
    release(tenant=tenant, reservation=reservation)
    reservation = find_reservation(tenant=tenant, reservation_id=reservation.id)
    if reservation.status == Reservation.Status.CONSUMED:
        raise Conflict(
            "This reservation was consumed by a shipment; its units have left.",
            reservation=reservation.id,
            reservation_status=reservation.status,
        )
    return reservation


def expire_reservations(*, now=None, batch: int = 500) -> int:
    """Release every active hold past its expiry (all tenants), as status `expired`; returns how many.

    Safe to run twice or concurrently: each release re-checks, under the reservation's lock, that the hold
    is still active and still past its expiry. Holds of order lines emit `reservation.expired`.
    """
    now = now or timezone.now()
    expired = 0
    tenants = {}
    while True:
        rows = expired_reservation_ids(now=now, limit=batch)
        if not rows:
            return expired
        progress = 0
        for tenant_id, reservation_id in rows:
            tenant = tenants.get(tenant_id) or tenants.setdefault(tenant_id, Tenant.objects.get(id=tenant_id))
            with transaction.atomic():
                reservation = (
                    Reservation.objects.for_tenant(tenant)
                    .select_related("stock_level__product", "stock_level__location")
                    .get(id=reservation_id)
                )
                units = release(
                    tenant=tenant, reservation=reservation, status=Reservation.Status.EXPIRED, expired_before=now
                )
                if units and reservation.order_line_id:
                    emit(
                        tenant,
                        "reservation.expired",
                        {
                            "reservation_id": reservation.id,
                            "order_line_id": reservation.order_line_id,
                            "sku": reservation.stock_level.product.sku,
                            "location": reservation.stock_level.location.code,
                            "quantity": units,
                        },
                    )
            if units:
                expired += 1
                progress += 1
        if not progress:
            return expired
