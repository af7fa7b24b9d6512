"""Shared fixtures: tenants, API clients with real keys, per-worker Celery broker database."""

import os

import pytest
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.services import create_api_key
from tests import factories
from tests.workers import running_worker


def pytest_configure(config):
    from django.conf import settings

    os.environ.setdefault("OMS_WEBHOOK_ALLOW_PRIVATE", "1")
    # The code the tests call directly (factories, services, checks) runs across tenants, as a trusted script;
    # requests, tasks and commands open their own frames behind the tenant wall, as in production (oms.rls).
    settings.OMS_RLS_DEFAULT = "all_tenants"


@pytest.fixture(scope="session", autouse=True)
def _isolated_broker():
    """Each xdist worker publishes to its own Redis database, so that a worker process started by one test
    never consumes another test process's messages."""
    from django.conf import settings

    from oms.celery import app

    base = settings.REDIS_URL
    if base:
        index = {"": 10}.get(os.environ.get("PYTEST_XDIST_WORKER", ""), None)
        if index is None:
            index = 11 + int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
        url = base.rsplit("/", 1)[0] + f"/{index}" if base.count("/") >= 3 else f"{base}/{index}"
        app.conf.broker_url = url
        settings.CELERY_BROKER_URL = url
    yield


@pytest.fixture(autouse=True)
def _no_default_throttle(settings):
    settings.OMS_API_THROTTLE = "off"


@pytest.fixture
def tenant(db):
    return factories.TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db):
    return factories.TenantFactory(slug="globex", name="Globex")


def make_api_client(tenant, channel=None, label=None, throttle_rate=""):
    issued = create_api_key(
        tenant=tenant,
        label=label or f"test-{factories.next_id()}",
        channel=channel,
        throttle_rate=throttle_rate,
        actor=Actor.system("tests"),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    client.api_key = issued.api_key
    return client


@pytest.fixture
def api(tenant):
    """An API client authenticated with an integration key of `tenant`."""
    return make_api_client(tenant)


@pytest.fixture
def other_api(other_tenant):
    return make_api_client(other_tenant)


@pytest.fixture
def user_client(client, tenant):
    """client_for(role) → a Django test client signed in as a member of `tenant` with that role."""

    def client_for(role, locations=()):
        from oms.services import set_membership

        user = factories.UserFactory()
        set_membership(tenant=tenant, user=user, role=role, locations=list(locations), actor=Actor.system("tests"))
        client.force_login(user)
        client.user = user
        return client

    return client_for


@pytest.fixture
def worker(transactional_db, tmp_path_factory):
    """A real Celery worker process (all queues) on the test database and Redis, for one test. It depends on
    `transactional_db` so that it is stopped (a warm shutdown that ends the task at hand) before the test's tables
    are flushed: a task scheduled with a countdown would otherwise run under the flush and deadlock it."""
    yield from running_worker(tmp_path_factory)
