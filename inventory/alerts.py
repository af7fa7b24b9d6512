"""Low-stock alerts: thresholds per SKU at a location, or per SKU over a channel's sourcing pool.

A rule is low when the available quantity is at or below its threshold. Going low emits `stock.low` once;
nothing more is emitted while it stays low; climbing back above the threshold emits `stock.recovered` once.
The state flips with a conditional UPDATE, so two writers evaluating the same rule at once emit one event.

Rules are evaluated right after the stock operations of this module's callers (sync, transfers, counts)
and by a periodic sweep (`inventory.evaluate_stock_alerts`) that catches changes made elsewhere
(reservations taken by orders, shipments).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Location, Product, StockAlertRule, StockLevel
from inventory.sourcing import network_available, stock_figures
from oms import audit
from oms.actors import Actor
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.sales_channels import find_channel


def _channel_available(tenant, rules: list) -> dict:
    """{rule_id: what the channel can promise of the SKU}: the same figure as /availability/ (its active pool, lots
    within its minimum shelf life, less its buffer)."""
    channels = {r.channel_id: r.channel for r in rules}
    pools: dict[int, set] = {}
    # The pool through the relation the channels app puts on Location (Channel.locations): inventory reads a
    # channel's pool without importing the app above it.
    for channel_id, location_id in (
        Location.objects.for_tenant(tenant)
        .filter(channels__in=list(channels), active=True)
        .values_list("channels", "id")
    ):
        pools.setdefault(channel_id, set()).add(location_id)
    out = {}
    for channel_id, channel in channels.items():
        channel_rules = [r for r in rules if r.channel_id == channel_id]
        pool = pools.get(channel_id, set())
        figures = stock_figures(
            tenant=tenant, product_ids={r.product_id for r in channel_rules}, location_ids=pool, channel=channel
        )
        for rule in channel_rules:
            out[rule.id] = network_available(figures, rule.product_id, pool, channel)
    return out


def _location_available(tenant, rules: list) -> dict:
    """{rule_id: what the location can promise of the SKU} (lots sellable today counted)."""
    figures = stock_figures(
        tenant=tenant, product_ids={r.product_id for r in rules}, location_ids={r.location_id for r in rules}
    )
    return {r.id: figures.get((r.product_id, r.location_id), 0) for r in rules}


def evaluate_rules(*, tenant: Tenant, rules: list) -> list[tuple[StockAlertRule, str]]:
    """Compare each rule with the stock now and emit on a state change; returns [(rule, topic)] emitted."""
    if not rules:
        return []
    rules = sorted(rules, key=lambda r: r.id)  # one order of row locks for every evaluator
    available = {}
    with transaction.atomic():
        by_location = [r for r in rules if r.location_id]
        by_channel = [r for r in rules if r.channel_id]
        if by_location:
            available.update(_location_available(tenant, by_location))
        if by_channel:
            available.update(_channel_available(tenant, by_channel))
        emitted, now = [], timezone.now()
        for rule in rules:
            qty = available[rule.id]
            low = qty <= rule.threshold
            if low == rule.is_low:
                continue
            flipped = (
                StockAlertRule.objects.for_tenant(tenant)
                .filter(id=rule.id, is_low=not low)
                .update(is_low=low, last_available=qty, changed_at=now)
            )
            if not flipped:
                continue
            rule.is_low, rule.last_available, rule.changed_at = low, qty, now
            topic = "stock.low" if low else "stock.recovered"
            emit(tenant, topic, _payload(rule, qty))
            emitted.append((rule, topic))
    return emitted


def _payload(rule: StockAlertRule, available: int) -> dict:
    payload = {"rule_id": rule.id, "sku": rule.product.sku, "threshold": rule.threshold, "available": available}
    if rule.location_id:
        payload["location"] = rule.location.code
    else:
        payload["channel"] = rule.channel.code
    return payload


def _rules(tenant):
    return StockAlertRule.objects.for_tenant(tenant).select_related("product", "location", "channel")


def evaluate_levels(*, tenant: Tenant, level_ids, pairs: set | None = None) -> list:
    """Evaluate the rules that the given stock rows feed (their location's rules, their SKU's channel rules).

    `pairs` {(product_id, location_id)} of those rows saves a query when the caller knows them."""
    level_ids = list(level_ids)
    if not level_ids or not StockAlertRule.objects.for_tenant(tenant).exists():
        return []
    if pairs is None:
        pairs = set()
        for start in range(0, len(level_ids), 5000):
            pairs.update(
                StockLevel.objects.for_tenant(tenant)
                .filter(id__in=level_ids[start : start + 5000])
                .values_list("product_id", "location_id")
            )
    product_ids = sorted({p for p, _ in pairs})
    candidates = []
    for start in range(0, len(product_ids), 5000):
        candidates.extend(_rules(tenant).filter(product_id__in=product_ids[start : start + 5000]))
    rules = [r for r in candidates if r.channel_id or (r.product_id, r.location_id) in pairs]
    return evaluate_rules(tenant=tenant, rules=rules)


def evaluate_all(*, tenant: Tenant, batch_size: int = 2000) -> int:
    """Evaluate every rule of the tenant (the periodic sweep); returns how many changed state."""
    changed, last_id = 0, 0
    while True:
        rules = list(_rules(tenant).filter(id__gt=last_id).order_by("id")[:batch_size])
        if not rules:
            return changed
        changed += len(evaluate_rules(tenant=tenant, rules=rules))
        last_id = rules[-1].id


def rule_list(*, tenant):
    return _rules(tenant).order_by("product__sku", "id")


def save_rule(
    *, tenant, actor: Actor, sku: str, threshold: int, location_code: str = "", channel_code: str = ""
) -> StockAlertRule:
    """Create the rule for (SKU, location) or (SKU, channel), or change its threshold; evaluated at once."""
    if bool(location_code) == bool(channel_code):
        raise ValidationFailed(errors={"location": ["Give either a location or a channel."]})
    if threshold < 0:
        raise ValidationFailed(errors={"threshold": ["The threshold cannot be negative."]})
    product = Product.objects.for_tenant(tenant).filter(sku=sku).first()
    if product is None:
        raise ValidationFailed(errors={"sku": [f"Unknown SKU {sku}."]})
    scope = {}
    if location_code:
        location = Location.objects.for_tenant(tenant).filter(code=location_code).first()
        if location is None:
            raise ValidationFailed(errors={"location": [f"Unknown location {location_code}."]})
        scope["location"] = location
    else:
        channel = find_channel(tenant=tenant, code=channel_code)
        if channel is None:
            raise ValidationFailed(errors={"channel": [f"Unknown channel {channel_code}."]})
        scope["channel"] = channel
    try:
        with transaction.atomic():
            rule, created = (
                StockAlertRule.objects.for_tenant(tenant)
                .select_for_update()
                .get_or_create(tenant=tenant, product=product, **scope, defaults={"threshold": threshold})
            )
            if not created and rule.threshold != threshold:
                rule.threshold = threshold
                rule.save(update_fields=["threshold"])
            audit.record(
                tenant=tenant,
                actor=actor,
                action="inventory.alert_rule_saved",
                obj=rule,
                object_repr=f"{sku} @ {location_code or channel_code}",
                changes={"threshold": threshold},
            )
            evaluate_rules(tenant=tenant, rules=[rule])
    except IntegrityError:
        raise Conflict("This rule was just created by someone else; retry.") from None
    return rule


def delete_rule(*, tenant: Tenant, actor: Actor, rule_id: int) -> None:
    with transaction.atomic():
        rule = _rules(tenant).filter(id=rule_id).first()
        if rule is None:
            raise NotFound("No such alert rule.")
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.alert_rule_deleted",
            obj=rule,
            object_repr=f"{rule.product.sku} @ {rule.scope}",
        )
        rule.delete()
