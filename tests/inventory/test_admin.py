"""Back-office admin: catalog and stock edits go through the services (validated, audited, tenant-scoped)."""

import pytest

from inventory.models import Product, StockLevel
from oms.models import AuditEntry
from tests import factories
from tests.inventory.stock_helpers import receive

pytestmark = pytest.mark.django_db


def test_back_office_adds_a_product_through_the_service(tenant, user_client):
    staff = user_client("back_office")

    response = staff.post(
        "/admin/inventory/product/add/",
        {
            "sku": "CAFE-250",
            "name": "Café moulu 250 g",
            "barcode": "3045320094084",
            "active": "on",
            "weight_grams": "250",
            "attributes": "{}",
        },
    )

    assert response.status_code == 302
    product = Product.objects.for_tenant(tenant).get(sku="CAFE-250")
    assert product.barcode == "3045320094084"
    assert AuditEntry.objects.for_tenant(tenant).filter(action="product.created", object_id=str(product.id)).exists()


def test_an_invalid_barcode_from_the_admin_is_refused(tenant, user_client):
    staff = user_client("back_office")

    response = staff.post(
        "/admin/inventory/product/add/",
        {"sku": "BAD", "name": "Bad", "barcode": "123", "attributes": "{}"},
        follow=True,
    )

    assert b"Not a valid EAN/GTIN" in response.content
    assert not Product.objects.for_tenant(tenant).filter(sku="BAD").exists()


def test_safety_stock_is_changed_from_the_admin_and_quantities_are_not(tenant, user_client):
    level = receive(tenant, factories.ProductFactory(tenant=tenant), factories.LocationFactory(tenant=tenant), 10)
    staff = user_client("back_office")

    staff.post(
        f"/admin/inventory/stocklevel/{level.id}/change/",
        {
            "safety_stock": "3",
            "on_hand": "999",
            "lots-TOTAL_FORMS": "0",
            "lots-INITIAL_FORMS": "0",
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
        },
    )

    fresh = StockLevel.all_tenants.get(id=level.id)
    assert (fresh.on_hand, fresh.safety_stock) == (10, 3)
    assert AuditEntry.objects.for_tenant(tenant).filter(action="stock.safety_stock_changed").exists()


def test_the_bin_where_a_product_sits_is_set_from_the_admin_and_audited(tenant, user_client):
    level = receive(tenant, factories.ProductFactory(tenant=tenant), factories.LocationFactory(tenant=tenant), 10)
    staff = user_client("back_office")
    form = {
        "safety_stock": "0",
        "lots-TOTAL_FORMS": "0",
        "lots-INITIAL_FORMS": "0",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
    }

    staff.post(f"/admin/inventory/stocklevel/{level.id}/change/", {**form, "bin": " A3-2 "})
    placed = StockLevel.all_tenants.get(id=level.id).bin
    staff.post(f"/admin/inventory/stocklevel/{level.id}/change/", {**form, "bin": ""})

    assert placed == "A3-2"
    assert StockLevel.all_tenants.get(id=level.id).bin is None
    assert AuditEntry.objects.for_tenant(tenant).filter(action="stock.bin_changed").count() == 2


def test_another_tenants_products_are_not_in_the_admin(tenant, other_tenant, user_client):
    theirs = factories.ProductFactory(tenant=other_tenant, sku="THEIRS")
    staff = user_client("admin")

    assert b"THEIRS" not in staff.get("/admin/inventory/product/").content
    assert staff.get(f"/admin/inventory/product/{theirs.id}/change/").status_code in (302, 404)


def test_a_nul_in_json_typed_in_the_admin_is_refused_with_a_message(tenant, user_client):
    staff = user_client("back_office")

    response = staff.post(
        "/admin/inventory/product/add/",
        {
            "sku": "NUL-ADMIN",
            "name": "Mug",
            "barcode": "",
            "active": "on",
            "weight_grams": "",
            "attributes": '{"k": "a\\u0000b"}',
        },
        follow=True,
    )

    assert response.status_code == 200
    assert b"ttributes.k: Text may not contain the NUL character" in response.content
    assert not Product.objects.for_tenant(tenant).filter(sku="NUL-ADMIN").exists()


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_attributes_typed_in_the_admin_are_refused_not_a_500(tenant, user_client, depth):
    staff = user_client("back_office")
    nested = "[" * depth + "]" * depth

    response = staff.post(
        "/admin/inventory/product/add/", {"sku": "DEEP", "name": "Deep", "barcode": "", "attributes": nested}
    )

    assert response.status_code == 200 and "attributes" in response.context["adminform"].form.errors
    assert not Product.objects.for_tenant(tenant).filter(sku="DEEP").exists()
