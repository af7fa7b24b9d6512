"""orders.demo.seed_demo: demo orders in every state, through the services, idempotent."""
import io

import pytest

from orders import invoicing
from orders.demo import seed_demo
from orders.models import Invoice, Order
from tests import factories
from tests.orders.support import build_shop, stock

pytestmark = pytest.mark.django_db


def test_the_demo_places_orders_in_many_states_once(tenant):
    shop = build_shop(tenant)
    for product in shop.products:
        stock(tenant, product, shop.wh1, 500)
        stock(tenant, product, shop.store, 100)
    till = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=till, location=shop.store)

    seed_demo(tenant, io.StringIO())
    count = Order.objects.for_tenant(tenant).count()
    out = io.StringIO()
    seed_demo(tenant, out)

    assert count == 50
    assert Order.objects.for_tenant(tenant).count() == 50
    statuses = set(Order.objects.for_tenant(tenant).values_list("status", flat=True))
    assert {"placed", "allocated", "partially_fulfilled", "fulfilled", "delivered", "completed", "cancelled",
            "on_hold"} <= statuses
    assert Order.objects.for_tenant(tenant).filter(delivery_method="in_store").exists()
    assert "0 demo order(s) created, 50 already there" in out.getvalue()


def test_the_demo_without_channels_says_so(tenant):
    out = io.StringIO()

    seed_demo(tenant, out)

    assert "no demo orders" in out.getvalue()


def test_the_demo_invoices_name_the_seller_with_its_legal_identity(tenant):
    shop = build_shop(tenant)
    for product in shop.products:
        stock(tenant, product, shop.wh1, 500)

    seed_demo(tenant, io.StringIO())

    tenant.refresh_from_db()
    assert tenant.settings["legal"]["siren"] == "123456782"
    invoice = Invoice.objects.for_tenant(tenant).order_by("sequence").first()
    assert invoice is not None
    assert invoice.seller["vat_number"] == "FR11123456782" and invoice.seller["mentions"]
    assert "SIREN 123456782" in invoicing.render_html(invoice)


def test_the_demo_keeps_a_legal_identity_the_tenant_already_has(tenant):
    tenant.settings = {"legal": {"name": "Real Name SARL"}, "invoice_per": "order"}
    tenant.save()

    seed_demo(tenant, io.StringIO())

    tenant.refresh_from_db()
    assert tenant.settings == {"legal": {"name": "Real Name SARL"}, "invoice_per": "order"}
