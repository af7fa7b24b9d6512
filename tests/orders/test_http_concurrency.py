"""Order intake under concurrency through a real HTTP server: gunicorn, several worker processes with threads,
clients with their own connections, against the test database.

The requests race in separate processes with their own database connections, as in production: a flash sale
sells exactly the units in stock, concurrent duplicates of one Idempotency-Key create one order, and concurrent
duplicates of one external_ref create one order and name it to the others. Never a 500, never a dropped
connection. (test_concurrency.py beside this file races the test client in one process.)
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from inventory.ledger import ledger_discrepancies
from inventory.models import Reservation, StockLevel
from oms.actors import Actor
from oms.models import IdempotencyKey
from oms.services import create_api_key
from orders.models import Order, OrderLine
from tests import factories
from tests.orders.support import build_shop, order_body, stock
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
PROBLEM = "application/problem+json"
WORKERS, THREADS = 2, 4
# Variables of the test run that would steer gunicorn away from the test database and broker.
_STEERING = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "OMS_TEST_DB_NAME",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "OMS_API_THROTTLE",
    "LOG_LEVEL",
    "DB_CONN_MAX_AGE",
    "DB_SERVER_SIDE_BINDING",
    "OMS_API_KEY_CACHE_SECONDS",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(settings_dict: dict) -> str:
    """The URL of the database this test process uses (the test database pytest-django created)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    name = quote(settings_dict["NAME"], safe="")
    if host.startswith("/"):  # a Unix socket directory
        return f"postgres://{auth}@/{name}?host={quote(host, safe='')}&port={port}"
    return f"postgres://{auth}@{host}:{port}/{name}"


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _worker_pids(master: int) -> set[int]:
    """The master's children (Linux /proc); empty where that is not readable."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return set()
    return {int(pid) for pid in children}


class Server:
    """A gunicorn process serving the test database; its stderr goes to a file, shown when something fails."""

    def __init__(self, port: int, process: subprocess.Popen, log: Path):
        self.port, self.process, self.log = port, process, log

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(env: dict, log: Path) -> Server:
    port = _free_port()
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "oms.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "gthread",
                "--threads",
                str(THREADS),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    server = Server(port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {process.returncode}):\n{server.log_tail()}")
        try:
            # Every worker up, so that the racing requests are spread over several processes.
            if _get(port, "/healthz") == 200 and len(_worker_pids(process.pid)) >= WORKERS:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def server(django_db_setup, _isolated_broker, tmp_path_factory):
    """gunicorn on a free port, against the test database and this test process's own broker database.

    API keys are created by each test after the start: a web process remembers only keys it found (for 5 s,
    by the secret's hash), never an unknown secret, so a new key is looked up on its first call."""
    env = {key: value for key, value in os.environ.items() if key not in _STEERING}
    env.update(
        DATABASE_URL=_database_url(connection.settings_dict),
        DEBUG="0",
        SECRET_KEY="http-concurrency-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        OMS_API_THROTTLE="off",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="60",
        DJANGO_SETTINGS_MODULE="oms.settings",
        PYTHONWARNINGS="ignore",
    )
    if settings.REDIS_URL:
        # Outbox events are published after commit, as in production, to the broker database of this process.
        env.update(REDIS_URL=settings.REDIS_URL, CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    log = tmp_path_factory.mktemp("gunicorn") / "stderr.log"
    server = None
    for attempt in range(3):
        try:
            server = _start(env, log)
            break
        except RuntimeError:
            # The free port can be taken by another process between our probe and gunicorn's bind.
            if attempt == 2 or "Address already in use" not in log.read_text(errors="replace"):
                raise
    try:
        assert _get(server.port, "/readyz") == 200, server.log_tail()
        yield server
    finally:
        server.stop()


@dataclass
class Answer:
    status: int
    content_type: str
    headers: dict
    body: object


def _post_together(server: Server, secret: str, posts: list[tuple[dict, dict]]) -> list:
    """POST /api/v1/orders/ once per (body, extra headers), each from its own thread on its own connection,
    all released together. Returns an Answer per post, or the exception a client met."""

    def post(index: int) -> Answer:
        body, extra = posts[index]
        headers = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **extra,
        }
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/orders/", body=json.dumps(body).encode(), headers=headers)
            response = conn.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            parsed = json.loads(raw) if raw and "json" in content_type else raw.decode(errors="replace")
            return Answer(response.status, content_type, dict(response.getheaders()), parsed)
        finally:
            conn.close()

    return race(len(posts), post)


def _checked(server: Server, answers: list) -> list[Answer]:
    """Every client got an HTTP answer, and none was a server error."""
    failed = [a for a in answers if not isinstance(a, Answer)]
    assert failed == [], f"{failed}\n{server.log_tail()}"
    errors = [a for a in answers if a.status >= 500]
    assert errors == [], f"{errors}\n{server.log_tail()}"
    return answers


def _media_type(answer: Answer) -> str:
    return answer.content_type.split(";")[0].strip()


def _secret(tenant, channel) -> str:
    return create_api_key(
        tenant=tenant, label=f"http-{factories.next_id()}", channel=channel, actor=Actor.system("tests")
    ).secret


def test_a_flash_sale_over_http_sells_exactly_the_units_in_stock_and_refuses_the_rest(tenant, server):
    shop = build_shop(tenant, code="HTTP")
    hot = factories.ProductFactory(tenant=tenant, sku="HTTP-HOT")
    stock(tenant, hot, shop.wh1, 4)
    stock(tenant, hot, shop.wh2, 3)
    units, buyers = 7, 40
    secret = _secret(tenant, shop.channel)
    posts = [
        (
            order_body(shop, external_ref=f"FLASH-{i}", lines=[{"sku": hot.sku, "quantity": 1, "unit_price": "9.99"}]),
            {"Idempotency-Key": f"flash-{i}"},
        )
        for i in range(buyers)
    ]

    answers = _checked(server, _post_together(server, secret, posts))

    assert sorted(a.status for a in answers) == [201] * units + [409] * (buyers - units), answers
    sold = [a for a in answers if a.status == 201]
    assert all(a.body["lines"][0]["sku"] == hot.sku and a.body["lines"][0]["quantity"] == 1 for a in sold)
    for refused in (a for a in answers if a.status == 409):
        assert _media_type(refused) == PROBLEM, refused
        problem = refused.body
        assert problem["type"] == "https://oms.dev/problems/insufficient_stock", problem
        assert (problem["code"], problem["status"]) == ("insufficient_stock", 409), problem
        [short] = problem["lines"]
        assert (short["sku"], short["requested"]) == (hot.sku, 1), problem
        assert 0 <= short["available"] < short["requested"], problem

    orders = Order.objects.for_tenant(tenant)
    assert sorted(orders.values_list("id", flat=True)) == sorted(a.body["id"] for a in sold)
    # A refused order takes no number: the sold ones are numbered without a gap.
    assert sorted(orders.values_list("number", flat=True)) == [f"SO-{n:06d}" for n in range(1, units + 1)]
    assert OrderLine.objects.for_tenant(tenant).filter(product=hot).aggregate(n=Sum("quantity"))["n"] == units
    levels = list(StockLevel.objects.for_tenant(tenant).filter(product=hot))
    assert sum(level.on_hand for level in levels) == units
    assert sum(level.reserved for level in levels) == units
    assert all(0 <= level.reserved <= level.on_hand for level in levels), levels
    active = Reservation.objects.for_tenant(tenant).filter(stock_level__product=hot, status="active")
    assert active.count() == active.aggregate(n=Sum("quantity"))["n"] == units
    for level in levels:
        assert (active.filter(stock_level=level).aggregate(n=Sum("quantity"))["n"] or 0) == level.reserved
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_concurrent_duplicates_of_one_idempotency_key_over_http_create_one_order(tenant, server):
    shop = build_shop(tenant, code="HTTPIDEM")
    secret = _secret(tenant, shop.channel)
    body = order_body(shop, external_ref="HTTPIDEM-1")
    duplicates = 12

    answers = _checked(server, _post_together(server, secret, [(body, {"Idempotency-Key": "one-key"})] * duplicates))

    # A duplicate waits for the first answer and replays it; one still waiting after
    # OMS_IDEMPOTENCY_WAIT_SECONDS is told 409 idempotency_in_flight with Retry-After.
    assert {a.status for a in answers} <= {201, 409}, answers
    created = [a for a in answers if a.status == 201]
    originals = [a for a in created if a.headers.get("Idempotent-Replayed") != "true"]
    assert len(originals) == 1, answers
    assert {a.body["id"] for a in created} == {originals[0].body["id"]}
    for waiting in (a for a in answers if a.status == 409):
        assert _media_type(waiting) == PROBLEM and waiting.body["code"] == "idempotency_in_flight", waiting
        assert waiting.headers.get("Retry-After"), waiting

    order = Order.objects.for_tenant(tenant).get(external_ref="HTTPIDEM-1")
    assert order.id == originals[0].body["id"]
    assert Order.objects.for_tenant(tenant).count() == 1
    assert IdempotencyKey.objects.for_tenant(tenant).filter(key="one-key", state="done").count() == 1
    # The stock of the order's lines (A x2, B x1) was reserved once.
    assert StockLevel.objects.for_tenant(tenant).filter(product=shop.a).aggregate(n=Sum("reserved"))["n"] == 2
    # The whole order at the first warehouse of the pool.
    assert StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=shop.wh1).reserved == 2
    assert StockLevel.objects.for_tenant(tenant).filter(product=shop.b).aggregate(n=Sum("reserved"))["n"] == 1
    assert Reservation.objects.for_tenant(tenant).filter(status="active").aggregate(n=Sum("quantity"))["n"] == 3

    [retry] = _checked(server, _post_together(server, secret, [(body, {"Idempotency-Key": "one-key"})]))
    assert (retry.status, retry.body["id"], retry.headers.get("Idempotent-Replayed")) == (201, order.id, "true")


def test_concurrent_posts_of_one_external_ref_over_http_create_one_order_and_name_it(tenant, server):
    shop = build_shop(tenant, code="HTTPDUP")
    secret = _secret(tenant, shop.channel)
    body = order_body(shop, external_ref="HTTPDUP-1")
    # Half of the clients send their own Idempotency-Key, half none: both paths meet the same duplicate.
    posts = [(body, {"Idempotency-Key": f"dup-{i}"} if i % 2 else {}) for i in range(10)]

    answers = _checked(server, _post_together(server, secret, posts))

    assert sorted(a.status for a in answers) == [201] + [409] * 9, answers
    order = Order.objects.for_tenant(tenant).get()
    [created] = [a for a in answers if a.status == 201]
    assert created.body["id"] == order.id
    for duplicate in (a for a in answers if a.status == 409):
        assert _media_type(duplicate) == PROBLEM, duplicate
        problem = duplicate.body
        assert (problem["type"], problem["code"]) == ("https://oms.dev/problems/conflict", "conflict"), problem
        assert (problem["order_id"], problem["number"]) == (order.id, order.number), problem
    active = Reservation.objects.for_tenant(tenant).filter(status="active")
    assert (active.count(), active.aggregate(n=Sum("quantity"))["n"]) == (2, 3)  # one per line: A x2, B x1
    assert StockLevel.objects.for_tenant(tenant).aggregate(n=Sum("reserved"))["n"] == 3
