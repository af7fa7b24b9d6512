"""Helpers for the platform tests: a local webhook receiver and a switchable Celery broker."""

import contextlib
import http.server
import threading

import pytest
from django.db import transaction

from oms import outbox
from oms.actors import Actor
from oms.models import WebhookSubscription
from oms.services import set_membership
from tests import factories

CLOSED_BROKER = "redis://127.0.0.1:1/0"


def pytest_configure(config):
    # Registered by pytest-xdist when it is active; declared here too so that `-p no:xdist` runs keep
    # --strict-markers happy.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in the same xdist worker")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Receiver:
    """An HTTP server on 127.0.0.1 (random port) recording every request it gets.

    `statuses` lists the answers to give, in order; then `default_status`. A 3xx answer carries
    `Location: redirect_to`.
    """

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.redirect_to = ""
        self.got_request = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                receiver.got_request.set()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_receiver():
    servers = []

    def make():
        server = Receiver()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _reset_broker_pools(app):
    # Forget the pools bound to the previous URL; they are built again on the next publish.
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextlib.contextmanager
def broker_at(url: str):
    """Point the Celery app's broker at `url` for the duration (e.g. a closed port: Redis is down)."""
    from oms.celery import app

    previous = app.conf.broker_url
    _reset_broker_pools(app)
    app.conf.broker_url = url
    try:
        yield app
    finally:
        _reset_broker_pools(app)
        app.conf.broker_url = previous


@pytest.fixture
def eager():
    """Tasks run in-process (CELERY_TASK_ALWAYS_EAGER)."""
    from oms.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def subscribe(tenant, url="https://hooks.example.com/oms", events=("*",), active=True) -> WebhookSubscription:
    return factories.WebhookSubscriptionFactory(tenant=tenant, url=url, events=list(events), active=active)


def emit_committed(tenant, topic="order.placed", payload=None):
    """Emit in a transaction of its own (its on_commit publish runs when the test's transaction allows it)."""
    with transaction.atomic():
        return outbox.emit(tenant, topic, payload or {"order_id": 1})


@pytest.fixture
def member_client(tenant):
    """member_client(role) → a fresh Django test client signed in as a new member of `tenant` with that role."""
    from django.test import Client

    def make(role, *, enforce_csrf_checks=False):
        user = factories.UserFactory()
        set_membership(tenant=tenant, user=user, role=role, actor=Actor.system("tests"))
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(user)
        client.user = user
        return client

    return make
