"""Demo data for the inventory: two warehouses, six stores in French cities, 500 products with stock, and the
stock operations that the pages and the stock-accuracy figures show: transfers (received, in transit, draft),
two completed cycle counts with variances (one of them lot by lot), low-stock alert rules per SKU and store.

`seed_demo(tenant, stdout)` is idempotent: locations are created when missing, products are upserted by SKU,
stock is received only into a tenant that has none yet, and transfers, counts and alert rules are made only
when the tenant has none. Every change goes through the ledger (receipt, transfer and count
movements), so `check_stock_ledger` passes on the demo. Bulk inserts keep it to a few seconds.
(The per-channel alert rule is seeded by channels.demo, once the channels exist.)
"""

import random
from datetime import time, timedelta

from django.db import transaction

from inventory import alerts, counts, services, transfers
from inventory.models import (
    CycleCount,
    Location,
    Lot,
    MovementKind,
    Product,
    StockAlertRule,
    StockLevel,
    StockMovement,
    Transfer,
)
from inventory.sourcing import today_for
from oms.actors import Actor

ACTOR = Actor.system("seed_demo")
EAN_PREFIX = "376"  # a GS1 France prefix

STORE_HOURS = {day: [["10:00", "19:30"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}

LOCATIONS = [
    {
        "code": "WH-LYON",
        "name": "Entrepôt Lyon Saint-Priest",
        "kind": "warehouse",
        "latitude": 45.6960,
        "longitude": 4.9440,
        "address": {"line1": "12 rue du Dauphiné", "postal_code": "69800", "city": "Saint-Priest", "country": "FR"},
        "ships": True,
        "pickup": False,
        "accepts_returns": True,
        "daily_capacity": 2500,
        "cutoff_time": time(15, 0),
    },
    {
        "code": "WH-LILLE",
        "name": "Entrepôt Lille Lesquin",
        "kind": "warehouse",
        "latitude": 50.5890,
        "longitude": 3.1110,
        "address": {"line1": "5 rue des Saules", "postal_code": "59810", "city": "Lesquin", "country": "FR"},
        "ships": True,
        "pickup": False,
        "accepts_returns": True,
        "daily_capacity": 1800,
        "cutoff_time": time(14, 30),
    },
    {
        "code": "PAR01",
        "name": "Paris Rivoli",
        "kind": "store",
        "latitude": 48.8606,
        "longitude": 2.3476,
        "address": {"line1": "75 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
    },
    {
        "code": "LYO01",
        "name": "Lyon Part-Dieu",
        "kind": "store",
        "latitude": 45.7606,
        "longitude": 4.8594,
        "address": {"line1": "17 rue du Docteur Bouchut", "postal_code": "69003", "city": "Lyon", "country": "FR"},
    },
    {
        "code": "MRS01",
        "name": "Marseille Vieux-Port",
        "kind": "store",
        "latitude": 43.2951,
        "longitude": 5.3740,
        "address": {"line1": "2 quai du Port", "postal_code": "13002", "city": "Marseille", "country": "FR"},
    },
    {
        "code": "BDX01",
        "name": "Bordeaux Sainte-Catherine",
        "kind": "store",
        "latitude": 44.8397,
        "longitude": -0.5736,
        "address": {"line1": "60 rue Sainte-Catherine", "postal_code": "33000", "city": "Bordeaux", "country": "FR"},
    },
    {
        "code": "NTE01",
        "name": "Nantes Commerce",
        "kind": "store",
        "latitude": 47.2130,
        "longitude": -1.5600,
        "address": {"line1": "4 place du Commerce", "postal_code": "44000", "city": "Nantes", "country": "FR"},
    },
    {
        "code": "TLS01",
        "name": "Toulouse Capitole",
        "kind": "store",
        "latitude": 43.6045,
        "longitude": 1.4440,
        "address": {"line1": "1 rue du Taur", "postal_code": "31000", "city": "Toulouse", "country": "FR"},
    },
]
STORE_DEFAULTS = {
    "ships": True,
    "pickup": True,
    "accepts_returns": True,
    "daily_capacity": 150,
    "cutoff_time": time(17, 0),
    "opening_hours": STORE_HOURS,
}
WAREHOUSES = [loc["code"] for loc in LOCATIONS if loc["kind"] == "warehouse"]
STORES = [loc["code"] for loc in LOCATIONS if loc["kind"] == "store"]

# (SKU prefix, rayon, [(base name, weight in grams)], [variants]): names are base + variant.
CATALOG = [
    (
        "EPI",
        "épicerie",
        [
            ("Pâtes penne rigate 500 g", 500),
            ("Spaghetti n°5 500 g", 500),
            ("Riz basmati 1 kg", 1000),
            ("Riz de Camargue 1 kg", 1000),
            ("Café moulu pur arabica 250 g", 250),
            ("Café en grains 1 kg", 1000),
            ("Chocolat noir 70 % 100 g", 100),
            ("Chocolat au lait 100 g", 100),
            ("Confiture de fraises 370 g", 370),
            ("Confiture d'abricots 370 g", 370),
            ("Biscuits sablés 200 g", 200),
            ("Miel de fleurs 500 g", 500),
            ("Thé vert 20 sachets", 40),
            ("Muesli aux fruits 500 g", 500),
            ("Lentilles vertes 500 g", 500),
            ("Huile d'olive vierge extra 75 cl", 750),
            ("Moutarde de Dijon 210 g", 210),
            ("Farine de blé T55 1 kg", 1000),
            ("Sucre de canne 1 kg", 1000),
            ("Sel de Guérande 250 g", 250),
        ],
        [
            "bio",
            "format familial",
            "premier prix",
            "de nos régions",
            "sélection gourmet",
            "commerce équitable",
            "lot de 2",
            "recette traditionnelle",
            "format éco",
            "origine France",
        ],
    ),
    (
        "BOI",
        "boissons",
        [
            ("Eau minérale naturelle", 1500),
            ("Eau gazeuse", 1000),
            ("Jus d'orange", 1000),
            ("Jus de pomme", 1000),
            ("Cidre brut", 750),
            ("Limonade artisanale", 750),
            ("Sirop de menthe", 750),
            ("Bière blonde", 330),
            ("Thé glacé pêche", 1000),
            ("Nectar d'abricot", 1000),
        ],
        [
            "bio",
            "pack de 6",
            "format 50 cl",
            "format 1 L",
            "lot de 4",
            "origine France",
            "édition limitée",
            "bouteille verre",
        ],
    ),
    (
        "HYG",
        "hygiène",
        [
            ("Savon de Marseille 300 g", 300),
            ("Shampooing doux 250 ml", 250),
            ("Gel douche 250 ml", 250),
            ("Dentifrice 75 ml", 75),
            ("Crème hydratante 50 ml", 50),
            ("Déodorant 150 ml", 150),
            ("Après-shampooing 200 ml", 200),
            ("Lait corporel 400 ml", 400),
            ("Savon liquide 300 ml", 300),
            ("Baume à lèvres 4 g", 4),
        ],
        [
            "à l'huile d'olive",
            "au lait d'amande",
            "fleur d'oranger",
            "lavande",
            "sans parfum",
            "bio",
            "peaux sensibles",
            "format voyage",
        ],
    ),
    (
        "MAI",
        "maison",
        [
            ("Lessive liquide 2 L", 2000),
            ("Liquide vaisselle 500 ml", 500),
            ("Bougie parfumée 180 g", 180),
            ("Torchons coton", 200),
            ("Éponges grattantes", 60),
            ("Nettoyant multi-usage 750 ml", 750),
            ("Sacs poubelle 30 L", 300),
            ("Essuie-tout", 600),
            ("Pastilles lave-vaisselle", 800),
            ("Nettoyant vitres 500 ml", 500),
        ],
        [
            "au savon noir",
            "parfum citron",
            "parfum lavande",
            "écologique",
            "lot de 2",
            "lot de 3",
            "grand format",
            "recharge",
        ],
    ),
    (
        "TEX",
        "textile",
        [
            ("T-shirt col rond coton bio", 180),
            ("Marinière", 300),
            ("Pull col V laine", 450),
            ("Chemise Oxford", 280),
            ("Sweat à capuche", 550),
            ("Polo piqué", 220),
            ("Chaussettes lot de 3", 120),
            ("Pyjama coton", 400),
        ],
        [
            "blanc S",
            "blanc M",
            "blanc L",
            "marine S",
            "marine M",
            "marine L",
            "rouge M",
            "rouge L",
            "gris chiné M",
            "gris chiné L",
        ],
    ),
]
FRESH = [
    ("Yaourt nature 4 x 125 g", 500),
    ("Lait demi-écrémé 1 L", 1030),
    ("Camembert de Normandie AOP 250 g", 250),
    ("Jambon blanc 4 tranches", 160),
    ("Beurre doux 250 g", 250),
    ("Crème fraîche épaisse 20 cl", 200),
    ("Comté AOP 18 mois 200 g", 200),
    ("Œufs plein air x 6", 360),
    ("Fraises de Plougastel 250 g", 250),
    ("Salade iceberg", 400),
]
PRODUCT_COUNT = 500


def ean13(body12: str) -> str:
    return body12 + services.gtin_check_digit(body12)


def product_rows() -> list[dict]:
    """500 products: 10 fresh (lot-tracked) goods, then the rayons in turn, deterministic."""
    rows = [
        {
            "sku": f"FRA-{i + 1:04d}",
            "name": name,
            "weight_grams": grams,
            "tracks_lots": True,
            "attributes": {"rayon": "frais"},
        }
        for i, (name, grams) in enumerate(FRESH)
    ]
    generators = []
    for prefix, rayon, bases, variants in CATALOG:
        generators.append(
            iter([(prefix, rayon, f"{base} {variant}", grams) for variant in variants for base, grams in bases])
        )
    counters = {prefix: 0 for prefix, *_ in CATALOG}
    while len(rows) < PRODUCT_COUNT:
        for generator in generators:
            item = next(generator, None)
            if item is None or len(rows) >= PRODUCT_COUNT:
                continue
            prefix, rayon, name, grams = item
            counters[prefix] += 1
            rows.append(
                {
                    "sku": f"{prefix}-{counters[prefix]:04d}",
                    "name": name,
                    "weight_grams": grams,
                    "tracks_lots": False,
                    "attributes": {"rayon": rayon},
                }
            )
    for index, row in enumerate(rows):
        row["barcode"] = ean13(f"{EAN_PREFIX}{index + 1:09d}")
    return rows


def seed_demo(tenant, stdout) -> None:
    locations = _locations(tenant)
    results = services.upsert_products(
        tenant=tenant, actor=ACTOR, rows=[{"index": i, **row} for i, row in enumerate(product_rows())]
    )
    created = sum(1 for r in results if r.status == "created")
    stdout.write(f"Inventory: {len(locations)} locations, {len(results)} products ({created} new).\n")
    if StockLevel.objects.for_tenant(tenant).exists():
        stdout.write("Inventory: stock already present, left as it is.\n")
    else:
        rows, lots = _receive_stock(tenant, locations)
        stdout.write(f"Inventory: received stock in {rows} stock rows and {lots} lots (receipt movements written).\n")
    _seed_operations(tenant, stdout)


def _locations(tenant) -> dict:
    existing = {loc.code: loc for loc in Location.objects.for_tenant(tenant)}
    for spec in LOCATIONS:
        if spec["code"] in existing:
            continue
        fields = {**(STORE_DEFAULTS if spec["kind"] == "store" else {}), **spec}
        existing[spec["code"]] = services.create_location(tenant=tenant, actor=ACTOR, **fields)
    return {code: existing[code] for code in WAREHOUSES + STORES}


@transaction.atomic
def _receive_stock(tenant, locations: dict) -> tuple[int, int]:
    rng = random.Random(20261126)
    today = today_for(tenant)
    products = list(
        Product.objects.for_tenant(tenant).filter(sku__in=[r["sku"] for r in product_rows()]).order_by("sku")
    )
    quantities, lot_plans = {}, {}
    for product in products:
        for code, location in locations.items():
            warehouse = code in WAREHOUSES
            if product.tracks_lots:
                # One lot already expired (never sold), one expiring soon, one fresh.
                plan = [("A", -1, rng.randint(1, 4)), ("B", 2, rng.randint(3, 10)), ("C", 9, rng.randint(5, 20))]
                lot_plans[(product.id, location.id)] = plan
                quantities[(product.id, location.id)] = sum(q for _, _, q in plan)
            else:
                out_of_stock = rng.random() < (0.02 if warehouse else 0.12)
                quantities[(product.id, location.id)] = (
                    0 if out_of_stock else (rng.randint(40, 400) if warehouse else rng.randint(1, 30))
                )
    # bulk_create sets the primary keys (PostgreSQL returns them), so the rows are not read back.
    levels = StockLevel.objects.bulk_create(
        [
            StockLevel(
                tenant=tenant,
                product_id=pid,
                location_id=lid,
                on_hand=qty,
                safety_stock=1 if qty and lid not in {locations[c].id for c in WAREHOUSES} and qty > 10 else 0,
            )
            for (pid, lid), qty in quantities.items()
        ],
        batch_size=1000,
    )
    level_ids = {(level.product_id, level.location_id): level.id for level in levels}
    lots = Lot.objects.bulk_create(
        [
            Lot(
                tenant=tenant,
                stock_level_id=level_ids[key],
                code=f"{today:%y%m%d}-{suffix}",
                expires_on=today + timedelta(days=days),
                on_hand=qty,
            )
            for key, plan in lot_plans.items()
            for suffix, days, qty in plan
        ],
        batch_size=1000,
    )
    receipt = {
        "kind": MovementKind.RECEIPT,
        "reason": "demo opening stock",
        "reference": "seed_demo",
        "actor_label": ACTOR.label,
    }
    lot_levels = {lot.stock_level_id for lot in lots}
    StockMovement.objects.bulk_create(
        [
            StockMovement(tenant=tenant, stock_level_id=level_ids[key], quantity=qty, **receipt)
            for key, qty in quantities.items()
            if qty and level_ids[key] not in lot_levels
        ]
        + [
            StockMovement(
                tenant=tenant, stock_level_id=lot.stock_level_id, lot_id=lot.id, quantity=lot.on_hand, **receipt
            )
            for lot in lots
        ],
        batch_size=2000,
    )
    return len(quantities), len(lots)


# --- stock operations -----------------------------------------------------------------------------------------

# (source, destination, what happens, note); the SKUs are picked among those the source holds plenty of.
TRANSFERS = [
    ("WH-LYON", "PAR01", "received", "Réassort hebdomadaire Paris"),
    ("WH-LILLE", "LYO01", "in_transit", "Réassort Lyon, camion du jeudi"),
    ("WH-LYON", "MRS01", "draft", "Préparation opération été"),
]
# (store, plain SKUs counted, counted minus on hand for each in turn, whether a fresh product is counted by lot)
COUNTS = [
    ("PAR01", 8, [0, -2, 0, 1, 0, -1, 0, 0], True),
    ("LYO01", 6, [0, 0, -3, 0, 2, 0], False),
]
# Low-stock thresholds per SKU and store: a few plain SKUs at the first stores (a store holds 0 to 30 units of
# each, so some rules are low at once).
ALERT_STORES = ["PAR01", "LYO01", "MRS01"]
ALERT_SKUS = 3
ALERT_THRESHOLD = 5


def _seed_operations(tenant, stdout) -> None:
    if not Transfer.objects.for_tenant(tenant).exists():
        made = [_demo_transfer(tenant, *spec) for spec in TRANSFERS]
        stdout.write(f"Inventory: transfers {', '.join(t.number + ' (' + t.status + ')' for t in made)}.\n")
    if not CycleCount.objects.for_tenant(tenant).exists():
        made = [_demo_count(tenant, *spec) for spec in COUNTS]
        stdout.write(f"Inventory: completed counts {', '.join(c.number for c in made)} (variances posted).\n")
    if not StockAlertRule.objects.for_tenant(tenant).filter(location__isnull=False).exists():
        stdout.write(f"Inventory: {_demo_alert_rules(tenant)} low-stock alert rules per SKU and store.\n")


def _plenty(tenant, location_code: str, how_many: int, *, offset: int = 0, minimum: int = 40) -> list[Product]:
    """Plain (not lot-tracked) products with at least `minimum` unreserved units at the location, by SKU."""
    levels = (
        StockLevel.objects.for_tenant(tenant)
        .filter(location__code=location_code, product__tracks_lots=False, on_hand__gte=minimum)
        .select_related("product")
        .order_by("product__sku")
    )
    picked = [level.product for level in levels if level.on_hand - level.reserved >= minimum]
    return picked[offset : offset + how_many]


def _demo_transfer(tenant, source: str, destination: str, outcome: str, note: str) -> Transfer:
    offset = {"PAR01": 0, "LYO01": 4, "MRS01": 8}.get(destination, 0)
    lines = [(product.sku, 6 + 2 * i) for i, product in enumerate(_plenty(tenant, source, 4, offset=offset))]
    transfer = transfers.create_transfer(
        tenant=tenant, actor=ACTOR, source=source, destination=destination, lines=lines, note=note
    )
    if outcome in ("in_transit", "received"):
        transfers.ship_transfer(tenant=tenant, actor=ACTOR, transfer_id=transfer.id)
    if outcome == "received":
        # One carton short on the last line: recorded on the line as lost in transit.
        last_sku, last_quantity = lines[-1]
        transfers.receive_transfer(
            tenant=tenant, actor=ACTOR, transfer_id=transfer.id, received={last_sku: last_quantity - 1}
        )
    transfer.refresh_from_db()
    return transfer


def _demo_count(tenant, store: str, how_many: int, deltas: list[int], with_lots: bool) -> CycleCount:
    levels = list(
        StockLevel.objects.for_tenant(tenant)
        .filter(location__code=store, product__tracks_lots=False, on_hand__gt=3)
        .select_related("product")
        .order_by("product__sku")[:how_many]
    )
    counted = [
        counts.Counted(level.product.sku, max(level.on_hand + delta, level.reserved))
        for level, delta in zip(levels, deltas, strict=False)
    ]
    if with_lots:
        fresh = (
            StockLevel.objects.for_tenant(tenant)
            .filter(location__code=store, product__tracks_lots=True)
            .select_related("product")
            .order_by("product__sku")
            .first()
        )
        if fresh is not None:
            # The expired lot is thrown away, the others are found as recorded (the last one with a unit more).
            lots = list(fresh.lots.order_by("expires_on", "code"))
            for index, lot in enumerate(lots):
                units = lot.reserved if index == 0 else lot.on_hand + (1 if index == len(lots) - 1 else 0)
                counted.append(counts.Counted(fresh.product.sku, units, lot=lot.code))
    return counts.count_and_post(
        tenant=tenant, actor=ACTOR, location=store, counted=counted, note="Inventaire tournant"
    )


def _demo_alert_rules(tenant) -> int:
    saved = 0
    for index, store in enumerate(ALERT_STORES):
        products = (
            Product.objects.for_tenant(tenant)
            .filter(tracks_lots=False, stock_levels__location__code=store)
            .order_by("sku")[index * ALERT_SKUS : (index + 1) * ALERT_SKUS]
        )
        for product in products:
            alerts.save_rule(
                tenant=tenant, actor=ACTOR, sku=product.sku, location_code=store, threshold=ALERT_THRESHOLD
            )
            saved += 1
    return saved
