"""The one place where on_hand changes: a conditional update plus its StockMovement, in one transaction."""
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from oms.actors import Actor
from oms.errors import Conflict
from inventory.models import MovementKind, StockLevel, StockMovement


def level_for(*, tenant, product, location) -> StockLevel:
    """The stock row of a product at a location, created empty on first use (safe under concurrency)."""
    level = StockLevel.objects.for_tenant(tenant).filter(product=product, location=location).first()
    if level is not None:
        return level
    try:
        with transaction.atomic():
            return StockLevel.objects.create(tenant=tenant, product=product, location=location)
    except IntegrityError:
        return StockLevel.objects.for_tenant(tenant).get(product=product, location=location)


def post_movement(*, tenant, level: StockLevel, kind: str, quantity: int, actor: Actor, reason: str = "",
                  reference: str = "", occurred_at=None, release_reserved: int = 0) -> StockMovement:
    """Change on_hand by `quantity` (signed) and write the ledger row.

    The update is conditional: on_hand may never fall below what is reserved (after `release_reserved`
    units of reservation are consumed with it, as a shipment does), so stock already promised to an order
    is never taken by an adjustment. Raises Conflict when the change would break that rule.
    """
    if kind not in MovementKind.values:
        raise ValueError(f"unknown movement kind {kind}")
    if quantity == 0 and not release_reserved:
        raise ValueError("a movement changes something")
    with transaction.atomic():
        updated = (StockLevel.objects.for_tenant(tenant)
                   .filter(id=level.id, on_hand__gte=F("reserved") - quantity - release_reserved,
                           reserved__gte=release_reserved)
                   .filter(on_hand__gte=-quantity)
                   .update(on_hand=F("on_hand") + quantity, reserved=F("reserved") - release_reserved,
                           updated_at=timezone.now()))
        if not updated:
            current = StockLevel.objects.for_tenant(tenant).get(id=level.id)
            raise Conflict(
                f"{level.product.sku} at {level.location.code}: on hand {current.on_hand}, reserved {current.reserved}; "
                f"a change of {quantity} would leave less on hand than is reserved.",
                sku=level.product.sku, location=level.location.code, on_hand=current.on_hand,
                reserved=current.reserved, delta=quantity)
        return StockMovement.objects.create(
            tenant=tenant, stock_level=level, kind=kind, quantity=quantity, reason=reason[:200],
            reference=reference[:120], actor_label=actor.label[:200], occurred_at=occurred_at or timezone.now())
