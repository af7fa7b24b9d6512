"""Order outbox handlers: thin, idempotent, they load fresh state and call the services."""

from inventory.models import Product
from oms.actors import Actor
from orders import services


def _skus_of(payload: dict) -> set[str] | None:
    """The SKUs an inventory event names (None when it names none: every backorder is then looked at)."""
    skus = set()
    if isinstance(payload.get("sku"), str):
        skus.add(payload["sku"])
    for sku in payload.get("skus") or []:
        if isinstance(sku, str):
            skus.add(sku)
    rows = payload.get("rows")
    if isinstance(rows, list):
        skus.update(row["sku"] for row in rows if isinstance(row, dict) and isinstance(row.get("sku"), str))
    return skus or None


def allocate_after_stock_event(event) -> int:
    """Outbox handler for stock increases (receipts, adjustments, snapshots, counts, transfers): backordered
    lines of those SKUs get the new units, oldest order first. Running it twice allocates nothing more."""
    skus = _skus_of(event.payload or {})
    product_ids = None
    if skus is not None:
        product_ids = list(Product.objects.for_tenant(event.tenant).filter(sku__in=skus).values_list("id", flat=True))
        if not product_ids:
            return 0
    return services.allocate_backorders(
        tenant=event.tenant, product_ids=product_ids, actor=Actor.system(f"backorders ({event.topic})")
    )
