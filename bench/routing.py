"""Routing benchmark: one command, prints figures.

    DATABASE_URL=postgres://root@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/routing.py [--only engine,allocate,lag] [--orders 500] [--profile] [--list]

The goals (issue "routing throughput"): one worker process routes and applies at least 500 orders/s with 50
candidate locations and 3-line orders; at a steady 50 orders/s through the API, the lag from intake to `allocated`
has a p99 under 1 s.

1. creates its own database (`oms_bench_routing` on the server of DATABASE_URL; `--database` names another) and
   migrates it;
2. loads one tenant with 50 locations (5 warehouses, 45 stores that ship and hand over pickups, each at the centre
   of a French departement), 3,000 SKUs stocked at every one of them with their ledger receipts (set-based SQL,
   bench/run.py's loader), a web channel whose sourcing pool is the 50 locations, and the default routing policy;
3. runs the scenarios:
   - engine: fulfillment.engine.plan_routing alone, in this process, on 3-line orders (quantities 1, 2, 1, random
     SKUs, random departements) with the 50 candidates read once from the database: plans per second;
   - allocate: N orders placed through orders.services.place_order (not timed), then allocated by
     fulfillment.services.allocation.allocate_waiting in batches (--batch) in this process, as one routing worker
     does: orders per second, time per order and per batch, SQL statements per order; beside it, measured in the
     same run, the plain-SQL floor of a 3-line order transaction with one client (shared/bench/floor.sh order, in
     the bench database) and the ratio; `--profile` prints where the time goes (by file, step and statement);
   - lag: gunicorn and a real Celery worker (queues `routing` and `default`) on Redis; orders POSTed to
     /api/v1/orders/ at a steady rate (50/s) for 20 s; for each order, `allocated_at - placed_at` (both stored on
     the order): p50, p99, max; needs REDIS_URL (give it a Redis database of its own: its queues are purged);
4. stops what it started and drops the database (keep it with --keep), on Ctrl-C too.
"""

import argparse
import cProfile
import http.client
import json
import math
import os
import pstats
import queue
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ is on the path and the repository root is not

from bench.run import (  # noqa: E402
    Scenarios,
    create_database,
    drop_database,
    free_port,
    load_data,
    percentile,
    run_floor,
    setup_django,
    start_server,
    stop_process,
)

BENCH_DB = "oms_bench_routing"
LOCATIONS = 50
ALLOCATE_GOAL = 500.0  # orders/s, one process, engine plus apply
LAG_GOAL = 1.0  # seconds, p99 at a steady 50 orders/s
QUEUES = ("routing", "default")
WORKER_LOG = Path(tempfile.gettempdir()) / "oms-bench-routing-worker.log"  # the lag scenario's worker
SCENARIOS = Scenarios()

# Where the time of an allocation goes, by the file its functions live in (the profile's own time, summed).
PROFILE_GROUPS = (
    ("fulfillment/engine.py", "routing engine (fulfillment/engine.py)"),
    ("fulfillment/selectors.py", "routing inputs (fulfillment/selectors.py)"),
    ("fulfillment/services/routing.py", "routing service (fulfillment/services/routing.py)"),
    ("fulfillment/services/policies.py", "policy (fulfillment/services/policies.py)"),
    ("fulfillment/services/allocation.py", "allocation (fulfillment/services/allocation.py)"),
    ("inventory/sourcing.py", "stock figures (inventory/sourcing.py)"),
    ("orders/services/", "order services (orders/services/)"),
    ("inventory/", "inventory (reservations, ledger)"),
    ("oms/", "platform (outbox, db helpers)"),
    ("django/db/models/", "Django ORM (query building, model instances)"),
    ("django/db/backends/", "Django database backend"),
    ("psycopg", "psycopg and the wire (waiting for PostgreSQL)"),
    ("kombu", "broker publishing (Celery, kombu, Redis)"),
    ("celery", "broker publishing (Celery, kombu, Redis)"),
    ("redis", "broker publishing (Celery, kombu, Redis)"),
)
# The steps of an allocation whose cumulative time the profile prints, in the order they run.
PROFILE_STEPS = (
    ("fulfillment/services/allocation.py", "allocate_waiting"),
    ("fulfillment/services/allocation.py", "_allocate_batch"),
    ("fulfillment/services/allocation.py", "_held_units"),
    ("fulfillment/services/policies.py", "active_policy"),
    ("fulfillment/selectors.py", "pool_snapshot"),
    ("inventory/sourcing.py", "stock_figures"),
    ("fulfillment/selectors.py", "_loads_today"),
    ("fulfillment/services/routing.py", "route_in"),
    ("fulfillment/selectors.py", "candidates"),
    ("fulfillment/engine.py", "plan_routing"),
    ("orders/services/fulfilment.py", "allocate_many"),
    ("inventory/reservations.py", "release_all"),
    ("inventory/reservations.py", "hold"),
    ("orders/services/common.py", "commit_changes"),
    ("fulfillment/services/plans.py", "record_decisions"),
    ("fulfillment/services/plans.py", "create_fulfillments_for"),
    ("oms/outbox.py", "emit_many"),
    ("oms/outbox.py", "publish"),
)


# --- pure helpers (tested) --------------------------------------------------------------------------------


def lag_summary(lags: list, *, sent: int) -> dict:
    """p50, p99 and max of the lags in seconds (None: an order that was never allocated, counted as endless, so
    that a backlog cannot hide behind the orders that made it), how many were allocated out of `sent`."""
    done = [lag for lag in lags if lag is not None]
    every = done + [math.inf] * (len(lags) - len(done))
    return {
        "sent": sent,
        "allocated": len(done),
        "p50_s": percentile(every, 50) if every else None,
        "p99_s": percentile(every, 99) if every else None,
        "max_s": max(every) if every else None,
    }


def verdict(value: float | None, goal: float, *, at_least: bool) -> str:
    """`met` or `NOT met` for a figure against its goal (at least the goal, or under it)."""
    if value is None:
        return "NOT met (no figure)"
    return "met" if (value >= goal if at_least else value < goal) else "NOT met"


def profile_groups(stats: dict, groups=PROFILE_GROUPS) -> list[tuple[str, float]]:
    """Own time (`tottime`) of a cProfile run summed by the first group whose marker is in the function's file,
    largest first; the rest as "other". `stats` is pstats.Stats(...).stats: {(file, line, name): (cc, nc, tt,
    ct, callers)}."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.items():
        path = filename.replace("\\", "/")
        label = next((label for marker, label in groups if marker in path), "other (Python, standard library)")
        totals[label] = totals.get(label, 0.0) + own
    return sorted(totals.items(), key=lambda item: -item[1])


def step_times(stats: dict, steps=PROFILE_STEPS) -> list[tuple[str, int, float]]:
    """(file:function, calls, cumulative seconds) of each step found in a cProfile run's stats, in `steps` order;
    a step defined in several places of one file is summed."""
    found = []
    for marker, name in steps:
        calls, seconds = 0, 0.0
        for (filename, _line, function), (_cc, nc, _own, cumulative, _callers) in stats.items():
            if function == name and filename.replace("\\", "/").endswith(marker):
                calls, seconds = calls + nc, seconds + cumulative
        if calls:
            found.append((f"{marker}:{name}", calls, seconds))
    return found


def statement_kind(sql: str) -> str:
    """A statement named by its verb and table: 'INSERT INTO "orders_orderevent"', 'UPDATE "inventory_stocklevel"',
    'SELECT ... FROM "inventory_stocklevel"'."""
    words = sql.split()
    verb = words[0].upper() if words else ""
    if verb == "SELECT":
        tables = [words[i + 1] for i, word in enumerate(words[:-1]) if word.upper() == "FROM"]
        return f"SELECT ... FROM {tables[0]}" if tables else "SELECT"
    if verb in ("INSERT", "UPDATE", "DELETE") and len(words) > 2:
        return " ".join(words[:3] if verb != "UPDATE" else words[:2])
    return verb


def departement_postal_codes(departements) -> list[str]:
    """A postal code in each metropolitan departement (two digits, Corsica's 2A/2B as 20xxx): where orders go."""
    codes = []
    for dep in sorted(departements):
        if dep in ("2A", "2B"):
            codes.append("20000" if dep == "2A" else "20200")
        elif len(dep) == 2 and dep.isdigit():
            codes.append(f"{dep}100")
    return codes


# --- data ---------------------------------------------------------------------------------------------------


def place_locations() -> None:
    """Put each location at the centre of a departement, spread over France (the loader gives no coordinates)."""
    from inventory.geo import DEPARTEMENTS
    from inventory.models import Location

    metropolitan = [point for dep, point in sorted(DEPARTEMENTS.items()) if len(dep) == 2]
    locations = list(Location.all_tenants.order_by("id"))
    step = max(1, len(metropolitan) // max(1, len(locations)))
    for index, location in enumerate(locations):
        location.latitude, location.longitude = (round(c, 6) for c in metropolitan[(index * step) % len(metropolitan)])
    Location.all_tenants.bulk_update(locations, ["latitude", "longitude"])


def order_body(rng: random.Random, skus: list, postal_codes: list, tag: str) -> dict:
    """A 3-line order (quantities 1, 2, 1 of random SKUs) to a random departement, as the API takes it."""
    a, b, c = rng.sample(skus, 3)
    return {
        "external_ref": f"{tag}-{uuid.uuid4().hex}",
        "currency": "EUR",
        "customer": {"email": f"c{rng.randint(1, 50000)}@example.com", "name": "Bench Customer"},
        "delivery": {
            "method": "ship",
            "address": {
                "line1": "1 rue de la Paix",
                "postal_code": rng.choice(postal_codes),
                "city": "X",
                "country": "FR",
            },
        },
        "lines": [
            {"sku": a, "quantity": 1, "unit_price": "12.50", "tax": "2.50"},
            {"sku": b, "quantity": 2, "unit_price": "7.90", "tax": "3.16"},
            {"sku": c, "quantity": 1, "unit_price": "30.00", "tax": "6.00"},
        ],
    }


def place_orders(ctx, count: int, tag: str) -> list[int]:
    """Place `count` orders through orders.services.place_order (intake, not timed): their ids."""
    from decimal import Decimal

    from oms.actors import Actor
    from orders.services import LineInput, OrderInput, place_order

    actor = Actor.system("bench")
    ids = []
    for _ in range(count):
        body = order_body(ctx.rng, ctx.skus, ctx.postal_codes, tag)
        data = OrderInput(
            channel=ctx.channel,
            external_ref=body["external_ref"],
            currency="EUR",
            lines=[
                LineInput(
                    sku=line["sku"],
                    quantity=line["quantity"],
                    unit_price=Decimal(line["unit_price"]),
                    tax=Decimal(line["tax"]),
                )
                for line in body["lines"]
            ],
            customer=body["customer"],
            address=body["delivery"]["address"],
        )
        ids.append(place_order(tenant=ctx.tenant, actor=actor, data=data).id)
    return ids


class Context:
    def __init__(self, args, data: dict, bench_url: str, redis_url: str | None):
        from channels.models import Channel
        from inventory.geo import DEPARTEMENTS
        from oms.models import Tenant

        self.args = args
        self.bench_url = bench_url
        self.redis_url = redis_url
        self.tenant = Tenant.objects.get(slug="bench")
        self.channel = Channel.objects.for_tenant(self.tenant).get(code="WEB")
        self.channel_key = data["channel_key"]
        self.skus = data["skus"]
        self.postal_codes = departement_postal_codes(DEPARTEMENTS)
        self.rng = random.Random(20261205)
        self.processes: list = []  # started by a scenario, stopped at the end whatever happens


# --- scenarios --------------------------------------------------------------------------------------------


@SCENARIOS.register("engine")
def engine(ctx: Context) -> dict:
    """fulfillment.engine.plan_routing alone on 3-line orders with 50 candidates: plans/s, p50 and p99 per plan."""
    from django.utils import timezone

    from fulfillment.engine import Line, plan_routing
    from fulfillment.selectors import destination_of, routing_candidates
    from fulfillment.services.policies import active_policy
    from inventory.models import Product
    from inventory.sourcing import today_for

    policy = active_policy(tenant=ctx.tenant)
    ids = dict(Product.objects.for_tenant(ctx.tenant).values_list("sku", "id"))
    today, now = today_for(ctx.tenant), timezone.now()
    questions = []
    for index in range(200):  # inputs read from the database once; only the engine is timed
        body = order_body(ctx.rng, ctx.skus, ctx.postal_codes, "engine")
        lines = [
            Line(key=index * 10 + n, sku=line["sku"], product_id=ids[line["sku"]], quantity=line["quantity"])
            for n, line in enumerate(body["lines"])
        ]
        candidates = routing_candidates(
            tenant=ctx.tenant, channel=ctx.channel, product_ids={line.product_id for line in lines}, now=now
        )
        destination = destination_of(address=body["delivery"]["address"])
        questions.append((lines, candidates, destination))
    assert all(len(candidates) == LOCATIONS for _, candidates, _ in questions)

    def plan(question):
        lines, candidates, destination = question
        return plan_routing(
            lines=lines,
            candidates=candidates,
            policy=policy.document,
            fulfilment_type="ship",
            channel_code=ctx.channel.code,
            today=today,
            destination=destination,
            policy_version=policy.version,
        )

    for question in questions:  # warm-up, and every plan must place the whole order
        assert not plan(question).unfilled
    timings = []
    started = time.perf_counter()
    for n in range(ctx.args.plans):
        began = time.perf_counter()
        plan(questions[n % len(questions)])
        timings.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    return {
        "plans": ctx.args.plans,
        "candidates": LOCATIONS,
        "plans_per_s": round(ctx.args.plans / elapsed),
        "p50_ms": round(percentile(timings, 50) * 1000, 3),
        "p99_ms": round(percentile(timings, 99) * 1000, 3),
        "budget_share": f"{percentile(timings, 50) * ALLOCATE_GOAL:.0%} of the 2 ms an order has at 500/s",
    }


@SCENARIOS.register("allocate")
def allocate(ctx: Context) -> dict:
    """allocate_waiting (engine plus apply, in batches as a routing worker runs it) until N placed orders are
    allocated, in one process: orders/s, time per batch, SQL statements per order; against the 1-client plain-SQL
    floor measured in the same run."""
    from django.db import connection

    from fulfillment.services.allocation import allocate_waiting
    from orders.models import Order, OrderStatus

    warmup = min(50, max(1, ctx.args.orders // 10))
    t0 = time.perf_counter()
    ids = place_orders(ctx, ctx.args.orders + warmup, "alloc")
    print(f"  placed {len(ids)} orders through place_order in {time.perf_counter() - t0:.1f} s (not timed)", flush=True)
    allocate_waiting(tenant=ctx.tenant, limit=warmup)  # the oldest: the warm-up orders
    measured = ids[warmup:]

    statements = [0]
    by_statement: dict = {}  # with --profile: seconds per statement kind, to see where the database time goes

    def count(execute, sql, params, many, context):
        statements[0] += 1
        if not ctx.args.profile:
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = statement_kind(sql)
            seconds, calls = by_statement.get(kind, (0.0, 0))
            by_statement[kind] = (seconds + time.perf_counter() - began, calls + 1)

    profiler = cProfile.Profile() if ctx.args.profile else None
    timings, decisions, lost = [], 0, 0
    with connection.execute_wrapper(count):
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        while True:
            began = time.perf_counter()
            outcome = allocate_waiting(tenant=ctx.tenant, limit=ctx.args.batch)
            if not outcome.decisions and not outcome.lost:
                break
            timings.append(time.perf_counter() - began)
            decisions += len(outcome.decisions)
            lost += len(outcome.lost)
            if lost > len(measured):
                break  # orders that cannot be placed: stop rather than loop
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
    allocated = Order.objects.for_tenant(ctx.tenant).filter(id__in=measured, status=OrderStatus.ALLOCATED).count()
    rate = allocated / elapsed
    floor = run_floor(ctx.bench_url, ctx.args.floor_seconds, 1)
    floor_async = run_floor(ctx.bench_url, ctx.args.floor_seconds, 1, "-c synchronous_commit=off")
    if profiler:
        print_profile(profiler, len(measured))
        print("  the statements, by the time they took (round trip included), per order:")
        for kind, (seconds, calls) in sorted(by_statement.items(), key=lambda item: -item[1][0])[:15]:
            print(f"    {seconds / len(measured) * 1000:7.3f} ms/order  {calls:5d} calls  {kind}")
    return {
        "profiled": "yes: the profiler slows every call, these figures are not the measure" if profiler else "no",
        "orders": len(measured),
        "allocated": allocated,
        "lost_races": lost,
        "batch": ctx.args.batch,
        "batches": len(timings),
        "orders_per_s": round(rate),
        "ms_per_order": round(elapsed / max(allocated, 1) * 1000, 2),
        "batch_p50_ms": round(percentile(timings, 50) * 1000, 1) if timings else None,
        "batch_p99_ms": round(percentile(timings, 99) * 1000, 1) if timings else None,
        "sql_per_order": round(statements[0] / max(allocated, 1), 2),
        "goal": f">= {ALLOCATE_GOAL:.0f}/s: {verdict(rate, ALLOCATE_GOAL, at_least=True)}",
        "sql_floor_1_client_per_s": round(floor) if floor else "floor.sh not found",
        "allocate_vs_floor": round(rate / floor, 3) if floor else None,
        "sql_floor_1_client_no_commit_wait_per_s": round(floor_async) if floor_async else None,
    }


def print_profile(profiler: cProfile.Profile, orders: int) -> None:
    stats = pstats.Stats(profiler)
    total = sum(own for (_cc, _nc, own, _cum, _callers) in stats.stats.values())
    print(f"  profile of the allocations: {total / orders * 1000:.2f} ms of profiled time per order, by where it goes:")
    for label, seconds in profile_groups(stats.stats):
        print(f"    {seconds / orders * 1000:7.3f} ms/order  {seconds / total:5.1%}  {label}")
    print("  cumulative time of the steps, per order (a step's time includes the steps it calls):")
    for step, calls, seconds in step_times(stats.stats):
        print(f"    {seconds / orders * 1000:7.3f} ms/order  {calls / orders:5.1f} calls/order  {step}")
    print("  the 25 functions with the most own time:")
    stats.sort_stats("tottime").print_stats(25)


@SCENARIOS.register("lag")
def lag(ctx: Context) -> dict:
    """gunicorn and a real Celery worker (routing, default) on Redis; orders POSTed at a steady rate: the lag from
    placed_at to allocated_at, p50/p99/max."""
    from django.db import connections

    from orders.models import Order

    if not ctx.redis_url:
        return {"skipped": "set REDIS_URL (a Redis database of its own) for the worker's broker"}
    purge_queues()
    connections.close_all()
    port = ctx.args.port or free_port()
    server = start_server(ctx.bench_url, port, ctx.args.web_workers, redis_url=ctx.redis_url)
    ctx.processes.append(server)
    worker = start_worker(ctx.bench_url, ctx.redis_url, ctx.args.worker_concurrency)
    ctx.processes.append(worker)
    tag = f"lag{uuid.uuid4().hex[:6]}"
    cpu_before = {"web": cpu_seconds(server.pid), "worker": cpu_seconds(worker.pid)}
    sent = post_steadily(ctx, port, tag)
    print(
        f"  posted {sent['placed']} orders in {sent['seconds']:.1f} s ({sent['placed'] / sent['seconds']:.1f}/s "
        f"against {ctx.args.rate:g}/s scheduled; POST p50 {sent['p50_ms']:.0f} ms, p99 {sent['p99_ms']:.0f} ms; "
        f"non-201 answers: {sent['failures'] or 'none'}); waiting for the worker",
        flush=True,
    )
    orders = Order.objects.for_tenant(ctx.tenant).filter(external_ref__startswith=f"{tag}-")
    deadline = time.monotonic() + ctx.args.drain_seconds
    while time.monotonic() < deadline and orders.filter(allocated_at__isnull=True).exists():
        time.sleep(0.5)
    cpu = {"web": cpu_seconds(server.pid) - cpu_before["web"], "worker": cpu_seconds(worker.pid) - cpu_before["worker"]}
    rows = list(orders.values_list("placed_at", "allocated_at"))
    lags = [(allocated - placed).total_seconds() if allocated else None for placed, allocated in rows]
    summary = lag_summary(lags, sent=sent["placed"])
    stop_process(worker)
    stop_process(server)
    placed, allocated = max(sent["placed"], 1), max(summary["allocated"], 1)
    return {
        "scheduled_per_s": ctx.args.rate,
        "posted_per_s": round(sent["placed"] / sent["seconds"], 1),
        "placed": sent["placed"],
        "allocated": summary["allocated"],
        "lag_p50_ms": _ms(summary["p50_s"]),
        "lag_p99_ms": _ms(summary["p99_s"]),
        "lag_max_ms": _ms(summary["max_s"]),
        "goal": f"p99 < {LAG_GOAL * 1000:.0f} ms: {verdict(summary['p99_s'], LAG_GOAL, at_least=False)}",
        # The worker's time also went to the events of orders it had not allocated yet: an upper bound when behind.
        "worker_cpu_ms_per_allocated_order": round(cpu["worker"] / allocated * 1000, 1),
        "web_cpu_ms_per_placed_order": round(cpu["web"] / placed * 1000, 1),
    }


def _ms(seconds: float | None):
    if seconds is None:
        return None
    return "never (not allocated)" if seconds == math.inf else round(seconds * 1000)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far: gunicorn's workers, the Celery pool."""
    import psutil

    try:
        process = psutil.Process(pid)
        total = 0.0
        for each in [process, *process.children(recursive=True)]:
            times = each.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


def purge_queues() -> None:
    from oms.celery import app

    with app.connection_for_write() as broker:
        for name in QUEUES:
            broker.default_channel.queue_purge(name)


def start_worker(bench_url: str, redis_url: str, concurrency: int):
    """A Celery worker on the routing and default queues, as production runs it: solo pool for one process."""
    import subprocess

    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    }
    pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    log_path = WORKER_LOG  # kept after the run, to read
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "oms", "worker", "-Q", ",".join(QUEUES), *pool]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if worker.poll() is not None:
            raise RuntimeError(f"the Celery worker stopped:\n{text[-2000:]}")
        if "ready." in text:
            return worker
        time.sleep(0.2)
    stop_process(worker)
    raise RuntimeError(f"the Celery worker was not ready within 60 s:\n{text[-2000:]}")


def post_steadily(ctx: Context, port: int, tag: str) -> dict:
    """POST orders at `--rate` per second for `--seconds`, each sent at its due time by one of a few clients
    (open loop: a slow answer does not delay the next order); answers' status and duration."""
    rate, seconds = ctx.args.rate, ctx.args.seconds
    total = int(rate * seconds)
    rng = random.Random(7)
    bodies = [json.dumps(order_body(rng, ctx.skus, ctx.postal_codes, tag)).encode() for _ in range(total)]
    due: queue.Queue = queue.Queue()
    results: list = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {ctx.channel_key}", "Content-Type": "application/json"}
        while True:
            item = due.get()
            if item is None:
                break
            index, body = item
            pause = start + index / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            began = time.perf_counter()
            try:
                conn.request(
                    "POST", "/api/v1/orders/", body=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            with lock:
                results.append((status, time.perf_counter() - began))
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(ctx.args.clients)]
    for thread in threads:
        thread.start()
    for index, body in enumerate(bodies):
        due.put((index, body))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ok = [seconds for status, seconds in results if status == 201]
    failures: dict = {}
    for status, _ in results:
        if status != 201:
            failures[status] = failures.get(status, 0) + 1
    return {
        "placed": len(ok),
        "seconds": elapsed,
        "p50_ms": percentile(ok, 50) * 1000 if ok else 0,
        "p99_ms": percentile(ok, 99) * 1000 if ok else 0,
        "failures": failures,
    }


# --- main -------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated scenarios (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--orders", type=int, default=500, help="orders allocated by the allocate scenario")
    parser.add_argument("--batch", type=int, default=100, help="orders per batch in the allocate scenario")
    parser.add_argument("--plans", type=int, default=5000, help="plans made by the engine scenario")
    parser.add_argument("--skus", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="profile the allocations (cProfile) and print it")
    parser.add_argument("--floor-seconds", type=int, default=5, help="duration of the 1-client SQL floor")
    parser.add_argument("--rate", type=float, default=50.0, help="orders/s posted by the lag scenario")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the lag scenario posts")
    parser.add_argument("--clients", type=int, default=32, help="HTTP clients sharing the lag scenario's schedule")
    parser.add_argument("--drain-seconds", type=float, default=30.0, help="wait this long for the last allocations")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers of the lag scenario")
    parser.add_argument(
        "--worker-concurrency", type=int, default=1, help="Celery worker processes (1: one process, solo pool)"
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--database", default=BENCH_DB, help="name of the database created for the run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
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
    redis_url = os.environ.get("REDIS_URL") or None

    started = time.perf_counter()
    print(f"load average before the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    bench_url = create_database(base_url, args.database)
    ctx, django_ready = None, False
    try:
        setup_django(bench_url, redis_url)
        django_ready = True
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        t0 = time.perf_counter()
        data = load_data(args.skus, LOCATIONS)
        place_locations()
        from fulfillment.services.policies import active_policy
        from oms.models import Tenant

        active_policy(tenant=Tenant.objects.get(slug="bench"))  # the default policy, version 1
        print(f"loaded {args.skus} SKUs x {LOCATIONS} locations in {time.perf_counter() - t0:.1f} s", flush=True)
        ctx = Context(args, data, bench_url, redis_url)
        for name in chosen:
            figures = SCENARIOS[name](ctx)
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    finally:
        for process in reversed(ctx.processes if ctx else []):
            stop_process(process)
        if django_ready:
            from django.db import connections

            if redis_url:
                try:
                    purge_queues()
                except Exception as exc:  # Redis away: nothing left to purge that matters
                    print(f"could not purge the queues: {exc}")
            connections.close_all()
        if not args.keep:
            drop_database(base_url, args.database)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
