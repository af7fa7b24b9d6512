"""`python -m oms.demo` (what `make demo` runs): the whole system on one machine, as a new user starts it.

With neither DATABASE_URL nor REDIS_URL, in a fresh demo folder, on a free port: the launcher starts the embedded
PostgreSQL, migrates, seeds, and serves the sign-in page; a Celery worker runs. An order placed with the demo's
published key reaches the demo's webhook receiver, signed: the outbox, the file broker, the worker and the webhook
delivery all work. Ctrl-C stops everything, leaving no process, PID file or PostgreSQL behind. Started again on
the same folder, the demo answers to the same key and still has the order.
"""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings

from oms import demo
from oms.demo import embedded

pytestmark = [pytest.mark.demo, pytest.mark.xdist_group("demo")]

BASE_DIR = Path(settings.BASE_DIR)
# What the test run sets and a new user's shell does not.
_STEERING = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "OMS_TEST_DB_NAME",
    "OMS_DEMO",
    "OMS_DEMO_DIR",
    "OMS_PUBLIC_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "HOST",
    "PORT",
    "OMS_WEBHOOK_ALLOW_PRIVATE",
    "OMS_API_THROTTLE",
    "DJANGO_SETTINGS_MODULE",
)
FIRST_START = 300.0  # initdb, migrate and the demo data, on a machine busy with the rest of the suite
CANDIDATE_SKUS = [f"EPI-{number:04d}" for number in range(1, 11)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Demo:
    """One launcher, as `make demo` starts it, its output in a file."""

    def __init__(self, folder: Path, port: int, log: Path):
        self.folder, self.port, self.log_path = folder, port, log
        env = {key: value for key, value in os.environ.items() if key not in _STEERING}
        env.update(OMS_DEMO_DIR=str(folder), PORT=str(port), PYTHONWARNINGS="ignore")
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms.demo"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the launcher exited ({self.process.returncode}) while waiting for {what}:\n"
                    + self.output()[-6000:]
                )
            value = condition()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}:\n" + self.output()[-6000:])

    def get(self, path: str, opener=None, headers=None) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers={"Accept-Language": "en", **(headers or {})})
        try:
            with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError:
            return 0, ""

    def api(self, method: str, path: str, body=None, key: str = demo.API_KEY) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": secrets.token_hex(8),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def signed_in(self, email: str = "admin@demo.test"):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        _status, page = self.get("/login/", opener)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": email, "password": demo.PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        with opener.open(urllib.request.Request(self.url + "/login/", data=form), timeout=10) as response:
            assert "/login/" not in response.url, "the demo sign-in failed"
        return opener

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def started(self, word: str) -> list[psutil.Process]:
        """The processes the launcher started whose command has `word` (worker, beat, gunicorn)."""
        found = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if word in child.cmdline():
                    found.append(child)
            except psutil.NoSuchProcess:
                pass
        return found

    def interrupt(self, timeout: float = 90.0) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self):
        if self.process.poll() is None:
            for child in self.descendants():
                child.kill()
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()


def _gone(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return left


def _groups_empty(pgids: set[int]) -> bool:
    for pgid in pgids:
        try:
            os.killpg(pgid, 0)
            return False
        except ProcessLookupError:
            pass
    return True


def _receiver_row(demo_run: Demo, opener, external_ref: str) -> str | None:
    _status, page = demo_run.get("/demo/webhooks/", opener)
    for row in page.split("<tr>"):
        if external_ref in row and "order.placed" in row and ">Verified<" in row:
            return row
    return None


@pytest.fixture
def launched(tmp_path):
    runs = []

    def launch(folder: Path, port: int) -> Demo:
        run = Demo(folder, port, tmp_path / f"launcher-{len(runs) + 1}.log")
        runs.append(run)
        return run

    yield launch
    for run in runs:
        run.kill()
    if embedded.postmaster_pid(tmp_path / "demo") is not None:
        embedded.stop_server(tmp_path / "demo")


def test_the_demo_runs_the_real_system_and_stops_cleanly_keeping_its_data(tmp_path, launched):
    folder, port = tmp_path / "demo", _free_port()
    first = launched(folder, port)
    first.wait_until(lambda: first.get("/login/")[0] == 200, FIRST_START, "the sign-in page")

    # On the embedded PostgreSQL of the demo folder, with a Celery worker and beat beside the web server.
    postmaster = embedded.postmaster_pid(folder)
    assert postmaster is not None
    children = first.descendants()
    assert len(first.started("worker")) == 1 and len(first.started("beat")) == 1, children
    assert (folder / "launcher.pid").read_text().strip() == str(first.process.pid)
    assert f"{first.url}/" in first.output() and demo.API_KEY in first.output()

    # A second launcher on the same folder refuses to start.
    second = subprocess.run(
        [sys.executable, "-m", "oms.demo"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **{k: v for k, v in os.environ.items() if k not in _STEERING},
            "OMS_DEMO_DIR": str(folder),
            "PORT": str(_free_port()),
        },
    )
    assert second.returncode == 1
    assert "already running" in second.stdout and str(first.process.pid) in second.stdout

    # An order placed with the published key reaches the demo's receiver, signed.
    _status, availability = first.api("GET", "/api/v1/availability/?skus=" + ",".join(CANDIDATE_SKUS))
    sku = next(row["sku"] for row in availability["results"] if row["available"] >= 1)
    external_ref = f"DEMO-TEST-{secrets.token_hex(4)}"
    status, order = first.api(
        "POST",
        "/api/v1/orders/",
        {
            "external_ref": external_ref,
            "currency": "EUR",
            "customer": {"email": "jane.doe@example.com", "name": "Jane Doe"},
            "delivery": {
                "method": "ship",
                "address": {
                    "name": "Jane Doe",
                    "line1": "1 rue de Rivoli",
                    "postal_code": "75001",
                    "city": "Paris",
                    "country": "FR",
                },
            },
            "lines": [{"sku": sku, "quantity": 1, "unit_price": "9.90"}],
        },
    )
    assert status == 201, order
    opener = first.signed_in()
    first.wait_until(
        lambda: _receiver_row(first, opener, external_ref), 180, "the order.placed delivery on the receiver page"
    )
    server = embedded.start(folder)  # joins the demo's server, as any process of the demo folder does
    try:
        with psycopg.connect(**embedded.connection_kwargs(server)) as connection:
            row = connection.execute("SELECT number FROM orders_order WHERE id = %s", [order["id"]]).fetchone()
    finally:
        embedded.release(server)
    assert row == (order["number"],)

    # A worker that dies is started again.
    [worker] = first.started("worker")
    worker.kill()
    first.wait_until(lambda: f"worker (pid {worker.pid}) exited" in first.output(), 30, "the worker's death noticed")
    first.wait_until(lambda: [new for new in first.started("worker") if new.pid != worker.pid], 30, "a new worker")
    children = first.descendants()

    # Ctrl-C: everything stops, nothing is left.
    pgids = {os.getpgid(child.pid) for child in children if child.is_running()}
    assert first.interrupt() == 0, first.output()[-6000:]
    assert _gone(children) == []
    assert _groups_empty(pgids)
    assert not (folder / "launcher.pid").exists()
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE
    assert embedded.postmaster_pid(folder) is None

    # Again on the same folder, over a PID file left by a launcher that was killed: same key, same data.
    (folder / "launcher.pid").write_text("999999\n")
    again = launched(folder, port)
    again.wait_until(lambda: again.get("/login/")[0] == 200, 120, "the sign-in page, second start")
    assert "stale PID file" in again.output()
    status, read = again.api("GET", f"/api/v1/orders/{order['id']}/")
    assert (status, read["number"], read["external_ref"]) == (200, order["number"], external_ref)
    children = again.descendants()
    assert again.interrupt() == 0, again.output()[-6000:]
    assert _gone(children) == []
    assert not (folder / "launcher.pid").exists()
    assert embedded.postmaster_pid(folder) is None
