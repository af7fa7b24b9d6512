"""The delivery promise's configuration and reads: location calendars (opening days, cut-off, handling days,
public holidays of the location's country and subdivision, the tenant's closures), carrier transit tables, the
promise in availability answers and on orders, and the measured transit days of delivered shipments.

Configuration:
- Locations: `opening_hours`, `cutoff_time`, `handling_days`, `timezone`, `address.country` (FR when absent) and
  `holiday_subdivision` (e.g. "57", "67", "68" for Alsace-Moselle's extra days, "972" Martinique).
- Closures (fulfillment.models.Closure): date ranges with a reason, for one location or every location.
- Transit times (fulfillment.models.TransitTime): per carrier service, destination country and postal-code prefix
  (the longest prefix wins). A tenant without rows uses DEFAULT_TRANSIT (French defaults); its first edit on the
  carrier table page copies them into its own table.
- The carrier service orders ship with: tenant setting `delivery_service` (a carrier code, "colissimo" by default).
- Without a postal code, the promise is for the tenant's default zone: metropolitan France.

The calendar arithmetic is fulfillment.promise's; this module reads what it needs in a fixed number of queries per
call (locations' closures, the transit table), whatever the number of SKUs, and computes each location's
calendar once per call. Public holidays are computed once per country, subdivision and year per process.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import holidays as public_holidays
from django.db import transaction
from django.db.models import Q

from fulfillment import promise as calendar_rules
from fulfillment.carriers import carrier_name
from fulfillment.models import Closure, Shipment, TransitTime
from inventory.models import Location
from oms.errors import NotFound, ValidationFailed
from oms.models import Tenant
from oms.timezones import zone
from orders.models import DeliveryMethod

DEFAULT_COUNTRY = "FR"
DEFAULT_SERVICE = "colissimo"
# (service, country, postal-code prefix): (min, max) carrier days.
DEFAULT_TRANSIT = {
    ("colissimo", "FR", ""): (2, 3),  # metropolitan France
    ("colissimo", "FR", "20"): (3, 4),  # Corsica
    ("colissimo", "FR", "97"): (5, 8),  # overseas departments
    ("chronopost", "FR", ""): (1, 1),
    ("chronopost", "FR", "20"): (1, 2),
    ("chronopost", "FR", "97"): (3, 4),
}
# French overseas departments: their postal codes' first three digits name the holiday subdivision and time zone.
OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}
MEASURED_SHIPMENTS = 5000  # the most recent deliveries the carrier table measures
MEASURED_DAYS = 180


# --- holidays --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdivision: str, year: int) -> frozenset:
    try:
        found = public_holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:  # a country (or subdivision) the package does not know: no public holidays
        return frozenset()
    return frozenset(found.keys())


@dataclass(frozen=True)
class PublicHolidays:
    """The public holidays of a country (and subdivision), a container of dates, computed per year on demand."""

    country: str
    subdivision: str = ""

    def __contains__(self, day) -> bool:
        return day in _holiday_dates(self.country, self.subdivision, day.year)


def known_subdivision(country: str, subdivision: str) -> bool:
    """Whether the holidays package knows this subdivision of the country."""
    try:
        return subdivision in public_holidays.country_holidays(country or DEFAULT_COUNTRY).subdivisions
    except NotImplementedError:
        return False


# --- destinations and transit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    country: str = DEFAULT_COUNTRY
    postal_code: str = ""

    @property
    def holidays(self) -> PublicHolidays:
        subdivision = self.postal_code[:3] if self.country == "FR" and self.postal_code[:3] in OVERSEAS_ZONES else ""
        return PublicHolidays(self.country, subdivision)

    @property
    def zone_name(self) -> str:
        if self.country == "FR":
            return OVERSEAS_ZONES.get(self.postal_code[:3], "Europe/Paris")
        return ""


def destination_of(address: dict | None) -> Destination:
    address = address if isinstance(address, dict) else {}
    country = str(address.get("country") or DEFAULT_COUNTRY).upper()[:2]
    return Destination(country=country, postal_code=str(address.get("postal_code") or "").replace(" ", ""))


def delivery_service(tenant: Tenant) -> str:
    value = (tenant.settings or {}).get("delivery_service")
    return value if isinstance(value, str) and value else DEFAULT_SERVICE


def transit_table(tenant: Tenant) -> dict:
    """{(service, country, prefix): (min, max)}: the tenant's rows, or the French defaults when it has none."""
    rows = TransitTime.objects.for_tenant(tenant).values_list(
        "service", "country", "postal_prefix", "min_days", "max_days"
    )
    table = {(service, country, prefix): (low, high) for service, country, prefix, low, high in rows}
    return table or dict(DEFAULT_TRANSIT)


def zone_key(table: dict, service: str, destination: Destination) -> tuple | None:
    """The table's key for this destination: the service's row for its country with the longest prefix of its
    postal code; None when no row matches."""
    best = None
    for key in table:
        key_service, country, prefix = key
        if key_service != service or country != destination.country:
            continue
        if destination.postal_code.startswith(prefix) and (best is None or len(prefix) > len(best[2])):
            best = key
    return best


def transit_for(table: dict, service: str, destination: Destination) -> tuple[int, int] | None:
    key = zone_key(table, service, destination)
    return table[key] if key else None


# --- calendars -------------------------------------------------------------------------------------------


def location_calendars(*, tenant: Tenant, locations: Iterable, now: datetime) -> dict:
    """{location id: promise.Calendar} for these locations, with the closures still to come; one query."""
    locations = {loc.id: loc for loc in locations}
    if not locations:
        return {}
    closures: dict = {}
    rows = (
        Closure.objects.for_tenant(tenant)
        .filter(Q(location_id__in=list(locations)) | Q(location__isnull=True), ends_on__gte=now.date() - timedelta(1))
        .values_list("location_id", "starts_on", "ends_on")
    )
    for location_id, starts_on, ends_on in rows:
        closures.setdefault(location_id, []).append((starts_on, ends_on))
    everywhere = tuple(closures.get(None, ()))
    calendars = {}
    for loc in locations.values():
        address = loc.address if isinstance(loc.address, dict) else {}
        calendars[loc.id] = calendar_rules.Calendar(
            zone=zone(loc.timezone),
            weekdays=calendar_rules.weekdays_of(loc.opening_hours),
            cutoff=loc.cutoff_time,
            handling_days=loc.handling_days,
            holidays=PublicHolidays(
                str(address.get("country") or DEFAULT_COUNTRY).upper()[:2], loc.holiday_subdivision or ""
            ),
            closures=everywhere + tuple(closures.get(loc.id, ())),
            closing_times=calendar_rules.closing_times_of(loc.opening_hours),
        )
    return calendars


# --- the promise in availability -------------------------------------------------------------------------


def fill_availability_promises(*, tenant, channel, pool, figures, results, postal_code, now) -> None:
    """Set `promise` on each SKU of an availability answer and on each location it lists.

    - A listed pickup location promises the day (and `ready_at`, the moment) the order is ready there; another
      listed location, its delivery window; null when it has none of the SKU.
    - The SKU promises the window that holds for every unit `available` counts: the latest of the windows of the
      pool's shipping locations holding some (as an order for all of them would be shipped from all of them);
      null when the channel has none to offer or its destination has no transit time.
    """
    destination = Destination(postal_code=(postal_code or "").replace(" ", ""))
    transit = transit_for(transit_table(tenant), delivery_service(tenant), destination)
    product_ids = {result.product.id for result in results if result.known}
    # Only the locations the answer speaks of: shipping locations holding one of the SKUs, and the listed ones.
    shipping = [loc for loc in pool if loc.ships and any(figures.get((pid, loc.id), 0) > 0 for pid in product_ids)]
    listed = {item.location.id: item.location for result in results for item in result.locations}
    calendars = location_calendars(tenant=tenant, locations=[*shipping, *listed.values()], now=now)
    delivered = {}
    if transit is not None:
        for location_id, calendar in calendars.items():
            delivered[location_id] = calendar_rules.delivery_promise(calendar, now, transit, destination.holidays)
    # Each location's answer is built once and shared by every SKU it applies to.
    from_location = {}
    for location_id, loc in listed.items():
        found = calendar_rules.pickup_promise(calendars[location_id], now) if loc.pickup else delivered.get(location_id)
        from_location[location_id] = found.as_dict() if found else None
    windows: dict = {}
    for result in results:
        if not result.known:
            continue
        if result.available > 0:
            holding = tuple(loc.id for loc in shipping if figures.get((result.product.id, loc.id), 0) > 0)
            if holding not in windows:
                window = calendar_rules.latest_of(delivered.get(location_id) for location_id in holding)
                windows[holding] = window.as_dict() if window else None
            result.promise = windows[holding]
        for item in result.locations:
            if item.available > 0:
                item.promise = from_location[item.location.id]


# --- the promise on orders -------------------------------------------------------------------------------


def order_promises(tenant: Tenant, wanted: list, now: datetime) -> dict:
    """{order id: (earliest, latest)} for [(order, the locations it is fulfilled from: rows or ids)]: the latest over
    those locations. A pickup order is ready at its store on the store's own calendar; units from elsewhere travel
    to the store first. A delivery goes to the order's shipping address. Two queries for the whole batch (three when
    given ids, not rows)."""
    locations = {loc.id: loc for _, given in wanted for loc in given if isinstance(loc, Location)}
    ids = {getattr(loc, "id", loc) for _, given in wanted for loc in given}
    ids.update(order.pickup_location_id for order, _ in wanted if order.pickup_location_id)
    missing = ids - set(locations)
    if missing:
        locations.update((loc.id, loc) for loc in Location.objects.for_tenant(tenant).filter(id__in=missing))
    calendars = location_calendars(tenant=tenant, locations=locations.values(), now=now)
    table, service = transit_table(tenant), delivery_service(tenant)
    found = {}
    for order, given in wanted:
        location_ids = {getattr(loc, "id", loc) for loc in given}
        store = locations.get(order.pickup_location_id) if order.delivery_method == DeliveryMethod.PICKUP else None
        destination = destination_of(store.address if store else order.shipping_address)
        transit = transit_for(table, service, destination)
        windows = []
        for location_id in location_ids:
            if store is not None and location_id == store.id:
                windows.append(calendar_rules.pickup_promise(calendars[location_id], now))
            elif transit is not None and location_id in calendars:
                windows.append(
                    calendar_rules.delivery_promise(calendars[location_id], now, transit, destination.holidays)
                )
            else:
                windows.append(None)
        window = calendar_rules.latest_of(windows)
        if window is not None:
            found[order.id] = (window.earliest, window.latest)
    return found


# --- the carrier table: configured and measured ----------------------------------------------------------


@dataclass
class TransitRow:
    service: str
    service_name: str
    country: str
    postal_prefix: str
    min_days: int
    max_days: int
    measured: int = 0
    p50: int | None = None
    p90: int | None = None


def _percentile(sorted_values: list, share: float) -> int:
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


def carrier_days_between(shipped: datetime, delivered: datetime, destination: Destination) -> int:
    """Carrier days (Monday to Saturday, not the destination's holidays) from the day a parcel was shipped to the
    day it was delivered, both read in the destination's calendar: the figure the table's transit days count."""
    local_zone = zone(destination.zone_name or "Europe/Paris")
    day, last = shipped.astimezone(local_zone).date(), delivered.astimezone(local_zone).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        if day.weekday() in calendar_rules.CARRIER_DAYS and day not in destination.holidays:
            count += 1
    return count


def carrier_table(*, tenant: Tenant, now: datetime) -> list[TransitRow]:
    """The tenant's transit table (or the defaults) with, per row, what recent deliveries measured: p50 and p90
    carrier days over the MEASURED_SHIPMENTS most recent deliveries of the last MEASURED_DAYS, each shipment
    counted in the zone its destination falls in (the longest prefix)."""
    table = transit_table(tenant)
    rows = {
        key: TransitRow(key[0], carrier_name(tenant, key[0]), key[1], key[2], low, high)
        for key, (low, high) in table.items()
    }
    delivered = (
        Shipment.objects.for_tenant(tenant)
        .filter(delivered_at__isnull=False, delivered_at__gte=now - timedelta(days=MEASURED_DAYS))
        .order_by("-delivered_at")
        .values_list("carrier", "shipped_at", "delivered_at", "order__shipping_address")[:MEASURED_SHIPMENTS]
    )
    samples: dict = {}
    for carrier, shipped_at, delivered_at, address in delivered:
        destination = destination_of(address)
        key = zone_key(table, carrier, destination)
        if key is not None:
            samples.setdefault(key, []).append(carrier_days_between(shipped_at, delivered_at, destination))
    for key, values in samples.items():
        values.sort()
        row = rows[key]
        row.measured, row.p50, row.p90 = len(values), _percentile(values, 0.5), _percentile(values, 0.9)
    return sorted(rows.values(), key=lambda row: (row.service, row.country, row.postal_prefix))


def save_transit_time(
    *, tenant: Tenant, service: str, country: str, postal_prefix: str, min_days: int, max_days: int
) -> TransitTime:
    """Add or change one row of the tenant's table; a tenant still on the defaults gets its own copy first, so
    its table is what it sees."""
    errors = {}
    if not service:
        errors["service"] = ["Name the carrier service."]
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors["country"] = ["Use an ISO 3166 code such as FR."]
    if not (postal_prefix == "" or (postal_prefix.isascii() and postal_prefix.isalnum())):
        errors["postal_prefix"] = ["Letters and digits only, or empty for the whole country."]
    if min_days > max_days:
        errors["max_days"] = ["The maximum is not below the minimum."]
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        _own_copy(tenant)
        row, _ = TransitTime.objects.for_tenant(tenant).update_or_create(
            tenant=tenant,
            service=service,
            country=country.upper(),
            postal_prefix=postal_prefix.upper(),
            defaults={"min_days": min_days, "max_days": max_days},
        )
    return row


def delete_transit_time(*, tenant: Tenant, service: str, country: str, postal_prefix: str) -> None:
    with transaction.atomic():
        _own_copy(tenant)
        TransitTime.objects.for_tenant(tenant).filter(
            service=service, country=country, postal_prefix=postal_prefix
        ).delete()


def _own_copy(tenant: Tenant) -> None:
    if not TransitTime.objects.for_tenant(tenant).exists():
        TransitTime.objects.for_tenant(tenant).bulk_create(
            [
                TransitTime(tenant=tenant, service=s, country=c, postal_prefix=p, min_days=low, max_days=high)
                for (s, c, p), (low, high) in DEFAULT_TRANSIT.items()
            ]
        )


# --- closures --------------------------------------------------------------------------------------------


def closures_ahead(*, tenant: Tenant, today) -> list[Closure]:
    return list(
        Closure.objects.for_tenant(tenant).filter(ends_on__gte=today).select_related("location").order_by("starts_on")
    )


def add_closure(*, tenant: Tenant, location: Location | None, starts_on, ends_on, reason: str) -> Closure:
    if ends_on < starts_on:
        raise ValidationFailed(errors={"ends_on": ["The last day is not before the first."]})
    return Closure.objects.create(
        tenant=tenant, location=location, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()[:200]
    )


def delete_closure(*, tenant: Tenant, closure_id: int) -> None:
    """NotFound for a closure the tenant does not have (another tenant's included)."""
    deleted, _ = Closure.objects.for_tenant(tenant).filter(id=closure_id).delete()
    if not deleted:
        raise NotFound("No such closure.")
