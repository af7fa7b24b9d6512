"""Invoices: per shipment or per order, discounts and promotions carried, credit notes, HTML and PDF."""

import re
import zlib
from decimal import Decimal

import pytest

from oms.actors import Actor
from oms.errors import ValidationFailed
from oms.models import OutboxEvent
from orders import invoicing, services
from orders.models import Invoice
from tests import factories

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def place(tenant, shop, **extra):
    data = services.OrderInput(
        channel=shop.channel,
        external_ref=f"I-{factories.next_id()}",
        currency="EUR",
        customer={"email": "ines@example.com", "name": "Inès"},
        address={"line1": "5 quai", "city": "Lyon", "postal_code": "69002", "country": "FR"},
        lines=[
            services.LineInput(
                sku=shop.a.sku,
                quantity=3,
                unit_price=Decimal("10.00"),
                discount=Decimal("1.00"),
                tax=Decimal("5.80"),
                tax_rate=Decimal("20"),
            ),
            services.LineInput(
                sku=shop.b.sku, quantity=1, unit_price=Decimal("50.00"), tax=Decimal("10.00"), tax_rate=Decimal("20")
            ),
        ],
        promotions=[services.PromotionInput(code="SPRING", amount=Decimal("5.00"), description="spring sale")],
        shipping_amount=Decimal("6.00"),
        shipping_tax=Decimal("1.20"),
        **extra,
    )
    return services.place_order(tenant=tenant, actor=SYSTEM, data=data)


def ship(tenant, order, *pairs):
    services.record_shipment(
        tenant=tenant,
        order_id=order.id,
        actor=SYSTEM,
        lines=[services.LineQuantity(order.lines_list[i].id, q) for i, q in pairs],
    )


def test_each_shipment_is_invoiced_and_the_invoices_add_up_to_the_order(tenant, shop):
    order = place(tenant, shop)

    ship(tenant, order, (0, 1))
    ship(tenant, order, (0, 2), (1, 1))

    first, second = Invoice.objects.for_tenant(tenant).order_by("sequence")
    assert (first.number, second.number) == ("INV-000001", "INV-000002")
    assert first.lines.get().discount == Decimal("0.33") and first.lines.get().tax == Decimal("1.93")
    assert first.shipping_total == Decimal("6.00") and second.shipping_total == 0
    assert first.promotions == [{"code": "SPRING", "description": "spring sale", "amount": "5.00"}]
    assert second.promotions == []
    assert first.total + second.total == order.total
    assert sum(i.tax_total for i in (first, second)) == order.tax_total
    assert sum(i.discount_total for i in (first, second)) == order.discount_total
    assert OutboxEvent.objects.for_tenant(tenant).filter(topic="invoice.issued").count() == 2


def test_a_tenant_invoicing_per_order_gets_one_invoice_once_everything_shipped(tenant, shop):
    tenant.settings = {"invoice_per": "order", "invoice_prefix": "FA-"}
    tenant.save()
    order = place(tenant, shop)

    ship(tenant, order, (0, 1))
    assert not Invoice.objects.for_tenant(tenant).exists()
    ship(tenant, order, (0, 2), (1, 1))

    invoice = Invoice.objects.for_tenant(tenant).get()
    assert invoice.number == "FA-000001"
    assert invoice.total == order.total
    assert sorted(invoice.lines.values_list("quantity", flat=True)) == [1, 3]


def test_a_credit_note_refunds_invoiced_units_at_their_invoiced_price(tenant, shop):
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))

    note = invoicing.issue_credit_note(
        tenant=tenant,
        order_id=order.id,
        actor=SYSTEM,
        reason="return R-1",
        lines=[services.LineQuantity(order.lines_list[0].id, 1)],
    )

    assert note.kind == "credit_note" and note.number == "INV-000002"
    assert note.credited_invoice.number == "INV-000001"
    # its share of the SPRING promotion comes off too: 5.00 × 9.67 / 79.00 of the goods invoiced
    assert note.promotions == [{"code": "SPRING", "description": "spring sale", "amount": "0.61"}]
    assert note.total == Decimal("10.00") - Decimal("0.33") - Decimal("0.61") + Decimal("1.93")
    with pytest.raises(ValidationFailed):
        invoicing.issue_credit_note(
            tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(order.lines_list[0].id, 3)]
        )


def test_crediting_every_invoiced_unit_gives_back_exactly_what_was_invoiced(tenant, shop):
    order = place(tenant, shop)
    ship(tenant, order, (0, 1))
    ship(tenant, order, (0, 2), (1, 1))
    a, b = (line.id for line in order.lines_list)

    notes = [
        invoicing.issue_credit_note(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=lines, refund_shipping=refund)
        for lines, refund in (
            ([services.LineQuantity(a, 1)], False),
            ([services.LineQuantity(a, 1), services.LineQuantity(b, 1)], False),
            ([services.LineQuantity(a, 1)], True),
        )
    ]

    assert sum(note.total for note in notes) == order.total
    assert sum(Decimal(p["amount"]) for note in notes for p in note.promotions) == Decimal("5.00")
    assert sum(note.tax_total for note in notes) == order.tax_total


def test_the_invoice_renders_as_html_and_pdf(tenant, shop, user_client):
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()
    client = user_client("viewer")

    html = client.get(f"/orders/invoices/{invoice.id}/")
    pdf = client.get(f"/orders/invoices/{invoice.id}/pdf/")

    assert html.status_code == 200
    page = html.content.decode()
    assert "INV-000001" in page and "SPRING" in page and str(invoice.total) in page
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def painted_colours(pdf: bytes) -> set[bytes]:
    """The fill colours a PDF's pages use (WeasyPrint writes them as `r g b rg` in deflated content streams)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    operators = set()
    for stream in streams:
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # fonts and images
        operators |= {line for line in content.splitlines() if line.endswith(b" rg")}
    return operators


def test_the_invoice_page_links_its_stylesheet_and_the_pdf_is_laid_out_with_it(tenant, shop, user_client):
    """No inline style for the Content-Security-Policy to refuse: the page links invoice.css, the PDF reads it
    (its table headings are shaded #f6f8fa)."""
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()
    client = user_client("viewer")

    page = client.get(f"/orders/invoices/{invoice.id}/").content.decode()
    pdf = client.get(f"/orders/invoices/{invoice.id}/pdf/").content

    assert '<link rel="stylesheet" href="/static/oms/invoice.css">' in page and "<style" not in page
    assert client.get("/static/oms/invoice.css").status_code == 200
    assert b"0.964706 0.972549 0.980392 rg" in painted_colours(pdf)


def test_the_invoice_api_answers_the_document_and_its_pdf(api, tenant, shop):
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()

    body = api.get(f"/api/v1/invoices/{invoice.id}/").json()
    pdf = api.get(f"/api/v1/invoices/{invoice.id}/pdf/")

    assert body["number"] == "INV-000001" and body["total"] == str(order.total)
    assert [line["sku"] for line in body["lines"]] == [shop.a.sku, shop.b.sku]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


LEGAL = {
    "name": "Acme Retail SAS",
    "legal_form": "SAS",
    "share_capital": "10 000 €",
    "address": {"line1": "3 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"},
    "siret": "12345678200010",
    "vat_number": "FR11123456782",
    "rcs": "RCS Lyon 123 456 782",
    "mentions": [
        "Pénalités de retard : trois fois le taux d'intérêt légal.",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €.",
    ],
}


def test_the_invoice_shows_the_sellers_legal_identity_and_mentions(tenant, shop, user_client):
    tenant.settings = {"legal": LEGAL}
    tenant.save()
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()

    page = user_client("viewer").get(f"/orders/invoices/{invoice.id}/").content.decode()

    for text in (
        "Acme Retail SAS",
        "3 place Bellecour",
        "69002 Lyon",
        "SIREN 123456782",
        "SIRET 12345678200010",
        "FR11123456782",
        "RCS Lyon 123 456 782",
        "10 000 €",
        "Pénalités de retard : trois fois le taux d&#x27;intérêt légal.",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €.",
    ):
        assert text in page, text


def test_the_invoice_api_answers_the_sellers_identity_frozen_at_issue(api, tenant, shop):
    tenant.settings = {"legal": LEGAL}
    tenant.save()
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()
    tenant.settings = {"legal": {**LEGAL, "name": "Renamed SAS"}}
    tenant.save()

    seller = api.get(f"/api/v1/invoices/{invoice.id}/").json()["seller"]

    assert seller["name"] == "Acme Retail SAS"
    assert (seller["siren"], seller["siret"], seller["vat_number"]) == ("123456782", "12345678200010", "FR11123456782")
    assert seller["address"]["city"] == "Lyon"
    assert seller["mentions"] == LEGAL["mentions"]


def test_without_a_legal_identity_the_invoice_names_the_tenant(tenant, shop, user_client):
    order = place(tenant, shop)
    ship(tenant, order, (0, 3), (1, 1))
    invoice = Invoice.objects.for_tenant(tenant).get()

    page = user_client("viewer").get(f"/orders/invoices/{invoice.id}/").content.decode()

    assert invoice.seller == {"name": "Acme", "mentions": []}
    assert "SIREN" not in page
