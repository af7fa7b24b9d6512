"""OMS benchmark: one command, prints figures.

    python bench/run.py                        # every scenario
    python bench/run.py --only availability    # one (or several: --only availability,snapshot)
    python bench/run.py --list

What it does, bounded to a few minutes on a 2-core machine:
1. creates a separate database (`oms_bench`, on the server of DATABASE_URL; `--database` names another),
   migrates it;
2. loads a tenant with 10,000 SKUs x 50 locations (500,000 stock rows, each with its receipt in the ledger)
   with set-based SQL, and a web channel whose sourcing pool is the 50 locations;
3. starts gunicorn on a free local port against that database (outbox events are published to an in-memory
   broker: what the workers do afterwards is not part of the request being measured);
4. runs the named scenarios through the HTTP API with real API keys, and prints their figures;
5. stops gunicorn and drops the database (keep it with --keep).

Scenarios are functions registered with `@scenario("name")`: `fn(ctx: Context) -> dict` returning the figures
to print. `ctx` holds the base URL, a channel key and an integration key, the SKU and location codes, and
an HTTP helper (`ctx.request(method, path, body=None, key=None, headers=None) -> (status, seconds, body)`).
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "oms_bench"
FLOOR_CANDIDATES = (ROOT.parent / "shared" / "bench" / "floor.sh", Path("/work/shared/bench/floor.sh"))


# --- pure helpers (tested) --------------------------------------------------------------------------------


def percentile(values, p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between closest ranks (numpy's default); math.inf
    among the values (something that never finished) gives math.inf where the interpolation reaches it."""
    if not values:
        raise ValueError("percentile of nothing")
    if not 0 <= p <= 100:
        raise ValueError("p is between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    if rank == low or ordered[high] == ordered[low]:
        return ordered[low]  # no interpolation: also keeps an infinite value (a request that never ended) infinite
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict:
    """Median, p99 and max in milliseconds, and the request count."""
    return {
        "requests": len(seconds),
        "median_ms": round(percentile(seconds, 50) * 1000, 1),
        "p99_ms": round(percentile(seconds, 99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def database_url(base: str, name: str) -> str:
    """The same server as `base`, another database name."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class Scenarios(dict):
    """A bench's scenarios by name, in the order they were registered (`@SCENARIOS.register("name")`)."""

    def register(self, name: str):
        def add(fn):
            self[name] = fn
            return fn

        return add

    def describe(self) -> str:
        return "\n".join(f"{name}: {(fn.__doc__ or '').strip()}" for name, fn in self.items())

    def chosen(self, only: str) -> list[str]:
        """The scenarios named in `--only` (comma-separated; every one when empty); ValueError for unknown names."""
        names = [s.strip() for s in only.split(",") if s.strip()] or list(self)
        unknown = [s for s in names if s not in self]
        if unknown:
            raise ValueError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(self)}")
        return names


SCENARIOS = Scenarios()
scenario = SCENARIOS.register


# --- the run ----------------------------------------------------------------------------------------------


@dataclass
class Context:
    base_url: str
    channel_key: str
    integration_key: str
    skus: list
    locations: list
    args: argparse.Namespace
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def request(self, method: str, path: str, body=None, key: str | None = None, headers: dict | None = None):
        """One HTTP call on a kept-alive connection: (status, seconds, parsed body)."""
        parts = urlsplit(self.base_url)
        if self._connection is None:
            self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {
            "Authorization": f"Bearer {key or self.integration_key}",
            "Accept": "application/json",
            **({"Content-Type": "application/json"} if payload is not None else {}),
            **(headers or {}),
        }
        started = time.perf_counter()
        try:
            self._connection.request(method, path, body=payload, headers=all_headers)
            response = self._connection.getresponse()
            raw = response.read()
        except (http.client.HTTPException, OSError):
            self._connection.close()
            self._connection = None
            raise
        elapsed = time.perf_counter() - started
        return response.status, elapsed, json.loads(raw) if raw else None


def _admin_connection(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _checked_name(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError("a database name is letters, digits and underscores")
    return name


def create_database(base_url: str, name: str) -> str:
    with _admin_connection(base_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_checked_name(name)} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {_checked_name(name)}")
    return database_url(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    with _admin_connection(base_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_checked_name(name)} WITH (FORCE)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(bench_url: str, redis_url: str | None = None) -> None:
    """Django in this process on the bench database; Redis (broker and cache) only when `redis_url` is given, else
    outbox events are published to an in-memory broker that nobody reads."""
    os.environ["DATABASE_URL"] = bench_url
    if redis_url:
        os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
        os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # The bench's own set-up writes its data as a trusted script, across tenants; the servers and workers it
    # measures run behind the tenant wall, as in production (oms.rls).
    settings.OMS_RLS_DEFAULT = "all_tenants"


def refresh_statistics() -> None:
    """ANALYZE the bench database after its bulk load, as the tables' owner: PostgreSQL lets no one else, and
    skips them with a mere warning. Without statistics the planner takes every table for nearly empty and joins
    the 3,000 products with each pool location before it looks at the stock of the three an order wants
    (about half a second an order instead of a millisecond)."""
    from django.db import connection

    from oms import rls

    with rls.as_owner("statistics after the bench's bulk load"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def load_data(n_skus: int, n_locations: int) -> dict:
    """Tenant, locations, products, n_skus x n_locations stock rows with their ledger receipts, a channel, keys."""
    from django.db import connection

    from channels.models import Channel, ChannelLocation
    from inventory.models import Location, Product, StockLevel, StockMovement
    from oms.actors import Actor
    from oms.services import create_api_key, create_tenant

    actor = Actor.system("bench")
    tenant = create_tenant(slug="bench", name="Bench")
    warehouses = max(1, n_locations // 10)
    Location.objects.bulk_create(
        [
            Location(
                tenant=tenant,
                code=f"WH{i:02d}" if i < warehouses else f"ST{i:02d}",
                name=f"Location {i}",
                kind="warehouse" if i < warehouses else "store",
                ships=True,
                pickup=i >= warehouses,
                accepts_returns=i >= warehouses,
            )
            for i in range(n_locations)
        ]
    )
    Product.objects.bulk_create(
        [
            Product(tenant=tenant, sku=f"SKU{i:06d}", name=f"Product {i}", barcode=f"{2000000000000 + i}")
            for i in range(n_skus)
        ],
        batch_size=5000,
    )
    levels, movements = StockLevel._meta.db_table, StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {levels} (tenant_id, product_id, location_id, on_hand, reserved, safety_stock, updated_at) "
            "SELECT %s, p.id, l.id, 1 + (p.id * 7 + l.id * 13) %% 40, 0, 0, now() "
            "FROM inventory_product p CROSS JOIN inventory_location l WHERE p.tenant_id = %s AND l.tenant_id = %s",
            [tenant.id, tenant.id, tenant.id],
        )
        cursor.execute(
            f"INSERT INTO {movements} (tenant_id, stock_level_id, kind, quantity, reason, reference, actor_label, "
            "occurred_at, created_at) SELECT tenant_id, id, 'receipt', on_hand, 'bench load', '', 'bench', "
            "now() - interval '1 day', now() FROM " + levels + " WHERE tenant_id = %s",
            [tenant.id],
        )
    channel = Channel.objects.create(tenant=tenant, code="WEB", name="Web shop", kind="web")
    ChannelLocation.objects.bulk_create(
        [
            ChannelLocation(tenant=tenant, channel=channel, location=loc, priority=i)
            for i, loc in enumerate(Location.objects.for_tenant(tenant).order_by("id"))
        ]
    )
    refresh_statistics()
    return {
        "channel_key": create_api_key(tenant=tenant, label="bench-web", channel=channel, actor=actor).secret,
        "integration_key": create_api_key(tenant=tenant, label="bench-erp", actor=actor).secret,
        "skus": [f"SKU{i:06d}" for i in range(n_skus)],
        "locations": list(Location.objects.for_tenant(tenant).order_by("id").values_list("code", flat=True)),
    }


def start_server(bench_url: str, port: int, workers: int, redis_url: str | None = None) -> subprocess.Popen:
    """gunicorn on the bench database, throttling off. Outbox events go to Redis when `redis_url` is given (as in
    production, for workers to consume), else to an in-memory broker: what workers would do is not measured."""
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "OMS_API_THROTTLE": "off",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "60",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": redis_url or "memory://localhost/",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
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
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200 and server.poll() is None:
                return server
        except OSError:
            time.sleep(0.3)
    stop_process(server)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_process(process: subprocess.Popen | None, timeout: float = 20) -> None:
    """Terminate a process this bench started, and kill it if it has not stopped within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_floor(database_url: str, seconds: int, clients: int, pg_options: str = "") -> float | None:
    """The plain-SQL floor (shared/bench/floor.sh order: a 3-line order as bare SQL through pgbench) in the given
    database, with `clients` clients for `seconds`: transactions per second, or None when floor.sh is not found.
    Its f_* tables are created (and replaced) in that database. `pg_options` (PGOPTIONS) sets PostgreSQL settings
    for its sessions, e.g. "-c synchronous_commit=off"."""
    script = next((path for path in FLOOR_CANDIDATES if path.exists()), None)
    if script is None:
        return None
    parts = urlsplit(database_url)
    env = {
        **os.environ,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "root",
        "PGDATABASE": parts.path.lstrip("/") or "test",
    }
    if parts.password:
        env["PGPASSWORD"] = parts.password
    if pg_options:
        env["PGOPTIONS"] = pg_options
    out = subprocess.run(
        ["bash", str(script), "order", str(seconds), str(clients)], env=env, capture_output=True, text=True, check=True
    )
    lines = [line for line in out.stdout.strip().splitlines() if line.strip()]
    return float(lines[-1]) if lines else None


# --- scenarios --------------------------------------------------------------------------------------------


@scenario("availability")
def availability(ctx: Context) -> dict:
    """GET /api/v1/availability/ for 50 random SKUs with the channel's key, sequential requests."""
    rng = random.Random(42)
    for _ in range(10):  # warm-up: connections, caches
        ctx.request("GET", "/api/v1/availability/?skus=" + ",".join(rng.sample(ctx.skus, 50)), key=ctx.channel_key)
    timings = []
    for _ in range(ctx.args.requests):
        status, seconds, body = ctx.request(
            "GET", "/api/v1/availability/?skus=" + ",".join(rng.sample(ctx.skus, 50)), key=ctx.channel_key
        )
        if status != 200 or len(body["results"]) != 50:
            raise RuntimeError(f"availability answered {status}: {str(body)[:300]}")
        timings.append(seconds)
    return {"skus_per_request": 50, **latency_summary(timings)}


@scenario("snapshot")
def snapshot(ctx: Context) -> dict:
    """POST /api/v1/inventory/snapshots/ with 10,000 rows (absolute counts as of an hour ago), a few times."""
    rng = random.Random(7)
    warm = [{"sku": sku, "location": ctx.locations[0], "quantity": 5} for sku in ctx.skus[:10]]
    ctx.request("POST", "/api/v1/inventory/snapshots/", {"rows": warm})  # warm-up: worker imports, connection
    runs = []
    for run in range(ctx.args.snapshot_runs):
        as_of = (datetime.now(UTC) - timedelta(hours=1) + timedelta(minutes=run)).isoformat()
        pairs = rng.sample(range(len(ctx.skus) * len(ctx.locations)), 10_000)
        rows = [
            {
                "sku": ctx.skus[i // len(ctx.locations)],
                "location": ctx.locations[i % len(ctx.locations)],
                "quantity": rng.randint(0, 60),
            }
            for i in pairs
        ]
        status, seconds, body = ctx.request(
            "POST",
            "/api/v1/inventory/snapshots/",
            {"as_of": as_of, "rows": rows},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if status != 200:
            raise RuntimeError(f"snapshot answered {status}: {str(body)[:300]}")
        runs.append((seconds, body["accepted"], len(body["rejected"])))
    return {
        "rows": 10_000,
        "runs": len(runs),
        "median_s": round(statistics.median(r[0] for r in runs), 2),
        "each_s": [round(r[0], 2) for r in runs],
        "accepted": [r[1] for r in runs],
        "rejected": [r[2] for r in runs],
    }


# --- main -------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated scenarios (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300, help="availability requests measured")
    parser.add_argument("--snapshot-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--database", default=BENCH_DB, help="name of the database created for the run")
    parser.add_argument("--keep", action="store_true", help="keep the oms_bench database afterwards")
    args = parser.parse_args(argv)
    if args.list:
        print(SCENARIOS.describe())
        return 0
    try:
        chosen = SCENARIOS.chosen(args.only)
    except ValueError as unknown:
        parser.error(str(unknown))
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL server (the bench creates its own database there)")

    started = time.perf_counter()
    bench_url = create_database(base_url, args.database)
    server, django_ready = None, False
    try:
        setup_django(bench_url)
        django_ready = True
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        t0 = time.perf_counter()
        data = load_data(args.skus, args.locations)
        print(f"loaded {args.skus} SKUs x {args.locations} locations in {time.perf_counter() - t0:.1f} s", flush=True)
        from django.db import connections

        connections.close_all()
        port = args.port or free_port()
        server = start_server(bench_url, port, args.workers)
        ctx = Context(base_url=f"http://127.0.0.1:{port}", args=args, **data)
        for name in chosen:
            figures = SCENARIOS[name](ctx)
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    finally:
        stop_process(server)
        if django_ready:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            drop_database(base_url, args.database)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
