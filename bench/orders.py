"""Order intake benchmark: orders placed per second through the real HTTP stack, beside the plain-SQL floor.

    DATABASE_URL=postgres://root@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/orders.py [--seconds 15] [--clients 16] [--workers N] [--threads T] [--rounds R]
                                         [--no-idempotency-key]

1. creates its own database (`oms_bench_orders` on the server of DATABASE_URL; `--database` names another) and
   migrates it;
2. loads a tenant with 10,000 SKUs stocked in three warehouses (the web channel's sourcing pool) and a
   channel-bound API key whose own throttle rate is 10,000/s (a busy shop: the throttle runs, and never refuses);
3. starts gunicorn against it (outbox events go to Redis when REDIS_URL is set, as in production), with
   persistent database connections and prepared statements (DB_CONN_MAX_AGE=600, DB_SERVER_SIDE_BINDING=1; set
   DB_SERVER_SIDE_BINDING=0 to compare), DEBUG off and request logging at WARNING;
4. lets 16 clients POST /api/v1/orders/ back to back for the given time, each order 3 lines of random SKUs
   (quantities 1, 2, 1, like the floor) with its own Idempotency-Key, and reports orders/s, p50 and p99;
5. runs the plain-SQL floor (shared/bench/floor.sh order, same clients and duration) right after, on the
   same machine, and prints the ratio; then stops gunicorn and drops the database (keep it with --keep).
   Between the two, the same clients GET /healthz (a view that does nothing) for as long: the ceiling of the HTTP
   stack itself (gunicorn, Django's middleware, this Python load generator) on this machine, which no endpoint
   can pass (skip it with --no-ceiling).
   With --rounds R, the API and the floor are measured R times, alternately, and each round is printed: the
   machine is noisy, a ratio is only worth something beside its neighbours.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ is on the path and the repository root is not

from bench.run import refresh_statistics, run_floor  # noqa: E402

BENCH_DB = "oms_bench_orders"


def percentile(values, p: float) -> float:
    """The p-th percentile (0-100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def create_database(base_url: str, name: str = BENCH_DB) -> str:
    with _admin(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(base_url, name)


def drop_database(base_url: str, name: str = BENCH_DB) -> None:
    with _admin(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(n_skus: int, throttle_rate: str) -> dict:
    """Tenant, three warehouses with 1,000,000 units of every SKU (and their receipts), a web channel, a key."""
    from django.db import connection

    from channels.models import Channel, ChannelLocation
    from inventory.models import Location, Product, StockLevel, StockMovement
    from oms.actors import Actor
    from oms.services import create_api_key, create_tenant

    tenant = create_tenant(slug="bench", name="Bench")
    locations = Location.objects.bulk_create(
        [Location(tenant=tenant, code=f"WH{i}", name=f"Warehouse {i}", kind="warehouse") for i in range(3)]
    )
    Product.objects.bulk_create(
        [Product(tenant=tenant, sku=f"SKU{i:06d}", name=f"Product {i}") for i in range(n_skus)], batch_size=5000
    )
    levels, movements = StockLevel._meta.db_table, StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {levels} (tenant_id, product_id, location_id, on_hand, reserved, safety_stock, updated_at) "
            "SELECT %s, p.id, l.id, 1000000, 0, 0, now() FROM inventory_product p CROSS JOIN inventory_location l "
            "WHERE p.tenant_id = %s AND l.tenant_id = %s",
            [tenant.id, tenant.id, tenant.id],
        )
        cursor.execute(
            f"INSERT INTO {movements} (tenant_id, stock_level_id, kind, quantity, reason, reference, actor_label, "
            f"occurred_at, created_at) SELECT tenant_id, id, 'receipt', on_hand, 'bench load', '', 'bench', now(), "
            f"now() FROM {levels} WHERE tenant_id = %s",
            [tenant.id],
        )
    channel = Channel.objects.create(tenant=tenant, code="WEB", name="Web shop", kind="web")
    ChannelLocation.objects.bulk_create(
        [ChannelLocation(tenant=tenant, channel=channel, location=loc, priority=i) for i, loc in enumerate(locations)]
    )
    refresh_statistics()
    key = create_api_key(
        tenant=tenant, label="bench-web", channel=channel, throttle_rate=throttle_rate, actor=Actor.system("bench")
    ).secret
    return {"key": key, "skus": [f"SKU{i:06d}" for i in range(n_skus)]}


def start_gunicorn(bench_url: str, port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        "DB_SERVER_SIDE_BINDING": os.environ.get("DB_SERVER_SIDE_BINDING", "1"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "oms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped: " + server.stderr.read().decode(errors="replace")[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def order_body(rng: random.Random, skus: list) -> dict:
    a, b, c = rng.sample(skus, 3)
    return {
        "external_ref": uuid.uuid4().hex,
        "currency": "EUR",
        "customer": {"email": f"c{rng.randint(1, 50000)}@example.com", "name": "Bench Customer"},
        "delivery": {
            "method": "ship",
            "address": {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
        },
        "lines": [
            {"sku": a, "quantity": 1, "unit_price": "12.50", "tax": "2.50"},
            {"sku": b, "quantity": 2, "unit_price": "7.90", "tax": "3.16"},
            {"sku": c, "quantity": 1, "unit_price": "30.00", "tax": "6.00"},
        ],
    }


def order_request(key: str, skus: list, idempotency: bool = True):
    """A request factory: POST /api/v1/orders/ with a fresh 3-line order (and Idempotency-Key)."""

    def make(rng: random.Random):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if idempotency:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return "POST", "/api/v1/orders/", json.dumps(order_body(rng, skus)).encode(), headers

    return make


def ceiling_request(rng: random.Random):
    """GET /healthz: a view that does nothing, through the same server, middleware and client."""
    return "GET", "/healthz", None, {}


def run_clients(port: int, make_request, clients: int, seconds: float, warmup: float, expect: int = 201) -> dict:
    """`clients` threads send `make_request(rng)` back to back; only requests started after the warm-up count."""
    start = threading.Barrier(clients + 1)
    results: list[list] = [[] for _ in range(clients)]
    timing = {}

    def client(index: int):
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while time.perf_counter() < timing["end"]:
            method, path, body, headers = make_request(rng)
            began = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            if began >= timing["measure_from"]:
                results[index].append((status, time.perf_counter() - began))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    timing.update(measure_from=now + warmup, end=now + warmup + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    flat = [item for per_client in results for item in per_client]
    ok = [elapsed for status, elapsed in flat if status == expect]
    failures: dict = {}
    for status, _ in flat:
        if status != expect:
            failures[status] = failures.get(status, 0) + 1
    return {
        "placed": len(ok),
        "rate": len(ok) / seconds,
        "p50_ms": percentile(ok, 50) * 1000 if ok else None,
        "p99_ms": percentile(ok, 99) * 1000 if ok else None,
        "failures": failures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes (default: one per core)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (more than 1: gunicorn's gthread worker)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure the API and the floor this many times")
    parser.add_argument("--throttle", default="10000/s", help="the bench key's own throttle rate")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--no-idempotency-key", action="store_true", help="send orders without Idempotency-Key")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the GET /healthz round")
    parser.add_argument("--database", default=BENCH_DB, help="name of the bench database (dropped and created)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL server (the bench creates its own database there)")

    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    if not args.database.replace("_", "").isalnum():
        parser.error("--database: letters, digits and underscores only")
    bench_url = create_database(base_url, args.database)
    server = None
    try:
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        # The bench's own set-up writes its data as a trusted script, across tenants; the servers it measures run
        # behind the tenant wall, as in production (oms.rls).
        settings.OMS_RLS_DEFAULT = "all_tenants"
        from django.db import connections

        call_command("migrate", verbosity=0, interactive=False)
        data = load(args.skus, args.throttle)
        connections.close_all()
        server = start_gunicorn(bench_url, args.port, args.workers, args.threads)
        rounds = []
        for _round in range(args.rounds):
            # The floor runs while gunicorn idles: both are measured on the same machine, minutes apart at most.
            api = run_clients(
                args.port,
                order_request(data["key"], data["skus"], not args.no_idempotency_key),
                args.clients,
                args.seconds,
                args.warmup,
            )
            ceiling = (
                None
                if args.no_ceiling
                else run_clients(args.port, ceiling_request, args.clients, args.seconds, args.warmup, expect=200)
            )
            rounds.append((api, ceiling, run_floor(base_url, args.seconds, args.clients)))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            drop_database(base_url, args.database)
    workers = f"{args.workers} gunicorn workers" + (f" x {args.threads} threads" if args.threads > 1 else "")
    print(f"load average before the run: {load_before}")
    print(
        f"setting: {args.clients} clients, {workers}, 3 lines each, {args.skus} SKUs, Idempotency-Key "
        f"{'off' if args.no_idempotency_key else 'on'}, key throttle {args.throttle}, {args.seconds} s per round"
    )
    ratios = []
    for number, (api, ceiling, floor) in enumerate(rounds, start=1):
        latency = f"p50 {api['p50_ms']:.1f} ms, p99 {api['p99_ms']:.1f} ms" if api["placed"] else "no order placed"
        print(
            f"round {number}: orders API {api['rate']:.0f} orders/s ({api['placed']} placed), {latency}, "
            f"non-201 answers: {api['failures'] or 'none'}"
        )
        if ceiling:
            print(
                f"         HTTP ceiling (GET /healthz, same server and clients) {ceiling['rate']:.0f} requests/s, "
                f"p50 {ceiling['p50_ms']:.1f} ms; orders / ceiling = {api['rate'] / ceiling['rate']:.3f}"
            )
        if floor:
            ratios.append(api["rate"] / floor)
            ceiling_part = f"; ceiling / floor = {ceiling['rate'] / floor:.3f}" if ceiling else ""
            print(f"         SQL floor {floor:.0f} orders/s; API / floor = {ratios[-1]:.3f}{ceiling_part}")
        else:
            print("         SQL floor: floor.sh not found (shared/bench beside the clone)")
    if len(ratios) > 1:
        print(
            f"API / floor over {len(ratios)} rounds: median {statistics.median(ratios):.3f}, "
            f"min {min(ratios):.3f}, max {max(ratios):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
