"""The demo orders: placed by orders.demo, routed and worked by fulfillment.demo, in every state, through the
services, idempotent."""

import io
from decimal import Decimal

import pytest

from fulfillment import demo as fulfillment_demo
from orders import demo as orders_demo
from orders import invoicing
from orders.models import Invoice, Order
from tests import factories
from tests.orders.support import build_shop, stock

pytestmark = pytest.mark.django_db


def seed_demo(tenant, out):
    orders_demo.seed_demo(tenant, out)
    fulfillment_demo.seed_demo(tenant, out)


def test_the_demo_places_orders_in_many_states_once(tenant):
    shop = build_shop(tenant)
    for product in shop.products:
        stock(tenant, product, shop.wh1, 500)
        stock(tenant, product, shop.store, 100)
    till = factories.ChannelFactory(tenant=tenant, code="TILL", kind="store")
    factories.ChannelLocationFactory(tenant=tenant, channel=till, location=shop.store)

    seed_demo(tenant, io.StringIO())
    demo_orders = Order.objects.for_tenant(tenant).exclude(external_ref__startswith=fulfillment_demo.STORE_PREFIX)
    count = demo_orders.count()
    out = io.StringIO()
    seed_demo(tenant, out)

    assert count == 50
    assert demo_orders.count() == 50
    statuses = set(Order.objects.for_tenant(tenant).values_list("status", flat=True))
    assert {
        "placed",
        "allocated",
        "partially_fulfilled",
        "fulfilled",
        "delivered",
        "completed",
        "cancelled",
        "on_hold",
    } <= statuses
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


def test_the_demo_orders_are_taxed_after_their_promotion_and_add_up(tenant):
    shop = build_shop(tenant)
    for product in shop.products:
        stock(tenant, product, shop.wh1, 500)

    seed_demo(tenant, io.StringIO())

    orders = list(Order.objects.for_tenant(tenant).prefetch_related("lines"))
    assert any(order.promotions for order in orders)
    for order in orders:
        promotions = sum((Decimal(p["amount"]) for p in order.promotions), Decimal("0"))
        lines = list(order.lines.all())
        taxable = order.subtotal - order.discount_total + order.shipping_total
        assert order.discount_total == sum((line.discount for line in lines), Decimal("0")) + promotions
        assert order.total == order.subtotal - order.discount_total + order.shipping_total + order.tax_total
        # 20 % VAT on what is paid, each line and the shipping rounded to the cent on their own
        assert abs(order.tax_total - taxable * Decimal("0.20")) <= Decimal("0.005") * (len(lines) + 1), order
