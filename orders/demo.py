"""Demo orders for `manage.py seed_demo`: about fifty orders in every state, placed through the services.

Idempotent: orders are keyed by their external reference (DEMO-0001...), so a second run adds nothing. It
builds on the catalog, stock and channels of the earlier demo modules and skips what they did not provide.
The demo tenant also gets the seller's legal identity its invoices print (settings["legal"]), unless it has one.
"""

import dataclasses
import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels.models import Channel, ChannelKind
from inventory.models import LocationKind, StockLevel
from oms.actors import Actor
from oms.api.scope import Scope
from oms.db import LOCK_ROW
from oms.errors import DomainError
from oms.models import Tenant
from orders import services
from orders.amounts import CENT
from orders.models import DeliveryMethod, HoldKind, Order

ACTOR = Actor.system("demo")

VAT_RATE = Decimal("20")
COUNT = 50
CUSTOMERS = [
    ("camille.durand@example.fr", "Camille Durand"),
    ("louis.moreau@example.fr", "Louis Moreau"),
    ("lea.girard@example.fr", "Léa Girard"),
    ("hugo.roux@example.fr", "Hugo Roux"),
    ("manon.fournier@example.fr", "Manon Fournier"),
    ("jules.lambert@example.fr", "Jules Lambert"),
    ("chloe.bonnet@example.fr", "Chloé Bonnet"),
    ("nathan.faure@example.fr", "Nathan Faure"),
]
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("33000", "Bordeaux"), ("59000", "Lille")]
# What happens to each demo order after it is placed, cycling over the fifty (fulfillment.demo takes the placed
# orders on from there: routing, shipping, delivery).
SCENARIOS = (
    "placed",
    "allocated",
    "partially_fulfilled",
    "fulfilled",
    "delivered",
    "completed",
    "cancelled",
    "on_hold",
    "lines_cancelled",
    "placed",
    "allocated",
    "delivered",
    "pickup",
    "in_store",
)


# What a French invoice must show about the seller (a fictitious company; the numbers pass their checksums).
LEGAL = {
    "name": "Maison Demo SAS",
    "legal_form": "SAS",
    "share_capital": "50 000 €",
    "address": {"line1": "12 rue de la République", "postal_code": "69002", "city": "Lyon", "country": "FR"},
    "siren": "123456782",
    "siret": "12345678200010",
    "vat_number": "FR11123456782",
    "rcs": "RCS Lyon 123 456 782",
    "email": "facturation@maison-demo.example",
    "mentions": [
        "Facture payable à réception. Pas d'escompte pour paiement anticipé.",
        "En cas de retard de paiement, des pénalités sont dues au taux de trois fois le taux d'intérêt légal "
        "(art. L441-10 du Code de commerce), ainsi qu'une indemnité forfaitaire de 40 € pour frais de "
        "recouvrement pour les clients professionnels (art. D441-5).",
    ],
}


def seed_legal_identity(tenant, stdout) -> None:
    """Give the tenant the seller identity its invoices need, unless it already has one."""
    with transaction.atomic():
        row = Tenant.objects.select_for_update(**LOCK_ROW).get(id=tenant.id)
        if (row.settings or {}).get("legal"):
            tenant.settings = row.settings
            return
        row.settings = {**(row.settings or {}), "legal": LEGAL}
        row.save(update_fields=["settings"])
    tenant.settings = row.settings
    stdout.write(f"  invoices name the seller {LEGAL['name']} (SIREN {LEGAL['siren']}).")


def _sellable_skus(tenant, locations) -> list:
    rows = (
        StockLevel.objects.for_tenant(tenant)
        .filter(location__in=locations, product__active=True, on_hand__gte=F("reserved") + 6)
        .select_related("product")
        .order_by("product__sku")
    )
    return sorted({row.product.sku: row.product for row in rows}.values(), key=lambda p: p.sku)


def _lines(rng, products) -> list:
    """Lines before tax: the tax depends on the promotion, which is drawn afterwards."""
    chosen = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
    out = []
    for product in chosen:
        price = Decimal(rng.choice(["9.90", "14.50", "24.00", "39.90", "59.00", "89.00"]))
        quantity = rng.randint(1, 2)
        out.append(services.LineInput(sku=product.sku, quantity=quantity, unit_price=price, tax_rate=VAT_RATE))
    return out


def _vat(amount: Decimal) -> Decimal:
    return (amount * VAT_RATE / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _taxed(lines: list, promotion: Decimal) -> list:
    """VAT on what the customer pays, as a shop's checkout computes it before sending the order: each line's
    amount less its share of the order's promotion (pro rata of the line amounts, the last line taking the
    rounding remainder). OMS takes these taxes as sent."""
    amounts = [line.unit_price * line.quantity - line.discount for line in lines]
    total, left, taxed = sum(amounts), promotion, []
    for index, (line, amount) in enumerate(zip(lines, amounts, strict=True)):
        share = left if index == len(lines) - 1 else (promotion * amount / total).quantize(CENT)
        left -= share
        taxed.append(dataclasses.replace(line, tax=_vat(amount - share)))
    return taxed


def seed_demo(tenant, stdout) -> None:
    seed_legal_identity(tenant, stdout)
    channels = list(
        Channel.objects.for_tenant(tenant).filter(active=True).prefetch_related("pool__location").order_by("code")
    )
    selling = [c for c in channels if c.kind != ChannelKind.STORE and c.pool.exists()]
    stores = [c for c in channels if c.kind == ChannelKind.STORE and c.pool.exists()]
    if not selling:
        stdout.write("  no active channel with a sourcing pool: no demo orders.")
        return
    existing = set(
        Order.objects.for_tenant(tenant).filter(external_ref__startswith="DEMO-").values_list("external_ref", flat=True)
    )
    rng = random.Random(20261126)
    created = skipped = 0
    for index in range(1, COUNT + 1):
        reference = f"DEMO-{index:04d}"
        scenario = SCENARIOS[(index - 1) % len(SCENARIOS)]
        # Draw the same numbers whether or not the order exists, so reruns stay in step.
        channel = selling[index % len(selling)]
        email, name = CUSTOMERS[index % len(CUSTOMERS)]
        postal_code, city = rng.choice(CITIES)
        seed = rng.random()
        if reference in existing:
            continue
        try:
            order = _place(
                tenant, reference, scenario, channel, stores, email, name, postal_code, city, random.Random(seed)
            )
        except DomainError as exc:
            skipped += 1
            stdout.write(f"  {reference} skipped: {exc.detail}")
            continue
        if order is None:
            skipped += 1
            continue
        Order.objects.for_tenant(tenant).filter(id=order.id).update(
            placed_at=timezone.now() - timedelta(hours=(COUNT - index) * 7)
        )
        _advance(tenant, order, scenario)
        created += 1
    stdout.write(f"  {created} demo order(s) created, {len(existing)} already there, {skipped} skipped.")


def _place(tenant, reference, scenario, channel, stores, email, name, postal_code, city, rng):
    data = services.OrderInput(
        channel=channel,
        external_ref=reference,
        currency=tenant.default_currency,
        lines=[],
        customer={"email": email, "name": name},
        service_level="standard",
        payment_status="paid",
        metadata={"demo": True},
    )
    if scenario == "in_store":
        if not stores:
            return None
        data.channel = stores[0]
        data.delivery_method = DeliveryMethod.IN_STORE
        store = next((cl.location for cl in stores[0].pool.all() if cl.location.kind == LocationKind.STORE), None)
        if store is None:
            return None
        data.location_code = store.code
        locations = [store]
    elif scenario == "pickup":
        pickup = next((cl.location for cl in channel.pool.all() if cl.location.pickup), None)
        if pickup is None:
            return None
        data.delivery_method = DeliveryMethod.PICKUP
        data.location_code = pickup.code
        locations = [pickup]
    else:
        data.address = {
            "name": name,
            "line1": f"{rng.randint(1, 120)} rue de la République",
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
        }
        locations = [cl.location for cl in channel.pool.all()]
    products = _sellable_skus(tenant, locations)
    if not products:
        return None
    data.lines = _lines(rng, products)
    if scenario == "on_hold":
        data.hold_kind, data.hold_reason = HoldKind.FRAUD, "Billing and shipping countries differ."
    if rng.random() < 0.3:
        data.promotions = [
            services.PromotionInput(code="BIENVENUE", description="-5 € first order", amount=Decimal("5.00"))
        ]
        data.shipping_amount = Decimal("4.90")
        data.shipping_tax = _vat(data.shipping_amount)
    data.lines = _taxed(data.lines, sum((p.amount for p in data.promotions), Decimal("0")))
    return services.place_order(tenant=tenant, actor=ACTOR, data=data)


def _advance(tenant, order, scenario) -> None:
    """What happens to the order on the orders side; routing, shipping and delivery are fulfillment.demo's."""
    first = order.lines_list[0]
    if scenario == "cancelled":
        services.cancel_order(
            scope=Scope(tenant=tenant, actor=ACTOR), order_id=order.id, reason="Customer changed their mind."
        )
    if scenario == "lines_cancelled":
        services.cancel_order(
            scope=Scope(tenant=tenant, actor=ACTOR),
            order_id=order.id,
            reason="One item no longer wanted.",
            lines=[services.LineQuantity(first.id, 1)],
        )


def scenario_of(reference: str) -> str | None:
    """The scenario of a demo order by its reference (DEMO-0001 …), None for any other order."""
    number = reference.removeprefix("DEMO-")
    if number == reference or not number.isdigit():
        return None
    return SCENARIOS[(int(number) - 1) % len(SCENARIOS)]
