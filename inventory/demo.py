"""Demo data for the inventory: two warehouses, six stores in French cities, 500 products with stock.

`seed_demo(tenant, stdout)` is idempotent: locations are created when missing, products are upserted by SKU,
and stock is received only into a tenant that has none yet. Stock arrives as receipt movements (and lots for
fresh goods), so `check_stock_ledger` passes on the demo. Bulk inserts keep it to a few seconds on SQLite.
"""
import random
from datetime import time, timedelta

from django.db import transaction

from inventory import services
from inventory.models import Location, Lot, MovementKind, Product, StockLevel, StockMovement
from inventory.reservations import today_for
from oms.actors import Actor

ACTOR = Actor.system("seed_demo")
EAN_PREFIX = "376"  # a GS1 France prefix

STORE_HOURS = {day: [["10:00", "19:30"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}

LOCATIONS = [
    {"code": "WH-LYON", "name": "Entrepôt Lyon Saint-Priest", "kind": "warehouse", "latitude": 45.6960,
     "longitude": 4.9440, "address": {"line1": "12 rue du Dauphiné", "postal_code": "69800", "city": "Saint-Priest",
                                      "country": "FR"},
     "ships": True, "pickup": False, "accepts_returns": True, "daily_capacity": 2500, "cutoff_time": time(15, 0)},
    {"code": "WH-LILLE", "name": "Entrepôt Lille Lesquin", "kind": "warehouse", "latitude": 50.5890,
     "longitude": 3.1110, "address": {"line1": "5 rue des Saules", "postal_code": "59810", "city": "Lesquin",
                                      "country": "FR"},
     "ships": True, "pickup": False, "accepts_returns": True, "daily_capacity": 1800, "cutoff_time": time(14, 30)},
    {"code": "PAR01", "name": "Paris Rivoli", "kind": "store", "latitude": 48.8606, "longitude": 2.3476,
     "address": {"line1": "75 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"}},
    {"code": "LYO01", "name": "Lyon Part-Dieu", "kind": "store", "latitude": 45.7606, "longitude": 4.8594,
     "address": {"line1": "17 rue du Docteur Bouchut", "postal_code": "69003", "city": "Lyon", "country": "FR"}},
    {"code": "MRS01", "name": "Marseille Vieux-Port", "kind": "store", "latitude": 43.2951, "longitude": 5.3740,
     "address": {"line1": "2 quai du Port", "postal_code": "13002", "city": "Marseille", "country": "FR"}},
    {"code": "BDX01", "name": "Bordeaux Sainte-Catherine", "kind": "store", "latitude": 44.8397,
     "longitude": -0.5736,
     "address": {"line1": "60 rue Sainte-Catherine", "postal_code": "33000", "city": "Bordeaux", "country": "FR"}},
    {"code": "NTE01", "name": "Nantes Commerce", "kind": "store", "latitude": 47.2130, "longitude": -1.5600,
     "address": {"line1": "4 place du Commerce", "postal_code": "44000", "city": "Nantes", "country": "FR"}},
    {"code": "TLS01", "name": "Toulouse Capitole", "kind": "store", "latitude": 43.6045, "longitude": 1.4440,
     "address": {"line1": "1 rue du Taur", "postal_code": "31000", "city": "Toulouse", "country": "FR"}},
]
STORE_DEFAULTS = {"ships": True, "pickup": True, "accepts_returns": True, "daily_capacity": 150,
                  "cutoff_time": time(17, 0), "opening_hours": STORE_HOURS}
WAREHOUSES = [loc["code"] for loc in LOCATIONS if loc["kind"] == "warehouse"]
STORES = [loc["code"] for loc in LOCATIONS if loc["kind"] == "store"]

# (SKU prefix, rayon, [(base name, weight in grams)], [variants]): names are base + variant.
CATALOG = [
    ("EPI", "épicerie", [
        ("Pâtes penne rigate 500 g", 500), ("Spaghetti n°5 500 g", 500), ("Riz basmati 1 kg", 1000),
        ("Riz de Camargue 1 kg", 1000), ("Café moulu pur arabica 250 g", 250), ("Café en grains 1 kg", 1000),
        ("Chocolat noir 70 % 100 g", 100), ("Chocolat au lait 100 g", 100), ("Confiture de fraises 370 g", 370),
        ("Confiture d'abricots 370 g", 370), ("Biscuits sablés 200 g", 200), ("Miel de fleurs 500 g", 500),
        ("Thé vert 20 sachets", 40), ("Muesli aux fruits 500 g", 500), ("Lentilles vertes 500 g", 500),
        ("Huile d'olive vierge extra 75 cl", 750), ("Moutarde de Dijon 210 g", 210),
        ("Farine de blé T55 1 kg", 1000), ("Sucre de canne 1 kg", 1000), ("Sel de Guérande 250 g", 250),
    ], ["bio", "format familial", "premier prix", "de nos régions", "sélection gourmet", "commerce équitable",
        "lot de 2", "recette traditionnelle", "format éco", "origine France"]),
    ("BOI", "boissons", [
        ("Eau minérale naturelle", 1500), ("Eau gazeuse", 1000), ("Jus d'orange", 1000), ("Jus de pomme", 1000),
        ("Cidre brut", 750), ("Limonade artisanale", 750), ("Sirop de menthe", 750), ("Bière blonde", 330),
        ("Thé glacé pêche", 1000), ("Nectar d'abricot", 1000),
    ], ["bio", "pack de 6", "format 50 cl", "format 1 L", "lot de 4", "origine France", "édition limitée",
        "bouteille verre"]),
    ("HYG", "hygiène", [
        ("Savon de Marseille 300 g", 300), ("Shampooing doux 250 ml", 250), ("Gel douche 250 ml", 250),
        ("Dentifrice 75 ml", 75), ("Crème hydratante 50 ml", 50), ("Déodorant 150 ml", 150),
        ("Après-shampooing 200 ml", 200), ("Lait corporel 400 ml", 400), ("Savon liquide 300 ml", 300),
        ("Baume à lèvres 4 g", 4),
    ], ["à l'huile d'olive", "au lait d'amande", "fleur d'oranger", "lavande", "sans parfum", "bio",
        "peaux sensibles", "format voyage"]),
    ("MAI", "maison", [
        ("Lessive liquide 2 L", 2000), ("Liquide vaisselle 500 ml", 500), ("Bougie parfumée 180 g", 180),
        ("Torchons coton", 200), ("Éponges grattantes", 60), ("Nettoyant multi-usage 750 ml", 750),
        ("Sacs poubelle 30 L", 300), ("Essuie-tout", 600), ("Pastilles lave-vaisselle", 800),
        ("Nettoyant vitres 500 ml", 500),
    ], ["au savon noir", "parfum citron", "parfum lavande", "écologique", "lot de 2", "lot de 3",
        "grand format", "recharge"]),
    ("TEX", "textile", [
        ("T-shirt col rond coton bio", 180), ("Marinière", 300), ("Pull col V laine", 450),
        ("Chemise Oxford", 280), ("Sweat à capuche", 550), ("Polo piqué", 220), ("Chaussettes lot de 3", 120),
        ("Pyjama coton", 400),
    ], ["blanc S", "blanc M", "blanc L", "marine S", "marine M", "marine L", "rouge M", "rouge L",
        "gris chiné M", "gris chiné L"]),
]
FRESH = [
    ("Yaourt nature 4 x 125 g", 500), ("Lait demi-écrémé 1 L", 1030), ("Camembert de Normandie AOP 250 g", 250),
    ("Jambon blanc 4 tranches", 160), ("Beurre doux 250 g", 250), ("Crème fraîche épaisse 20 cl", 200),
    ("Comté AOP 18 mois 200 g", 200), ("Œufs plein air x 6", 360), ("Fraises de Plougastel 250 g", 250),
    ("Salade iceberg", 400),
]
PRODUCT_COUNT = 500


def ean13(body12: str) -> str:
    return body12 + services.gtin_check_digit(body12)


def product_rows() -> list[dict]:
    """500 products: 10 fresh (lot-tracked) goods, then the rayons in turn, deterministic."""
    rows = [{"sku": f"FRA-{i + 1:04d}", "name": name, "weight_grams": grams, "tracks_lots": True,
             "attributes": {"rayon": "frais"}} for i, (name, grams) in enumerate(FRESH)]
    generators = []
    for prefix, rayon, bases, variants in CATALOG:
        generators.append(iter([(prefix, rayon, f"{base} {variant}", grams)
                                for variant in variants for base, grams in bases]))
    counters = {prefix: 0 for prefix, *_ in CATALOG}
    while len(rows) < PRODUCT_COUNT:
        for generator in generators:
            item = next(generator, None)
            if item is None or len(rows) >= PRODUCT_COUNT:
                continue
            prefix, rayon, name, grams = item
            counters[prefix] += 1
            rows.append({"sku": f"{prefix}-{counters[prefix]:04d}", "name": name, "weight_grams": grams,
                         "tracks_lots": False, "attributes": {"rayon": rayon}})
    for index, row in enumerate(rows):
        row["barcode"] = ean13(f"{EAN_PREFIX}{index + 1:09d}")
    return rows


def seed_demo(tenant, stdout) -> None:
    locations = _locations(tenant)
    results = services.upsert_products(tenant=tenant, actor=ACTOR,
                                       rows=[{"index": i, **row} for i, row in enumerate(product_rows())])
    created = sum(1 for r in results if r.status == "created")
    stdout.write(f"Inventory: {len(locations)} locations, {len(results)} products ({created} new).\n")
    if StockLevel.objects.for_tenant(tenant).exists():
        stdout.write("Inventory: stock already present, left as it is.\n")
        return
    rows, lots = _receive_stock(tenant, locations)
    stdout.write(f"Inventory: received stock in {rows} stock rows and {lots} lots (receipt movements written).\n")


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
    products = list(Product.objects.for_tenant(tenant).filter(sku__in=[r["sku"] for r in product_rows()])
                    .order_by("sku"))
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
                quantities[(product.id, location.id)] = 0 if out_of_stock else (
                    rng.randint(40, 400) if warehouse else rng.randint(1, 30))
    StockLevel.objects.bulk_create([
        StockLevel(tenant=tenant, product_id=pid, location_id=lid, on_hand=qty,
                   safety_stock=1 if qty and lid not in {locations[c].id for c in WAREHOUSES} and qty > 10 else 0)
        for (pid, lid), qty in quantities.items()], batch_size=1000)
    level_ids = {(pid, lid): level_id for level_id, pid, lid in
                 StockLevel.objects.for_tenant(tenant).values_list("id", "product_id", "location_id")}
    Lot.objects.bulk_create([
        Lot(tenant=tenant, stock_level_id=level_ids[key], code=f"{today:%y%m%d}-{suffix}",
            expires_on=today + timedelta(days=days), on_hand=qty)
        for key, plan in lot_plans.items() for suffix, days, qty in plan], batch_size=1000)
    lots = list(Lot.objects.for_tenant(tenant).values_list("id", "stock_level_id", "on_hand"))
    receipt = {"kind": MovementKind.RECEIPT, "reason": "demo opening stock", "reference": "seed_demo",
               "actor_label": ACTOR.label}
    lot_levels = {level_id for _, level_id, _ in lots}
    StockMovement.objects.bulk_create(
        [StockMovement(tenant=tenant, stock_level_id=level_ids[key], quantity=qty, **receipt)
         for key, qty in quantities.items() if qty and level_ids[key] not in lot_levels]
        + [StockMovement(tenant=tenant, stock_level_id=level_id, lot_id=lot_id, quantity=qty, **receipt)
           for lot_id, level_id, qty in lots], batch_size=2000)
    return len(quantities), len(lots)
