"""Invoices and credit notes: gap-free per-tenant numbers, frozen amounts, printable HTML and PDF.

French law wants one unbroken chronological sequence: the number is taken from oms.sequences inside the
transaction that issues the invoice, so a rollback gives it back and two issuers queue on the row lock.
Amounts carry the channel's discounts and promotions: a line's discount and tax are invoiced pro rata
of the units invoiced (the last units take the rounding remainder); order-level promotions and the
shipping charge go on the first invoices until used up.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.staticfiles import finders
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone

from oms.actors import Actor
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import Tenant
from oms.outbox import emit
from oms.sequences import next_value
from orders.amounts import CENT, ZERO, share
from orders.models import DeliveryMethod, EventKind, Invoice, InvoiceKind, InvoiceLine, Order, OrderEvent
from orders.quantities import named_lines

PER_SHIPMENT, PER_ORDER = "shipment", "order"


def invoice_mode(tenant) -> str:
    """settings["invoice_per"]: "shipment" (default) or "order"."""
    return (tenant.settings or {}).get("invoice_per", PER_SHIPMENT)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _number(tenant) -> tuple[int, str]:
    sequence = next_value(tenant=tenant, name="invoice")
    prefix = (tenant.settings or {}).get("invoice_prefix", "INV-")
    return sequence, f"{prefix}{sequence:06d}"


def seller_identity(tenant) -> dict:
    """The seller block an invoice freezes, from settings["legal"].

    Keys read: `name` (the legal name; the tenant's name when absent), `legal_form`, `share_capital`,
    `address` (a dict with line1, line2, postal_code, city, country, or one string), `siren`, `siret`,
    `vat_number`, `rcs`, `email`, `phone`, and `mentions`: the texts French law wants printed on every
    invoice (payment terms, late-payment penalty rate, the fixed recovery indemnity, a VAT exemption...).
    The SIREN is derived from the SIRET when only the latter is given. Other keys are kept as they are.
    """
    legal = dict((tenant.settings or {}).get("legal") or {})
    seller = {**legal, "name": str(legal.get("name") or tenant.name)}
    siret = "".join(str(legal.get("siret") or "").split())
    if siret:
        seller["siret"] = siret
    siren = "".join(str(legal.get("siren") or "").split()) or siret[:9]
    if siren:
        seller["siren"] = siren
    mentions = legal.get("mentions") or []
    if isinstance(mentions, str):
        mentions = [mentions]
    seller = {key: value for key, value in seller.items() if value not in (None, "", {}, [])}
    seller["mentions"] = [str(text) for text in mentions if str(text).strip()]
    return seller


def _parties(tenant, order: Order) -> tuple[dict, dict]:
    seller = seller_identity(tenant)
    customer = order.customer
    buyer = {
        "name": customer.name if customer else "",
        "email": customer.email if customer else "",
        "address": order.shipping_address or {},
    }
    return seller, buyer


def _invoiced(order: Order, kind: str) -> dict:
    """Per order line: units, discount and tax already on documents of this kind."""
    rows = (
        InvoiceLine.objects.for_tenant(order.tenant)
        .filter(invoice__order=order, invoice__kind=kind)
        .values("order_line_id")
        .annotate(q=Sum("quantity"), d=Sum("discount"), t=Sum("tax"))
    )
    return {row["order_line_id"]: row for row in rows}


def _draft_line(tenant, line, quantity: int, done: dict) -> InvoiceLine:
    """The document line for `quantity` more units of an order line, `done` being what documents of the same kind
    already hold (units `q`, discount `d`, tax `t`; updated here). Pro rata of the units counted so far: the
    documents of every unit give back exactly the line's discount and tax, the last units taking the rounding
    remainder."""
    cumulative = done["q"] + quantity
    discount = share(line.discount, cumulative, line.quantity) - (done["d"] or ZERO)
    tax = share(line.tax, cumulative, line.quantity) - (done["t"] or ZERO)
    done.update(q=cumulative, d=(done["d"] or ZERO) + discount, t=(done["t"] or ZERO) + tax)
    return InvoiceLine(
        tenant=tenant,
        order_line=line,
        sku=line.sku,
        description=line.name,
        quantity=quantity,
        unit_price=line.unit_price,
        discount=discount,
        tax_rate=line.tax_rate,
        tax=tax,
        total=_round(line.unit_price * quantity - discount + tax),
    )


def issue_invoice(*, tenant: Tenant, order: Order, quantities: dict, actor: Actor, reference: str = "") -> Invoice:
    """Invoice `quantities` ({OrderLine: units}) of a locked order, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_invoice() runs inside the transaction that ships or sells")
    already = _invoiced(order, InvoiceKind.INVOICE)
    drafts = []
    for line, quantity in quantities.items():
        done = already.get(line.id, {"q": 0, "d": ZERO, "t": ZERO})
        if done["q"] + quantity > line.quantity:
            raise Conflict(f"Line {line.sku} would be invoiced beyond its {line.quantity} units.", line_id=line.id)
        drafts.append(_draft_line(tenant, line, quantity, dict(done)))
    if not drafts:
        raise ValidationFailed(errors={"lines": ["Nothing to invoice."]})
    previous = Invoice.objects.for_tenant(tenant).filter(order=order, kind=InvoiceKind.INVOICE)
    first = not previous.exists()
    goods = sum((d.unit_price * d.quantity - d.discount for d in drafts), ZERO)
    promotions = _promotions_to_apply(order, previous, cap=goods)
    shipping = order.shipping_total if first else ZERO
    shipping_tax = order.shipping_tax if first else ZERO
    subtotal = sum((d.unit_price * d.quantity for d in drafts), ZERO)
    discount_total = sum((d.discount for d in drafts), ZERO) + sum((Decimal(p["amount"]) for p in promotions), ZERO)
    tax_total = sum((d.tax for d in drafts), ZERO) + shipping_tax
    sequence, number = _number(tenant)
    seller, buyer = _parties(tenant, order)
    invoice = Invoice.objects.create(
        tenant=tenant,
        order=order,
        kind=InvoiceKind.INVOICE,
        number=number,
        sequence=sequence,
        currency=order.currency,
        seller=seller,
        buyer=buyer,
        reference=reference[:120],
        subtotal=_round(subtotal),
        discount_total=_round(discount_total),
        tax_total=_round(tax_total),
        shipping_total=shipping,
        total=_round(subtotal - discount_total + tax_total + shipping),
        promotions=promotions,
    )
    for draft in drafts:
        draft.invoice = invoice
    InvoiceLine.objects.bulk_create(drafts)
    _announce(tenant, order, invoice, actor)
    return invoice


def _promotions_to_apply(order: Order, previous, cap: Decimal) -> list[dict]:
    used = _promotion_amounts(previous)
    applied, room = [], max(cap, ZERO)
    for promotion in order.promotions or []:
        left = Decimal(promotion["amount"]) - used.get(promotion["code"], ZERO)
        take = min(left, room)
        if take > 0:
            applied.append(
                {
                    "code": promotion["code"],
                    "description": promotion.get("description", ""),
                    "amount": str(_round(take)),
                }
            )
            room -= take
    return applied


def _announce(tenant, order, invoice, actor) -> None:
    kind = EventKind.INVOICE_ISSUED if invoice.kind == InvoiceKind.INVOICE else EventKind.CREDIT_NOTE_ISSUED
    OrderEvent.objects.create(
        tenant=tenant,
        order=order,
        actor_label=actor.label[:200],
        kind=kind,
        message=f"{invoice.get_kind_display()} {invoice.number}: {invoice.total} {invoice.currency}.",
        after={"invoice_id": invoice.id, "number": invoice.number, "total": str(invoice.total)},
    )
    emit(
        tenant,
        "invoice.issued",
        {
            "invoice_id": invoice.id,
            "number": invoice.number,
            "kind": invoice.kind,
            "order_id": order.id,
            "order_number": order.number,
            "total": str(invoice.total),
            "currency": invoice.currency,
        },
    )


def issue_invoice_for_shipment_if_configured(
    *, tenant, order, lines, shipped: dict, reference: str, actor: Actor
) -> Invoice | None:
    """Per shipment: invoice what shipped. Per order: invoice everything once the whole order has shipped."""
    if invoice_mode(tenant) == PER_SHIPMENT:
        return issue_invoice(tenant=tenant, order=order, quantities=shipped, actor=actor, reference=reference)
    return _invoice_rest_if_shipped(tenant=tenant, order=order, lines=lines, actor=actor)


def issue_invoice_for_order_if_configured(*, tenant: Tenant, order, lines, actor: Actor) -> Invoice | None:
    """A sale fulfilled on the spot (store till): one invoice for the order whatever the mode."""
    return _invoice_rest_if_shipped(tenant=tenant, order=order, lines=lines, actor=actor)


def _invoice_rest_if_shipped(*, tenant: Tenant, order, lines, actor) -> Invoice | None:
    if any(line.quantity_shipped < line.quantity - line.quantity_cancelled for line in lines):
        return None
    already = _invoiced(order, InvoiceKind.INVOICE)
    rest = {line: line.quantity_shipped - already.get(line.id, {"q": 0})["q"] for line in lines}
    rest = {line: quantity for line, quantity in rest.items() if quantity > 0}
    if not rest:
        return None
    return issue_invoice(
        tenant=tenant,
        order=order,
        quantities=rest,
        actor=actor,
        reference="store sale" if order.delivery_method == DeliveryMethod.IN_STORE else "",
    )


def creditable_units(order: Order) -> dict[int, int]:
    """Order line id → units invoiced and not credited yet: what a credit note may still give back."""
    invoiced = _invoiced(order, InvoiceKind.INVOICE)
    credited = _invoiced(order, InvoiceKind.CREDIT_NOTE)
    return {line_id: row["q"] - credited.get(line_id, {"q": 0})["q"] for line_id, row in invoiced.items()}


def shipping_credited(order: Order) -> bool:
    """Whether a credit note of the order already gave its shipping charge back."""
    return (
        Invoice.objects.for_tenant(order.tenant_id)
        .filter(order=order, kind=InvoiceKind.CREDIT_NOTE, shipping_total__gt=0)
        .exists()
    )


def issue_credit_note(
    *, tenant, order_id: int, lines: list, actor: Actor, reason: str = "", refund_shipping: bool = False
) -> Invoice:
    """A credit note for returned or refunded units (`lines`: LineQuantity items) of invoiced lines, at the
    price they were invoiced (net of their pro rata discount, with their pro rata tax)."""
    with transaction.atomic():
        order = Order.objects.for_tenant(tenant).select_for_update(of=("self",)).filter(id=order_id).first()
        if order is None:
            raise NotFound("No such order.")
        named = named_lines(order, list(order.lines.all()), lines)
        invoiced = _invoiced(order, InvoiceKind.INVOICE)
        credited = _invoiced(order, InvoiceKind.CREDIT_NOTE)
        drafts, errors = [], {}
        for index, line, quantity in named:
            billed = invoiced.get(line.id, {"q": 0})["q"]
            done = credited.setdefault(line.id, {"q": 0, "d": ZERO, "t": ZERO})
            if done["q"] + quantity > billed:
                errors[f"lines[{index}].quantity"] = [f"At most {billed - done['q']} invoiced units can be credited."]
                continue
            drafts.append(_draft_line(tenant, line, quantity, done))
        if errors or not drafts:
            raise ValidationFailed(errors=errors or {"lines": ["Name at least one line."]})
        shipping = order.shipping_total if refund_shipping else ZERO
        shipping_tax = order.shipping_tax if refund_shipping else ZERO
        promotions = _promotions_to_credit(tenant, order, drafts)
        subtotal = sum((d.unit_price * d.quantity for d in drafts), ZERO)
        discount_total = sum((d.discount for d in drafts), ZERO) + sum((Decimal(p["amount"]) for p in promotions), ZERO)
        tax_total = sum((d.tax for d in drafts), ZERO) + shipping_tax
        sequence, number = _number(tenant)
        seller, buyer = _parties(tenant, order)
        note = Invoice.objects.create(
            tenant=tenant,
            order=order,
            kind=InvoiceKind.CREDIT_NOTE,
            number=number,
            sequence=sequence,
            credited_invoice=Invoice.objects.for_tenant(tenant)
            .filter(order=order, kind=InvoiceKind.INVOICE)
            .order_by("-sequence")
            .first(),
            currency=order.currency,
            seller=seller,
            buyer=buyer,
            reference=reason[:120],
            subtotal=subtotal,
            discount_total=discount_total,
            tax_total=tax_total,
            shipping_total=shipping,
            total=_round(subtotal - discount_total + tax_total + shipping),
            promotions=promotions,
        )
        for draft in drafts:
            draft.invoice = note
        InvoiceLine.objects.bulk_create(drafts)
        _announce(tenant, order, note, actor)
        return note


def _promotions_to_credit(tenant, order: Order, drafts: list) -> list[dict]:
    """The credited units' share of the promotions their invoices granted, so that a refund gives back what
    was paid rather than the price before the promotion. Counted cumulatively over the order's credit notes:
    once every invoiced unit is credited, exactly the promotions invoiced have been given back."""
    documents = Invoice.objects.for_tenant(tenant).filter(order=order)
    granted = _promotion_amounts(documents.filter(kind=InvoiceKind.INVOICE))
    if not granted:
        return []
    already = _promotion_amounts(documents.filter(kind=InvoiceKind.CREDIT_NOTE))
    net = {InvoiceKind.INVOICE: ZERO, InvoiceKind.CREDIT_NOTE: ZERO}
    for row in (
        InvoiceLine.objects.for_tenant(tenant)
        .filter(invoice__order=order)
        .values("invoice__kind", "unit_price", "quantity", "discount")
    ):
        net[row["invoice__kind"]] += row["unit_price"] * row["quantity"] - row["discount"]
    if net[InvoiceKind.INVOICE] <= 0:
        return []
    share = min(
        (net[InvoiceKind.CREDIT_NOTE] + sum((d.net for d in drafts), ZERO)) / net[InvoiceKind.INVOICE], Decimal(1)
    )
    descriptions = {p["code"]: p.get("description", "") for p in order.promotions or []}
    credited = []
    for code, amount in granted.items():
        take = _round(amount * share) - already.get(code, ZERO)
        if take > 0:
            credited.append({"code": code, "description": descriptions.get(code, ""), "amount": str(take)})
    return credited


def _promotion_amounts(documents) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for promotions in documents.values_list("promotions", flat=True):
        for item in promotions or []:
            amounts[item["code"]] = amounts.get(item["code"], ZERO) + Decimal(item["amount"])
    return amounts


def get_invoice(*, tenant: Tenant, invoice_id) -> Invoice:
    try:
        return (
            Invoice.objects.for_tenant(tenant)
            .select_related("order", "order__channel", "credited_invoice")
            .prefetch_related("lines")
            .get(id=invoice_id)
        )
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such invoice.") from None


def tax_breakdown(invoice: Invoice) -> list[dict]:
    rates: dict = {}
    for line in invoice.lines.all():
        key = line.tax_rate
        entry = rates.setdefault(key, {"rate": key, "base": ZERO, "tax": ZERO})
        entry["base"] += line.net
        entry["tax"] += line.tax
    return sorted(rates.values(), key=lambda e: (e["rate"] is None, e["rate"] or ZERO))


def address_lines(address) -> list[str]:
    """A postal address (a dict as orders carry them, or free text) as the lines to print."""
    if isinstance(address, dict):
        lines = [
            address.get("company"),
            address.get("line1"),
            address.get("line2"),
            " ".join(str(address.get(k) or "") for k in ("postal_code", "city")).strip(),
            address.get("country"),
        ]
    else:
        lines = str(address or "").splitlines()
    return [str(line).strip() for line in lines if line and str(line).strip()]


# One stylesheet for the page and the PDF: the page links it (the Content-Security-Policy refuses inline styles),
# WeasyPrint reads the file.
INVOICE_STYLESHEET = "oms/invoice.css"


def render_html(invoice: Invoice, *, request=None) -> str:
    """The invoice as an HTML document; with the request, as a page that links its stylesheet."""
    return render_to_string(
        "orders/invoice_document.html",
        {
            "invoice": invoice,
            "stylesheet": static(INVOICE_STYLESHEET) if request is not None else None,
            "lines": list(invoice.lines.all()),
            "taxes": tax_breakdown(invoice),
            "seller_address": address_lines((invoice.seller or {}).get("address")),
            "order": invoice.order,
            "printed_at": timezone.now(),
        },
        request=request,
    )


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF, laid out by WeasyPrint from the same template as the HTML page."""
    # Loaded on first use: WeasyPrint brings in Pango and fonts, which only the processes that print need.
    from weasyprint import CSS, HTML

    stylesheet = CSS(filename=finders.find(INVOICE_STYLESHEET))
    return HTML(string=render_html(invoice)).write_pdf(stylesheets=[stylesheet])
