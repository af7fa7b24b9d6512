"""API keys remembered per process for a few seconds: fewer queries, bounded staleness, private copies."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms.actors import Actor
from oms.api import authentication
from oms.models import ApiKey
from oms.services import create_api_key
from tests import factories
from tests.conftest import make_api_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    authentication.forget_api_keys()
    yield
    authentication.forget_api_keys()


def _key_lookups(queries) -> int:
    return sum(1 for q in queries.captured_queries if 'FROM "oms_apikey"' in q["sql"])


def test_a_known_key_is_not_looked_up_again_within_the_window(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 60
    client = make_api_client(tenant)

    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/v1/webhooks/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/v1/webhooks/").status_code == 200

    assert (_key_lookups(first), _key_lookups(second)) == (1, 0)


def test_a_key_revoked_by_another_process_stops_working_once_the_window_ends(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 0.5
    client = make_api_client(tenant)
    assert client.get("/api/v1/webhooks/").status_code == 200

    # Another process revokes it: no signal reaches this one.
    ApiKey.all_tenants.filter(id=client.api_key.id).update(revoked_at=timezone.now())
    time.sleep(0.6)

    assert client.get("/api/v1/webhooks/").status_code == 401


def test_saving_a_channel_in_this_process_forgets_the_keys_at_once(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 60
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")
    client = make_api_client(tenant, channel=channel)
    assert client.get("/api/v1/webhooks/").status_code == 200

    channel.name = "Web shop"
    channel.save()

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/webhooks/").status_code == 200
    assert _key_lookups(queries) == 1


def test_an_unknown_secret_is_looked_up_every_time(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 60
    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer oms_deadbeef_nothing-like-a-real-key")

    with CaptureQueriesContext(connection) as queries:
        assert stranger.get("/api/v1/webhooks/").status_code == 401
        assert stranger.get("/api/v1/webhooks/").status_code == 401
    assert _key_lookups(queries) == 2


def test_each_caller_gets_its_own_copy(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 60
    tenant.settings = {"currencies": ["EUR"]}
    tenant.save()
    secret = create_api_key(tenant=tenant, label="copies", actor=Actor.system("tests")).secret

    first = authentication._api_key_for(secret)
    first.tenant.settings["currencies"].append("USD")
    first.label = "changed"
    second = authentication._api_key_for(secret)

    assert second is not first and second.tenant is not first.tenant
    assert (second.label, second.tenant.settings) == ("copies", {"currencies": ["EUR"]})


def test_a_window_of_zero_looks_every_key_up(tenant, settings):
    settings.OMS_API_KEY_CACHE_SECONDS = 0
    client = make_api_client(tenant)

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/webhooks/")
        client.get("/api/v1/webhooks/")
    assert _key_lookups(queries) == 2


def test_a_key_revoked_in_another_process_is_refused_at_once(tenant, settings):
    from django.core.cache import cache

    settings.OMS_API_KEY_CACHE_SECONDS = 60
    client = make_api_client(tenant)
    assert client.get("/api/v1/webhooks/").status_code == 200  # remembered here for a minute
    # Another process revokes it: the row changes without this process's signals, and the shared generation moves.
    ApiKey.all_tenants.filter(id=client.api_key.id).update(revoked_at=timezone.now())
    try:
        cache.incr(authentication.generation_key())
    except ValueError:
        cache.set(authentication.generation_key(), 1, timeout=None)

    assert client.get("/api/v1/webhooks/").status_code == 401
