"""Catalog API: products by SKU, bulk upsert, validation, tenant isolation, channel keys."""

import pytest

from inventory.models import Product
from oms.models import AuditEntry
from tests import factories
from tests.conftest import make_api_client
from tests.inventory.stock_helpers import receive

pytestmark = pytest.mark.django_db

YAOURT = {
    "sku": "YAO-NAT-4X125",
    "name": "Yaourt nature 4x125 g",
    "barcode": "3033490004743",
    "weight_grams": 500,
    "attributes": {"rayon": "frais"},
    "tracks_lots": True,
}


def test_create_and_read_a_product_by_sku(api, tenant):
    created = api.post("/api/v1/products/", YAOURT, format="json")

    assert created.status_code == 201
    assert created["Location"].endswith("/api/v1/products/YAO-NAT-4X125/")
    body = api.get("/api/v1/products/YAO-NAT-4X125/").json()
    assert {k: body[k] for k in ("sku", "name", "barcode", "active", "weight_grams", "attributes", "tracks_lots")} == {
        **YAOURT,
        "active": True,
    }
    assert AuditEntry.objects.for_tenant(tenant).filter(action="product.created").count() == 1


def test_a_duplicate_sku_is_a_conflict(api, tenant):
    factories.ProductFactory(tenant=tenant, sku="DUP")

    response = api.post("/api/v1/products/", {"sku": "DUP", "name": "Again"}, format="json")

    assert response.status_code == 409


def test_the_same_idempotency_key_creates_once(api, tenant):
    first = api.post("/api/v1/products/", YAOURT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/api/v1/products/", YAOURT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert Product.objects.for_tenant(tenant).count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No SKU"}, "sku"),
        ({"sku": "A/B", "name": "Slash"}, "sku"),
        ({"sku": "OK"}, "name"),
        ({"sku": "OK", "name": "Bad EAN", "barcode": "3033490004744"}, "barcode"),
        ({"sku": "OK", "name": "Superscript EAN", "barcode": "²²²²²²²²"}, "barcode"),
        ({"sku": "OK", "name": "Arabic-Indic EAN", "barcode": "٣٠٣٣٤٩٠٠"}, "barcode"),
        ({"sku": "OK", "name": "Heavy", "weight_grams": -1}, "weight_grams"),
        ({"sku": "OK", "name": "Attrs", "attributes": ["not", "an", "object"]}, "attributes"),
    ],
)
def test_invalid_products_are_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/products/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_patch_changes_some_fields_and_is_audited(api, tenant):
    factories.ProductFactory(tenant=tenant, sku="A", name="Old")

    renamed = api.patch("/api/v1/products/A/", {"name": "New", "sku": "RENAMED"}, format="json")
    response = api.patch("/api/v1/products/A/", {"name": "New", "active": False}, format="json")

    assert renamed.status_code == 400 and list(renamed.json()["errors"]) == ["sku"]  # the SKU never changes
    assert response.status_code == 200
    assert (response.json()["sku"], response.json()["name"], response.json()["active"]) == ("A", "New", False)
    entry = AuditEntry.objects.for_tenant(tenant).get(action="product.changed")
    assert entry.changes["name"] == ["Old", "New"]


def test_lot_tracking_cannot_change_while_there_is_stock(api, tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, factories.LocationFactory(tenant=tenant), 3)

    response = api.patch("/api/v1/products/A/", {"tracks_lots": True}, format="json")

    assert response.status_code == 409
    assert "tracks_lots" in response.json()["errors"]


def test_list_filters_and_paginates(api, tenant):
    factories.ProductFactory(tenant=tenant, sku="ON", active=True)
    factories.ProductFactory(tenant=tenant, sku="OFF", active=False)

    inactive = api.get("/api/v1/products/?active=false").json()
    assert [p["sku"] for p in inactive["results"]] == ["OFF"]
    assert set(inactive) >= {"next", "previous", "results"}
    assert [p["sku"] for p in api.get("/api/v1/products/?sku=ON,OFF").json()["results"]] == ["OFF", "ON"]
    assert api.get("/api/v1/products/?active=maybe").status_code == 400
    assert api.get("/api/v1/products/?updated_after=yesterday").status_code == 400


def test_updated_after_returns_only_newer_changes(api, tenant):
    old = factories.ProductFactory(tenant=tenant, sku="OLD")
    since = old.updated_at.isoformat()
    api.post("/api/v1/products/", {"sku": "NEW", "name": "New"}, format="json")

    response = api.get("/api/v1/products/", {"updated_after": since})

    assert [p["sku"] for p in response.json()["results"]] == ["NEW"]


def test_another_tenants_products_are_invisible(api, other_tenant):
    factories.ProductFactory(tenant=other_tenant, sku="THEIRS")

    assert api.get("/api/v1/products/THEIRS/").status_code == 404
    assert api.patch("/api/v1/products/THEIRS/", {"name": "Mine"}, format="json").status_code == 404
    assert api.get("/api/v1/products/").json()["results"] == []
    created = api.post("/api/v1/products/", {"sku": "THEIRS", "name": "Ours"}, format="json")
    assert created.status_code == 201  # SKUs are unique per tenant


def test_a_channel_key_reads_but_never_changes_the_catalog(tenant):
    channel = factories.ChannelFactory(tenant=tenant)
    factories.ProductFactory(tenant=tenant, sku="A")
    shop = make_api_client(tenant, channel=channel)

    assert shop.get("/api/v1/products/A/").status_code == 200
    assert shop.post("/api/v1/products/", {"sku": "B", "name": "B"}, format="json").status_code == 403
    assert shop.patch("/api/v1/products/A/", {"name": "X"}, format="json").status_code == 403
    assert (
        shop.post("/api/v1/products/bulk/", {"products": [{"sku": "C", "name": "C"}]}, format="json").status_code == 403
    )


def test_bulk_upsert_answers_every_row_and_applies_the_good_ones(api, tenant):
    factories.ProductFactory(tenant=tenant, sku="KEEP", name="Same", barcode="")
    factories.ProductFactory(tenant=tenant, sku="EDIT", name="Before")

    response = api.post(
        "/api/v1/products/bulk/",
        {
            "products": [
                {"sku": "NEW-1", "name": "Café moulu 250 g", "barcode": "3045320094084"},
                {"sku": "EDIT", "name": "After"},
                {"sku": "KEEP", "name": "Same"},
                {"sku": "BAD", "name": "Bad barcode", "barcode": "123"},
                {"name": "No SKU"},
                {"sku": "NEW-2"},
                {"sku": "NEW-1", "name": "Twice"},
                "not an object",
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert [(r["index"], r["sku"], r["status"]) for r in body["results"]] == [
        (0, "NEW-1", "created"),
        (1, "EDIT", "updated"),
        (2, "KEEP", "unchanged"),
        (3, "BAD", "rejected"),
        (4, "", "rejected"),
        (5, "NEW-2", "rejected"),
        (6, "NEW-1", "rejected"),
        (7, "", "rejected"),
    ]
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (1, 1, 1, 5)
    assert "barcode" in body["results"][3]["errors"] and "sku" in body["results"][4]["errors"]
    assert "name" in body["results"][5]["errors"]
    assert Product.objects.for_tenant(tenant).get(sku="EDIT").name == "After"
    assert Product.objects.for_tenant(tenant).get(sku="NEW-1").barcode == "3045320094084"
    assert not Product.objects.for_tenant(tenant).filter(sku__in=["BAD", "NEW-2"]).exists()


def test_bulk_upsert_refuses_an_empty_or_oversized_batch(api):
    assert "products" in api.post("/api/v1/products/bulk/", {"products": []}, format="json").json()["errors"]
    rows = [{"sku": f"S{i}", "name": "x"} for i in range(1001)]
    assert api.post("/api/v1/products/bulk/", {"products": rows}, format="json").status_code == 400


def test_bulk_upsert_of_a_thousand_rows_is_a_handful_of_queries(api, tenant, django_assert_max_num_queries):
    rows = [{"sku": f"S{i:04d}", "name": f"Article {i}"} for i in range(1000)]

    with django_assert_max_num_queries(20):
        response = api.post("/api/v1/products/bulk/", {"products": rows}, format="json")

    assert response.json()["created"] == 1000
