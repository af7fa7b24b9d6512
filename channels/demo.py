"""Demo channels: web shop, stores, click & collect and a marketplace, with their sourcing pools, and a low-stock
alert rule over the web shop's pool.

Run after inventory.demo (the pools name its locations). Idempotent: an existing channel is left as it is, and
the alert rule is made only when the tenant has no per-channel rule.
"""

from channels import services
from channels.models import Channel
from oms.actors import Actor

ACTOR = Actor.system("seed_demo")
WAREHOUSES = ["WH-LYON", "WH-LILLE"]
STORES = ["PAR01", "LYO01", "MRS01", "BDX01", "NTE01", "TLS01"]

CHANNELS = [
    {
        "code": "WEB",
        "name": "Boutique en ligne",
        "kind": "web",
        "locations": WAREHOUSES + STORES,
        "reservation_ttl": 900,
        "min_shelf_life_days": 2,
    },
    {"code": "STORE", "name": "Ventes en magasin", "kind": "store", "locations": STORES, "reservation_ttl": 600},
    {
        "code": "CC",
        "name": "Click & collect",
        "kind": "click_collect",
        "locations": STORES,
        "reservation_ttl": 1800,
        "min_shelf_life_days": 1,
    },
    {
        "code": "MKT",
        "name": "Marketplace",
        "kind": "marketplace",
        "locations": WAREHOUSES,
        "buffer": 10,
        "buffer_kind": "percent",
        "reservation_ttl": 900,
        "min_shelf_life_days": 3,
    },
]


def seed_demo(tenant, stdout) -> None:
    existing = set(Channel.objects.for_tenant(tenant).values_list("code", flat=True))
    created = []
    for spec in CHANNELS:
        if spec["code"] not in existing:
            services.create_channel(tenant=tenant, actor=ACTOR, **spec)
            created.append(spec["code"])
    stdout.write(f"Channels: {len(CHANNELS)} channels ({', '.join(created) or 'none'} new).\n")
    _alert_rule(tenant, stdout)


# A low-stock alert over the web shop's whole pool, on a product the shop sells a lot of.
CHANNEL_ALERT = {"sku": "EPI-0001", "channel_code": "WEB", "threshold": 50}


def _alert_rule(tenant, stdout) -> None:
    from inventory import alerts
    from inventory.models import Product, StockAlertRule

    if StockAlertRule.objects.for_tenant(tenant).filter(channel__isnull=False).exists():
        return
    if not Product.objects.for_tenant(tenant).filter(sku=CHANNEL_ALERT["sku"]).exists():
        return
    rule = alerts.save_rule(tenant=tenant, actor=ACTOR, **CHANNEL_ALERT)
    stdout.write(
        f"Channels: low-stock alert on {CHANNEL_ALERT['sku']} over {CHANNEL_ALERT['channel_code']} "
        f"(at or below {rule.threshold}{', low now' if rule.is_low else ''}).\n"
    )
