"""GET /api/v1/inventory/: stock levels by SKU and location, lots, clerks, channel keys, tenants."""

import pytest

from inventory.reservations import Hold, hold
from tests import factories
from tests.conftest import make_api_client
from tests.inventory.stock_helpers import channel_with_pool, receive

pytestmark = pytest.mark.django_db


def test_stock_levels_show_on_hand_reserved_safety_and_available(api, tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    level = receive(tenant, product, factories.LocationFactory(tenant=tenant, code="WH1"), 10, safety_stock=2)
    hold(tenant=tenant, holds=[Hold(level=level, quantity=3)])

    [row] = api.get("/api/v1/inventory/?sku=A&location=WH1").json()["results"]

    assert {k: row[k] for k in ("sku", "location", "on_hand", "reserved", "safety_stock", "available", "lots")} == {
        "sku": "A",
        "location": "WH1",
        "on_hand": 10,
        "reserved": 3,
        "safety_stock": 2,
        "available": 5,
        "lots": [],
    }
    assert row["updated_at"]


def test_lot_tracked_rows_list_their_lots_earliest_expiry_first(api, tenant):
    product = factories.ProductFactory(tenant=tenant, sku="LAIT", tracks_lots=True)
    store = factories.LocationFactory(tenant=tenant, code="PAR01")
    receive(tenant, product, store, 2, lot="LATE", expires_in_days=9)
    receive(tenant, product, store, 5, lot="SOON", expires_in_days=3)

    [row] = api.get("/api/v1/inventory/?sku=LAIT").json()["results"]

    assert [(lot["lot"], lot["on_hand"]) for lot in row["lots"]] == [("SOON", 5), ("LATE", 2)]


def test_filters_take_several_codes(api, tenant):
    a, b = factories.ProductFactory(tenant=tenant, sku="A"), factories.ProductFactory(tenant=tenant, sku="B")
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    par = factories.LocationFactory(tenant=tenant, code="PAR01")
    for product in (a, b):
        for location in (wh, par):
            receive(tenant, product, location, 1)

    rows = api.get("/api/v1/inventory/?sku=A,B&location=PAR01").json()["results"]

    assert sorted((r["sku"], r["location"]) for r in rows) == [("A", "PAR01"), ("B", "PAR01")]


def test_another_tenants_stock_is_invisible(api, other_tenant):
    receive(
        other_tenant,
        factories.ProductFactory(tenant=other_tenant, sku="A"),
        factories.LocationFactory(tenant=other_tenant, code="WH1"),
        5,
    )

    assert api.get("/api/v1/inventory/").json()["results"] == []
    assert api.get("/api/v1/inventory/?sku=A").json()["results"] == []


def test_a_store_clerk_sees_only_their_stores_stock(tenant, user_client):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    lyon = factories.LocationFactory(tenant=tenant, code="LYO01", kind="store")
    receive(tenant, product, lyon, 4)
    receive(tenant, product, factories.LocationFactory(tenant=tenant, code="PAR01", kind="store"), 6)
    clerk = user_client("store_clerk", locations=[lyon])

    rows = clerk.get("/api/v1/inventory/").json()["results"]

    assert [(r["location"], r["on_hand"]) for r in rows] == [("LYO01", 4)]
    assert clerk.get("/api/v1/inventory/?location=PAR01").json()["results"] == []


def test_a_channel_key_sees_stock_in_its_pool_only(tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    receive(tenant, product, wh, 4)
    receive(tenant, product, factories.LocationFactory(tenant=tenant, code="OTHER"), 6)
    shop = make_api_client(tenant, channel=channel_with_pool(tenant, [wh]))

    assert [r["location"] for r in shop.get("/api/v1/inventory/").json()["results"]] == ["WH1"]
