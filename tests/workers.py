"""A real Celery worker process on the test database and the test Redis, for the tests that prove work done in the
background end to end (`worker` fixture in tests/conftest.py, one per test)."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

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


def running_worker(tmp_path_factory):
    """A started worker, stopped when the generator closes."""
    assert settings.REDIS_URL, "the worker tests need REDIS_URL"
    _purge_queues()
    running = Worker(tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
        _purge_queues()  # tasks handed back at shutdown (countdowns, prefetched) must not reach the next worker


def wait_until(condition, worker, timeout=30.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.output()}")
