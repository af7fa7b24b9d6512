"""A real Celery worker process, Redis broker and test database: events become signed webhook POSTs."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from oms import outbox, webhooks
from oms.models import OutboxEvent, WebhookDelivery
from tests.oms.conftest import CLOSED_BROKER, broker_at, subscribe

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker"), pytest.mark.django_db(transaction=True)]

QUEUES = ("default", "routing", "webhooks", "reporting")
BASE_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@{db['HOST'] or '127.0.0.1'}" if credentials else db["HOST"] or "127.0.0.1"
    return f"postgres://{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _purge_queues():
    from oms.celery import app

    with app.connection_for_write() as broker:
        for queue in QUEUES:
            broker.default_channel.queue_purge(queue)


class Worker:
    def __init__(self, log_path: Path):
        self.log_path = log_path
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REDIS_URL": settings.REDIS_URL,
            "OMS_WEBHOOK_ALLOW_PRIVATE": "1",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PYTHONWARNINGS": "ignore",
        }
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "oms",
                "worker",
                "-Q",
                ",".join(QUEUES),
                "--pool=solo",
                "--concurrency=1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{self.output()}")
            if "ready." in self.output():
                return
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start in {timeout} s:\n{self.output()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    assert settings.REDIS_URL, "the worker tests need REDIS_URL"
    _purge_queues()
    running = Worker(tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def wait_until(condition, worker, timeout=30.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.output()}")


def delivered(subscription):
    return (
        WebhookDelivery.objects.for_tenant(subscription.tenant)
        .filter(subscription=subscription, status=WebhookDelivery.Status.SUCCEEDED)
        .first()
    )


def test_a_committed_event_reaches_the_receiver_signed(worker, tenant, receiver):
    subscription = subscribe(tenant, url=receiver.url, events=["order.placed"])

    with transaction.atomic():
        event = outbox.emit(tenant, "order.placed", {"order_id": 7})

    wait_until(lambda: delivered(subscription) is not None, worker, what="a succeeded delivery")
    [request] = receiver.requests
    assert request["headers"]["OMS-Event"] == "order.placed"
    assert request["headers"]["OMS-Event-Id"] == str(event.event_id)
    assert webhooks.verify(subscription.secret, request["headers"]["OMS-Signature"], request["body"])
    event.refresh_from_db()
    assert event.published_at is not None and event.processed_at is not None
    assert delivered(subscription).attempt_log.get().status_code == 200


def test_an_event_emitted_while_the_broker_is_down_is_delivered_after_the_sweep(worker, tenant, receiver, settings):
    settings.OMS_OUTBOX_RESEND_AFTER_SECONDS = 30
    subscription = subscribe(tenant, url=receiver.url, events=["*"])

    with broker_at(CLOSED_BROKER):
        with transaction.atomic():  # the order is accepted; its after-commit publish fails
            event = outbox.emit(tenant, "order.placed", {"order_id": 8})
    time.sleep(1)
    event.refresh_from_db()
    assert event.published_at is None and event.processed_at is None
    assert receiver.requests == []

    assert outbox.sweep(now=timezone.now() + timedelta(minutes=1)) == 1

    wait_until(lambda: delivered(subscription) is not None, worker, what="the swept event's delivery")
    assert [r["headers"]["OMS-Event-Id"] for r in receiver.requests] == [str(event.event_id)]
    assert OutboxEvent.objects.for_tenant(tenant).get(id=event.id).processed_at is not None
