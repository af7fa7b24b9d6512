"""A store that ships orders itself (ship-from-store) and sells at its till, for the store screens' tests."""

from types import SimpleNamespace

from fulfillment.models import FulfillmentOrder
from fulfillment.services.allocation import allocate_order
from tests import factories
from tests.orders.support import build_shop, order_body, stock


def build_store(tenant, code="WEB"):
    """build_shop's network, plus a ship-from-store channel whose only source is the store, a second store, and
    a till channel selling from the first store. The products carry a shelf price."""
    shop = build_shop(tenant, code=code)
    sfs = factories.ChannelFactory(tenant=tenant, code=f"{code}-SFS", kind="web")
    factories.ChannelLocationFactory(tenant=tenant, channel=sfs, location=shop.store, priority=0)
    till = factories.ChannelFactory(tenant=tenant, code=f"{code}-TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=till, location=shop.store, priority=0)
    other = factories.LocationFactory(tenant=tenant, code=f"{code}-LYO", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=sfs, location=other, priority=1)
    for product, price in zip(shop.products, ("12.50", "7.90", "30.00"), strict=True):
        product.attributes = {"price": price}
        product.save(update_fields=["attributes"])
        stock(tenant, product, shop.store, 8)
        stock(tenant, product, other, 3)
    return SimpleNamespace(**vars(shop), sfs=sfs, till=till, other=other)


def store_order(api, tenant, shop, *, lines=None, location=None) -> FulfillmentOrder:
    """An order of the ship-from-store channel, routed: a fulfilment order at the store (or `location`)."""
    body = order_body(shop, channel=shop.sfs.code)
    body["lines"] = lines or [
        {"sku": shop.a.sku, "quantity": 2, "unit_price": "10.00"},
        {"sku": shop.b.sku, "quantity": 1, "unit_price": "20.00"},
    ]
    answer = api.post("/api/v1/orders/", body, format="json")
    assert answer.status_code == 201, answer.json()
    allocate_order(tenant=tenant, order_id=answer.json()["id"])
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=answer.json()["id"])
    assert fulfillment.location_id == (location or shop.store).id
    return fulfillment
