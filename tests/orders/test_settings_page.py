"""Order settings kept by the tenant's admins: numbering, hold rules, invoicing, the seller identity."""

from decimal import Decimal

import pytest

from oms.actors import Actor
from oms.models import AuditEntry, Tenant
from orders import invoicing, services, tenant_settings
from tests import factories
from tests.orders.support import build_shop

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")

FORM = {
    "order_number_prefix": "WEB-",
    "invoice_per": "order",
    "invoice_prefix": "FA-",
    "max_order_value": "500.00",
    "first_order_express_levels": "express, next_day",
    "name": "Maison Dupont SAS",
    "legal_form": "SAS",
    "share_capital": "10 000 EUR",
    "line1": "3 rue des Lilas",
    "postal_code": "69003",
    "city": "Lyon",
    "country": "FR",
    "siret": "12345678900012",
    "vat_number": "FR12123456789",
    "mentions": "Paiement à 30 jours.\n\nIndemnité forfaitaire de recouvrement : 40 EUR.",
}


def place(tenant, shop, price="12.00", service_level="standard"):
    return services.place_order(
        tenant=tenant,
        actor=SYSTEM,
        data=services.OrderInput(
            channel=shop.channel,
            external_ref=f"S-{factories.next_id()}",
            currency="EUR",
            service_level=service_level,
            customer={"email": f"c{factories.next_id()}@example.com"},
            address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
            lines=[services.LineInput(sku=shop.a.sku, quantity=1, unit_price=Decimal(price))],
        ),
    )


def test_an_admin_saves_the_settings_and_the_services_use_them(user_client, tenant, other_tenant):
    shop = build_shop(tenant)
    client = user_client("admin")

    response = client.post("/orders/settings/", FORM, follow=True)

    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.settings["order_hold_rules"] == {
        "max_order_value": "500.00",
        "first_order_express_levels": ["express", "next_day"],
    }
    assert invoicing.seller_identity(tenant)["siren"] == "123456789"
    assert invoicing.seller_identity(tenant)["mentions"] == [
        "Paiement à 30 jours.",
        "Indemnité forfaitaire de recouvrement : 40 EUR.",
    ]
    assert place(tenant, shop).number.startswith("WEB-")
    assert place(tenant, shop, price="600.00").status == "on_hold"
    assert place(tenant, shop, service_level="next_day").status == "on_hold"
    assert Tenant.objects.get(id=other_tenant.id).settings == other_tenant.settings
    entry = AuditEntry.objects.for_tenant(tenant).get(action="tenant.order_settings_changed")
    assert entry.changes["after"]["invoice_prefix"] == "FA-" and entry.changes["before"]["invoice_prefix"] == "INV-"


def test_the_form_shows_what_is_stored_and_keeps_what_it_does_not_show(user_client, tenant):
    tenant.settings = {
        "legal": {"name": "Old name", "address": "1 place Bellecour, Lyon", "iban": "FR76..."},
        "order_hold_rules": {"max_order_value": "900", "custom": True},
        "currencies": ["EUR"],
    }
    tenant.save()
    client = user_client("admin")

    page = client.get("/orders/settings/").content.decode()
    client.post("/orders/settings/", {**FORM, "max_order_value": "", "first_order_express_levels": ""})

    assert 'value="Old name"' in page and 'value="1 place Bellecour, Lyon"' in page and 'value="900"' in page
    tenant.refresh_from_db()
    assert tenant.settings["legal"]["iban"] == "FR76..." and tenant.settings["currencies"] == ["EUR"]
    assert tenant.settings["order_hold_rules"] == {"custom": True}


@pytest.mark.parametrize(
    "field, value",
    [
        ("order_number_prefix", "SO 1"),
        ("siret", "123"),
        ("country", "France"),
        ("vat_number", "12345"),
        ("max_order_value", "-1"),
        ("invoice_per", "week"),
        ("email", "nope"),
    ],
)
def test_invalid_values_are_shown_on_the_form_and_nothing_is_saved(user_client, tenant, field, value):
    before = dict(tenant.settings or {})

    response = user_client("admin").post("/orders/settings/", {**FORM, field: value})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    tenant.refresh_from_db()
    assert (tenant.settings or {}) == before


@pytest.mark.parametrize("role", ["back_office", "manager", "viewer", "store_clerk"])
def test_only_admins_see_or_change_the_settings(user_client, tenant, role):
    client = user_client(role)

    assert client.get("/orders/settings/").status_code == 403
    assert client.post("/orders/settings/", FORM).status_code == 403
    tenant.refresh_from_db()
    assert "legal" not in (tenant.settings or {})


def test_the_orders_list_links_the_settings_for_admins_only(user_client, tenant):
    assert "/orders/settings/" in user_client("admin").get("/orders/").content.decode()
    assert "/orders/settings/" not in user_client("back_office").get("/orders/").content.decode()


def test_the_service_refuses_keys_it_does_not_own(tenant):
    with pytest.raises(ValueError):
        tenant_settings.update_order_settings(tenant=tenant, actor=SYSTEM, values={"currencies": ["USD"]})
