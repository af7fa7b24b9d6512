"""Channel use cases: create and change channels and their sourcing pools. One transaction each, audited."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from channels.models import BufferKind, Channel, ChannelKind, ChannelLocation
from inventory.models import Location
from inventory.services import MAX_RESERVATION_TTL, MIN_RESERVATION_TTL
from oms import audit
from oms.actors import Actor
from oms.codes import CODE_HELP, is_code
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import Tenant

CHANNEL_FIELDS = (
    "name",
    "kind",
    "active",
    "buffer",
    "buffer_kind",
    "reservation_ttl",
    "allow_backorders",
    "min_shelf_life_days",
    "return_window_days",
)


def channels_with_pool(tenant):
    """Channels of a tenant with their pool (locations in priority order) prefetched."""
    return Channel.objects.for_tenant(tenant).prefetch_related(
        Prefetch(
            "pool",
            queryset=ChannelLocation.objects.for_tenant(tenant).select_related("location").order_by("priority", "id"),
        )
    )


def channel_by_code(*, tenant: Tenant, code: str) -> Channel:
    try:
        return channels_with_pool(tenant).get(code=code)
    except Channel.DoesNotExist:
        raise NotFound(f"No channel with code {code!r}.") from None


def pool_codes(channel: Channel) -> list[str]:
    return [entry.location.code for entry in channel.pool.all()]


def _check_fields(data: dict, current: Channel | None = None) -> dict:
    errors = {}
    merged = {f: getattr(current, f) for f in CHANNEL_FIELDS} if current is not None else {}
    merged.update(data)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = ["Give the channel a name."]
    if "kind" in data and data["kind"] not in ChannelKind.values:
        errors["kind"] = [f"Choose one of {', '.join(ChannelKind.values)}."]
    if "buffer_kind" in data and data["buffer_kind"] not in BufferKind.values:
        errors["buffer_kind"] = [f"Choose one of {', '.join(BufferKind.values)}."]
    for name in ("buffer", "min_shelf_life_days", "reservation_ttl", "return_window_days"):
        if name in data and (not isinstance(data[name], int) or data[name] < 0):
            errors[name] = ["Give a whole number, 0 or more."]
    if "buffer" not in errors and merged.get("buffer_kind") == BufferKind.PERCENT and (merged.get("buffer") or 0) > 100:
        errors["buffer"] = ["A percentage buffer is at most 100."]
    ttl = data.get("reservation_ttl")
    if "reservation_ttl" not in errors and ttl is not None and not MIN_RESERVATION_TTL <= ttl <= MAX_RESERVATION_TTL:
        errors["reservation_ttl"] = [
            f"From {MIN_RESERVATION_TTL} to {MAX_RESERVATION_TTL} seconds (7 days): a cart hold always expires."
        ]
    if errors:
        raise ValidationFailed(errors=errors)
    return data


def _resolve_pool(tenant, codes) -> list[Location]:
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValidationFailed(errors={"locations": ["Give a list of location codes, in priority order."]})
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationFailed(errors={"locations": [f"Listed twice: {', '.join(duplicates)}."]})
    found = {loc.code: loc for loc in Location.objects.for_tenant(tenant).filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationFailed(errors={"locations": [f"Unknown location(s): {', '.join(missing)}."]})
    return [found[c] for c in codes]


def _set_pool(tenant, channel: Channel, locations: list[Location]) -> None:
    ChannelLocation.objects.for_tenant(tenant).filter(channel=channel).delete()
    ChannelLocation.objects.bulk_create(
        [
            ChannelLocation(tenant=tenant, channel=channel, location=loc, priority=(i + 1) * 10)
            for i, loc in enumerate(locations)
        ]
    )


def create_channel(
    *, tenant, actor: Actor, code: str, name: str, kind: str, locations: list[str] | None = None, **fields
) -> Channel:
    """A sales channel with its sourcing pool (`locations`: codes, highest priority first)."""
    code = (code or "").strip()
    if not is_code(code):
        raise ValidationFailed(errors={"code": [CODE_HELP]})
    data = _check_fields({"name": name, "kind": kind, **{k: v for k, v in fields.items() if k in CHANNEL_FIELDS}})
    pool = _resolve_pool(tenant, locations or [])
    try:
        with transaction.atomic():
            channel = Channel.objects.create(tenant=tenant, code=code, **data)
            _set_pool(tenant, channel, pool)
            audit.record(
                tenant=tenant,
                actor=actor,
                action="channel.created",
                obj=channel,
                changes={**data, "locations": [loc.code for loc in pool]},
            )
    except IntegrityError:
        raise Conflict(f"A channel with code {code!r} already exists.", channel=code) from None
    return channel_by_code(tenant=tenant, code=code)


def update_channel(*, tenant: Tenant, actor: Actor, code: str, changes: dict) -> Channel:
    """Change a channel; `locations`, when given, replaces the whole pool in the order given."""
    with transaction.atomic():
        try:
            channel = Channel.objects.for_tenant(tenant).select_for_update().get(code=code)
        except Channel.DoesNotExist:
            raise NotFound(f"No channel with code {code!r}.") from None
        data = _check_fields({k: v for k, v in changes.items() if k in CHANNEL_FIELDS}, current=channel)
        diff = {k: [getattr(channel, k), v] for k, v in data.items() if getattr(channel, k) != v}
        if "locations" in changes:
            pool = _resolve_pool(tenant, changes["locations"])
            before = list(
                ChannelLocation.objects.for_tenant(tenant)
                .filter(channel=channel)
                .order_by("priority", "id")
                .values_list("location__code", flat=True)
            )
            after = [loc.code for loc in pool]
            if before != after:
                _set_pool(tenant, channel, pool)
                diff["locations"] = [before, after]
        if diff:
            for name in data:
                setattr(channel, name, data[name])
            channel.save()
            audit.record(tenant=tenant, actor=actor, action="channel.changed", obj=channel, changes=diff)
    return channel_by_code(tenant=tenant, code=code)
