"""Per-key throttling on Redis (GCRA): exact under concurrency, one small counter per key, a precise Retry-After."""

import pytest
import redis
from django.conf import settings as django_settings

from tests.conftest import make_api_client
from tests.race import race

pytestmark = pytest.mark.django_db


def test_after_the_burst_a_call_waits_one_period_share(tenant):
    client = make_api_client(tenant, throttle_rate="3/min")

    statuses = [client.get("/api/v1/webhooks/").status_code for _ in range(3)]
    fourth = client.get("/api/v1/webhooks/")

    assert statuses == [200, 200, 200]
    assert fourth.status_code == 429
    assert 19 <= int(fourth["Retry-After"]) <= 20


def test_a_key_keeps_one_small_counter_that_expires(tenant):
    client = make_api_client(tenant, throttle_rate="10/min")

    for _ in range(5):
        assert client.get("/api/v1/webhooks/").status_code == 200

    connection_ = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        keys = connection_.keys(f"*throttle:*key:{client.api_key.prefix}")
        assert len(keys) == 1
        assert len(connection_.get(keys[0])) < 32
        assert 29000 <= connection_.pttl(keys[0]) <= 30000  # five calls of ten a minute: 5 x 6 s ahead
    finally:
        connection_.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_get_more_than_the_rate(tenant):
    client = make_api_client(tenant, throttle_rate="5/min")
    secret = client._credentials["HTTP_AUTHORIZATION"]
    callers = 12

    def call(index):
        from rest_framework.test import APIClient

        own = APIClient()
        own.credentials(HTTP_AUTHORIZATION=secret)
        return own.get("/api/v1/webhooks/").status_code

    statuses = race(callers, call, timeout=30)

    assert sorted(statuses) == [200] * 5 + [429] * 7
