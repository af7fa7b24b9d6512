"""Cycle counts: count some SKUs at a location, compare with what the ledger expected, post the variance.

A line's `expected` is the on-hand the ledger held at the moment the line was counted (`counted_at`):
movements recorded after that moment (a sale during the count) are not mistaken for a variance. Completing
the count posts `variance = counted - expected` as a `count` movement dated `counted_at`, for every counted
line, in one transaction; a variance that would leave less on hand than is reserved refuses the completion
with the SKU named, so stock promised to orders is never silently written off.
The counted/expected/variance figures stay on the lines for the stock accuracy KPI.
"""
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.ledger import level_for, post_movement
from inventory.models import (CycleCount, CycleCountLine, Location, MovementKind, Product, StockLevel,
                              StockMovement)
from oms import audit
from oms.actors import Actor
from oms.errors import IllegalTransition, NotFound, ValidationFailed
from oms.outbox import emit
from oms.sequences import next_value

MAX_LINES = 2000


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


def start_count(*, tenant, actor: Actor, location: str, skus: list[str] | None = None, note: str = "") -> CycleCount:
    """Open a count at `location` for `skus`, or for every SKU that has a stock row there when none are given."""
    place = _location(tenant, location)
    if skus:
        products = list(_products(tenant, skus).values())
    else:
        products = list(Product.objects.for_tenant(tenant).filter(stock_levels__location=place)
                        .order_by("sku")[:MAX_LINES + 1])
        if not products:
            raise ValidationFailed(errors={"skus": ["Nothing is stocked at this location: name the SKUs to count."]})
    if len(products) > MAX_LINES:
        raise ValidationFailed(errors={"skus": [f"At most {MAX_LINES} SKUs per count: split it."]})
    with transaction.atomic():
        count = CycleCount.objects.create(tenant=tenant, number=f"CC-{next_value(tenant=tenant, name='count'):06d}",
                                          location=place, note=note[:200], created_by=actor.label[:200])
        CycleCountLine.objects.bulk_create([CycleCountLine(tenant=tenant, count=count, product=p, location=place)
                                            for p in products])
        audit.record(tenant=tenant, actor=actor, action="inventory.count_started", obj=count,
                     changes={"location": location, "lines": len(products)})
    return count


def _locked_open(tenant, count_id: int) -> CycleCount:
    count = CycleCount.objects.for_tenant(tenant).select_for_update().select_related("location").filter(
        id=count_id).first()
    if count is None:
        raise NotFound("No such count.")
    if count.status != CycleCount.Status.OPEN:
        raise IllegalTransition(current=count.status, requested=CycleCount.Status.COMPLETED, count=count.number)
    return count


def record_counts(*, tenant, actor: Actor, count_id: int, counted: dict[str, int], counted_at=None) -> CycleCount:
    """Record counted units {sku: units} at `counted_at` (now by default); a SKU found but not listed is added."""
    counted_at = counted_at or timezone.now()
    if counted_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(errors={"counted_at": ["A count cannot be in the future."]})
    bad = [f"{sku}: the counted quantity is a whole number of 0 or more." for sku, qty in counted.items()
           if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0 or qty > 1_000_000_000]
    if bad:
        raise ValidationFailed(errors={"counted": bad})
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        products = _products(tenant, counted)
        lines = {line.product_id: line for line in count.lines.all()}
        if len(lines.keys() | {p.id for p in products.values()}) > MAX_LINES:
            raise ValidationFailed(errors={"counted": [f"At most {MAX_LINES} SKUs per count."]})
        for sku, qty in counted.items():
            product = products[sku]
            line = lines.get(product.id)
            if line is None:
                line = CycleCountLine(tenant=tenant, count=count, product=product, location=count.location)
            line.counted, line.counted_at = qty, counted_at
            line.save()
        audit.record(tenant=tenant, actor=actor, action="inventory.count_recorded", obj=count,
                     changes={"counted": counted})
    return count


def complete_count(*, tenant, actor: Actor, count_id: int) -> CycleCount:
    """Post every counted line's variance as a `count` movement and close the count (see the module rule)."""
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        lines = list(count.lines.filter(counted__isnull=False).select_related("product").order_by("product_id"))
        if not lines:
            raise ValidationFailed(errors={"counted": ["Record at least one counted quantity first."]})
        levels = {}
        for line in lines:
            level = level_for(tenant=tenant, product=line.product, location=count.location)
            level.product, level.location = line.product, count.location
            levels[line.product_id] = level
        # Lock the rows (one location, by product) before reading what moved since each line was counted.
        locked = {lvl.id: lvl for lvl in StockLevel.objects.for_tenant(tenant).select_for_update()
                  .filter(id__in=[lvl.id for lvl in levels.values()]).order_by("location_id", "product_id")}
        now, increased, posted = timezone.now(), [], 0
        for line in lines:
            level = levels[line.product_id]
            moved_since = (StockMovement.objects.for_tenant(tenant)
                           .filter(stock_level_id=level.id, occurred_at__gt=line.counted_at)
                           .aggregate(total=Sum("quantity"))["total"] or 0)
            line.expected = locked[level.id].on_hand - moved_since
            line.variance = line.counted - line.expected
            if line.variance:
                line.movement = post_movement(tenant=tenant, level=level, kind=MovementKind.COUNT,
                                              quantity=line.variance, actor=actor, reason="cycle count",
                                              reference=count.number, occurred_at=line.counted_at)
                posted += 1
                if line.variance > 0:
                    increased.append(line.product.sku)
            line.posted_at = now
            line.save(update_fields=["expected", "variance", "movement", "posted_at"])
        count.status, count.completed_at, count.completed_by = CycleCount.Status.COMPLETED, now, actor.label[:200]
        count.save(update_fields=["status", "completed_at", "completed_by"])
        audit.record(tenant=tenant, actor=actor, action="inventory.count_completed", obj=count,
                     changes={"lines": len(lines), "adjusted": posted,
                              "variance": sum(abs(line.variance) for line in lines)})
        if increased:
            emit(tenant, "stock.adjusted", {"source": "count", "count": count.number, "skus": sorted(increased),
                                            "locations": [count.location.code], "rows": len(increased)})
        from inventory.alerts import evaluate_levels

        evaluate_levels(tenant=tenant, level_ids=list(locked))
    return count


def cancel_count(*, tenant, actor: Actor, count_id: int) -> CycleCount:
    with transaction.atomic():
        count = _locked_open(tenant, count_id)
        count.status = CycleCount.Status.CANCELLED
        count.save(update_fields=["status"])
        audit.record(tenant=tenant, actor=actor, action="inventory.count_cancelled", obj=count)
    return count


def count_and_post(*, tenant, actor: Actor, location: str, counted: dict[str, int], counted_at=None,
                   note: str = "") -> CycleCount:
    """A count done elsewhere (a WMS, a handheld): open, record and complete it in one transaction."""
    if not counted:
        raise ValidationFailed(errors={"lines": ["A count needs at least one line."]})
    with transaction.atomic():
        count = start_count(tenant=tenant, actor=actor, location=location, skus=list(counted), note=note)
        record_counts(tenant=tenant, actor=actor, count_id=count.id, counted=counted, counted_at=counted_at)
        return complete_count(tenant=tenant, actor=actor, count_id=count.id)


# --- selectors ----------------------------------------------------------------------------------------------

def count_list(*, tenant, locations=None, status: str = ""):
    counts = CycleCount.objects.for_tenant(tenant).select_related("location").order_by("-id")
    if locations is not None:
        counts = counts.filter(location__in=locations)
    if status:
        counts = counts.filter(status=status)
    return counts


def count_detail(*, tenant, count_id: int, locations=None) -> CycleCount:
    counts = CycleCount.objects.for_tenant(tenant).select_related("location")
    if locations is not None:
        counts = counts.filter(location__in=locations)
    count = counts.filter(id=count_id).first()
    if count is None:
        raise NotFound("No such count.")
    return count


def accuracy(*, tenant, since=None, location=None) -> dict:
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
    return {"lines": total, "exact_lines": exact,
            "line_accuracy": exact / total if total else None,
            "unit_accuracy": max(1 - abs_variance / expected, 0) if expected else None}
