"""Reporting benchmark: one command, prints figures.

    DATABASE_URL=postgres://root@127.0.0.1:5432/test .venv/bin/python bench/reporting.py [--orders 1000000]

The goals (issue "Reporting"): one tenant with 1,000,000 orders over a year: the full rebuild of its KPI tables
under 60 s; the incremental update after a day of 10,000 new orders under 2 s; the overview under 200 ms median.

1. creates its own database (`oms_bench_reporting` on the server of DATABASE_URL) and migrates it;
2. writes one tenant's year of history with set-based SQL: --orders orders over 365 days (2 lines each, placed,
   routed to one of 5 warehouses or a store for click & collect, shipped, delivered), their timeline events,
   routing decisions, fulfilment orders and lines and shipments (about 10 rows per order);
3. times:
   - rebuild: reporting.aggregation.rebuild_range over the year and today (a month per transaction), as
     `manage.py rebuild_kpis` does;
   - incremental: 10,000 orders placed today are written, then reporting.aggregation.update (the beat task's work);
   - overview: the KPI API for the last 30 days, and the dashboard page when it exists, through Django's test client
     in this process (no network), 30 times each: median and p90;
4. drops the database (keep it with --keep).
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ is on the path and the repository root is not

from bench.run import create_database, drop_database, refresh_statistics, setup_django  # noqa: E402

DATABASE = "oms_bench_reporting"
LOCATIONS = 5
STORES = 3
PRODUCTS = 500
DAY_ORDERS = 10_000

# One statement per table: order g is placed at `start + g * span / n`, has lines 2g-1 and 2g, decision and
# fulfilment order g, shipment g; ids are given (OVERRIDING SYSTEM VALUE) and the identities moved past them after.
_ORDERS = """
INSERT INTO orders_order (id, tenant_id, number, external_ref, channel_id, status, currency, delivery_method,
    shipping_address, service_level, subtotal, discount_total, tax_total, shipping_total, shipping_tax, total,
    promotions, payment_status, hold_kind, hold_reason, metadata, version, placed_at, created_at, updated_at,
    promise_from_client, delivered_on_time, pickup_location_id, allocated_at)
OVERRIDING SYSTEM VALUE
SELECT g, %(tenant)s, 'B-' || g, 'B-' || g, CASE WHEN g %% 3 = 0 THEN %(shop2)s ELSE %(shop)s END,
       CASE WHEN g %% 41 = 0 THEN 'cancelled' WHEN p.at + interval '5 days' > now() THEN 'fulfilled'
            ELSE 'delivered' END,
       'EUR', CASE WHEN g %% 7 = 0 THEN 'pickup' ELSE 'ship' END, '{}', '', 60, 0, 12, 0, 0, 72, '[]', 'paid', '', '',
       '{}', 1, p.at, p.at, p.at, FALSE, (g %% 9 <> 0),
       CASE WHEN g %% 7 = 0 THEN %(store)s END, p.at
FROM generate_series(%(first)s, %(last)s) g,
     LATERAL (SELECT %(start)s::timestamptz + (g - %(first)s) * %(step)s * interval '1 second' AS at) p
"""

_LINES = """
INSERT INTO orders_orderline (id, tenant_id, order_id, line_number, product_id, sku, name, status, quantity,
    quantity_allocated, quantity_backordered, quantity_shipped, quantity_delivered, quantity_cancelled,
    quantity_returned, unit_price, discount, tax, total)
OVERRIDING SYSTEM VALUE
SELECT 2 * o.id - 2 + k, %(tenant)s, o.id, k, pr.id, pr.sku, pr.name,
       CASE WHEN o.status = 'cancelled' THEN 'cancelled' ELSE 'delivered' END, 1, 0, 0,
       CASE WHEN o.status = 'cancelled' THEN 0 ELSE 1 END,
       CASE WHEN o.status = 'delivered' THEN 1 ELSE 0 END,
       CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END,
       CASE WHEN o.status = 'delivered' AND o.id %% 17 = 0 AND k = 1 THEN 1 ELSE 0 END,
       30, 0, 6, 36
FROM orders_order o CROSS JOIN generate_series(1, 2) k
JOIN LATERAL (SELECT id, sku, name FROM inventory_product WHERE tenant_id = %(tenant)s
              ORDER BY id OFFSET (o.id * 7 + k) %% %(products)s LIMIT 1) pr ON TRUE
WHERE o.tenant_id = %(tenant)s AND o.id BETWEEN %(first)s AND %(last)s
"""

_EVENTS = """
INSERT INTO orders_orderevent (tenant_id, order_id, at, actor_label, kind, message, before, after)
SELECT %(tenant)s, o.id, e.at, 'bench', e.kind, e.message, '{}', '{}'
FROM orders_order o,
LATERAL (VALUES
    ('placed', o.placed_at, ''),
    (CASE WHEN o.status = 'cancelled' THEN 'cancelled' ELSE 'shipped' END,
     o.placed_at + (o.id %% 48 + 1) * interval '1 hour',
     CASE WHEN o.status = 'cancelled' THEN 'customer_request' ELSE '' END),
    (CASE WHEN o.status = 'delivered' THEN
         CASE WHEN o.delivery_method = 'pickup' THEN 'collected' ELSE 'delivered' END END,
     o.placed_at + (o.id %% 48 + 1) * interval '1 hour' + (o.id %% 3 + 1) * interval '1 day', '')
) AS e(kind, at, message)
WHERE o.tenant_id = %(tenant)s AND o.id BETWEEN %(first)s AND %(last)s AND e.kind IS NOT NULL
"""

_DECISIONS = """
INSERT INTO fulfillment_routingdecision (id, tenant_id, order_id, kind, policy_version, plan, reasons, unfilled,
    decided_at)
OVERRIDING SYSTEM VALUE
SELECT o.id, %(tenant)s, o.id, 'initial', 1, '{}', '[]', '[]', o.placed_at
FROM orders_order o WHERE o.tenant_id = %(tenant)s AND o.id BETWEEN %(first)s AND %(last)s AND o.status <> 'cancelled'
"""

_FULFILMENTS = """
INSERT INTO fulfillment_fulfillmentorder (id, tenant_id, order_id, location_id, decision_id, status, reason,
    reject_reason, parcels, carrier, carrier_service, created_at, updated_at, pickup_attempts, pickup_code_hash,
    ready_at, closed_at)
OVERRIDING SYSTEM VALUE
SELECT o.id, %(tenant)s, o.id, COALESCE(o.pickup_location_id, (%(locations)s::bigint[])[1 + o.id %% %(n_locations)s]),
       o.id, CASE WHEN o.delivery_method = 'pickup' THEN 'collected' ELSE 'shipped' END, '', '', '[]', 'dpd', '',
       o.placed_at, o.placed_at, 0, '',
       CASE WHEN o.delivery_method = 'pickup' THEN o.placed_at + interval '2 hours' END,
       o.placed_at + (o.id %% 48 + 1) * interval '1 hour'
FROM orders_order o WHERE o.tenant_id = %(tenant)s AND o.id BETWEEN %(first)s AND %(last)s AND o.status <> 'cancelled'
"""

_FULFILMENT_LINES = """
INSERT INTO fulfillment_fulfillmentline (tenant_id, fulfillment_id, order_line_id, quantity, quantity_shipped,
    quantity_rejected, quantity_cancelled, quantity_picked)
SELECT %(tenant)s, fo.id, ol.id, ol.quantity, ol.quantity_shipped, 0, 0, ol.quantity_shipped
FROM fulfillment_fulfillmentorder fo JOIN orders_orderline ol ON ol.order_id = fo.order_id
WHERE fo.tenant_id = %(tenant)s AND fo.id BETWEEN %(first)s AND %(last)s
"""

_SHIPMENTS = """
INSERT INTO fulfillment_shipment (tenant_id, order_id, fulfillment_id, location_id, carrier, service,
    tracking_numbers, tracking_url, parcels, status, shipped_at, updated_at)
SELECT %(tenant)s, fo.order_id, fo.id, fo.location_id, 'dpd', '', '[]', '', '[]', 'delivered', fo.closed_at,
       fo.closed_at
FROM fulfillment_fulfillmentorder fo
WHERE fo.tenant_id = %(tenant)s AND fo.id BETWEEN %(first)s AND %(last)s AND fo.status = 'shipped'
"""

_IDENTITIES = ("orders_order", "orders_orderline", "fulfillment_routingdecision", "fulfillment_fulfillmentorder")


def set_up(orders: int):
    from django.core.management import call_command

    from channels.models import Channel, ChannelLocation
    from inventory.models import Location, Product
    from oms.models import Tenant

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench", default_currency="EUR", timezone="Europe/Paris")
    locations = [
        Location.objects.create(
            tenant=tenant, code=f"L{i}", name=f"Location {i}", kind="store" if i < STORES else "warehouse"
        )
        for i in range(LOCATIONS + STORES)
    ]
    shops = [Channel.objects.create(tenant=tenant, code=code, name=code, kind="web") for code in ("WEB", "MKT")]
    for shop in shops:
        for priority, location in enumerate(locations):
            ChannelLocation.objects.create(tenant=tenant, channel=shop, location=location, priority=priority)
    Product.objects.bulk_create(
        [Product(tenant=tenant, sku=f"SKU-{i:05d}", name=f"Product {i}") for i in range(PRODUCTS)]
    )
    return tenant, shops, locations


def write_orders(tenant, shops, locations, *, first: int, last: int, start, span_seconds: float) -> None:
    from django.db import connection

    warehouses = [location.id for location in locations[STORES:]]
    params = {
        "tenant": tenant.id,
        "shop": shops[0].id,
        "shop2": shops[1].id,
        "store": locations[0].id,
        "first": first,
        "last": last,
        "start": start,
        "step": span_seconds / max(last - first + 1, 1),
        "products": PRODUCTS,
        "locations": warehouses,
        "n_locations": len(warehouses),
    }
    with connection.cursor() as cursor:
        for statement in (_ORDERS, _LINES, _EVENTS, _DECISIONS, _FULFILMENTS, _FULFILMENT_LINES, _SHIPMENTS):
            cursor.execute(statement, params)
        for table in _IDENTITIES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def timed(function, repeat: int = 1) -> list[float]:
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        runs.append(time.perf_counter() - began)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args(argv)
    import os

    base = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/test")
    url = create_database(base, DATABASE)
    try:
        setup_django(url)
        from django.test import Client
        from django.urls import NoReverseMatch, reverse
        from django.utils import timezone

        from oms import rls
        from reporting import aggregation

        tenant, shops, locations = set_up(args.orders)
        now = timezone.now()
        began = time.perf_counter()
        for first in range(1, args.orders + 1, 100_000):
            last = min(first + 99_999, args.orders)
            span = 365 * 86400
            write_orders(
                tenant,
                shops,
                locations,
                first=first,
                last=last,
                start=now - timedelta(days=366) + timedelta(seconds=span * (first - 1) / args.orders),
                span_seconds=span * (last - first + 1) / args.orders,
            )
        refresh_statistics()
        print(f"wrote {args.orders} orders over a year in {time.perf_counter() - began:.1f} s (not timed)")

        today = aggregation.today_for(tenant)
        with rls.tenant(tenant.id):
            rebuild = timed(
                lambda: aggregation.rebuild_range(tenant=tenant, first=today - timedelta(days=366), last=today)
            )[0]
            aggregation.update(tenant=tenant)  # the watermark, as the beat task leaves it
        write_orders(
            tenant,
            shops,
            locations,
            first=args.orders + 1,
            last=args.orders + DAY_ORDERS,
            start=now.replace(hour=0, minute=5) if now.hour else now - timedelta(minutes=30),
            span_seconds=min(now.hour * 3600 + now.minute * 60, 86000) or 1800,
        )
        with rls.tenant(tenant.id):
            incremental = timed(lambda: aggregation.update(tenant=tenant))[0]

        from oms.actors import Actor
        from oms.services import create_api_key

        key = create_api_key(tenant=tenant, label="bench", actor=Actor.system("bench"))
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        query = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
        assert client.get("/api/v1/kpis/", query).status_code == 200
        api = timed(lambda: client.get("/api/v1/kpis/", query), repeat=30)
        figures = [
            f"orders={args.orders}",
            f"rebuild_s={rebuild:.1f} (goal < 60: {'met' if rebuild < 60 else 'NOT met'})",
            f"incremental_day_of_{DAY_ORDERS}_s={incremental:.2f} "
            f"(goal < 2: {'met' if incremental < 2 else 'NOT met'})",
            f"kpi_api_30_days_median_ms={statistics.median(api) * 1000:.1f}, p90_ms={sorted(api)[26] * 1000:.1f}",
        ]
        try:
            page = reverse("reports")
        except NoReverseMatch:
            page = None
        if page is not None:
            from django.contrib.auth import get_user_model

            from oms.models import Role
            from oms.services import set_membership

            user = get_user_model().objects.create_user(email="manager@bench.test", password="bench-password-2026")
            set_membership(tenant=tenant, user=user, role=Role.MANAGER, locations=[], actor=Actor.system("bench"))
            browser = Client()
            browser.force_login(user)
            assert browser.get(page).status_code == 200
            overview = timed(lambda: browser.get(page), repeat=30)
            median = statistics.median(overview) * 1000
            figures.append(
                f"overview_median_ms={median:.1f} (goal < 200: {'met' if median < 200 else 'NOT met'}), "
                f"p90_ms={sorted(overview)[26] * 1000:.1f}"
            )
        print("reporting: " + ", ".join(figures))
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(base, DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
