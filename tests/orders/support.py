"""A small retail network for order tests: a web channel sourcing from two warehouses, a store with pickup."""

from types import SimpleNamespace

from inventory.ledger import level_for, post_movement
from inventory.models import MovementKind, StockLevel
from oms.actors import Actor
from tests import factories

ACTOR = Actor.system("tests")


def stock(tenant, product, location, on_hand):
    """Bring the product's on-hand at the location to `on_hand` through the ledger (a receipt or an adjustment
    of the difference), so that the ledger check holds."""
    level = level_for(tenant=tenant, product=product, location=location)
    change = on_hand - level.on_hand
    if change:
        post_movement(
            tenant=tenant,
            level=level,
            kind=MovementKind.RECEIPT if change > 0 else MovementKind.ADJUSTMENT,
            quantity=change,
            actor=ACTOR,
            reason="test stock",
        )
        level.refresh_from_db()
    return level


def level(tenant, product, location):
    return StockLevel.objects.for_tenant(tenant).get(product=product, location=location)


def build_shop(tenant, *, allow_backorders=False, code="WEB"):
    wh1 = factories.LocationFactory(tenant=tenant, code=f"{code}-WH1", kind="warehouse")
    wh2 = factories.LocationFactory(tenant=tenant, code=f"{code}-WH2", kind="warehouse")
    store = factories.LocationFactory(tenant=tenant, code=f"{code}-PAR", kind="store", pickup=True)
    channel = factories.ChannelFactory(tenant=tenant, code=code, kind="web", allow_backorders=allow_backorders)
    for priority, location in enumerate((wh1, wh2, store)):
        factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=location, priority=priority)
    products = [
        factories.ProductFactory(tenant=tenant, sku=f"{code}-{name}", name=f"Product {name}")
        for name in ("A", "B", "C")
    ]
    for product in products:
        stock(tenant, product, wh1, 10)
        stock(tenant, product, wh2, 5)
        stock(tenant, product, store, 3)
    return SimpleNamespace(
        channel=channel, wh1=wh1, wh2=wh2, store=store, products=products, a=products[0], b=products[1], c=products[2]
    )


def order_body(shop, **overrides):
    body = {
        "channel": shop.channel.code,
        "external_ref": overrides.pop("external_ref", f"WEB-{factories.next_id()}"),
        "customer": {"email": "Jane.Doe@example.com", "name": "Jane Doe", "phone": "+33600000000"},
        "delivery": {
            "method": "ship",
            "service_level": "standard",
            "address": {
                "name": "Jane Doe",
                "line1": "1 rue de Rivoli",
                "postal_code": "75001",
                "city": "Paris",
                "country": "FR",
            },
        },
        "lines": [
            {"sku": shop.a.sku, "quantity": 2, "unit_price": "10.00", "tax": "4.00"},
            {"sku": shop.b.sku, "quantity": 1, "unit_price": "25.50", "discount": "5.50", "tax": "4.00"},
        ],
        "currency": "EUR",
    }
    body.update(overrides)
    return body
