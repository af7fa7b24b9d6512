"""API authentication (Bearer key or session), roles, and per-key throttling."""

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from oms.actors import Actor
from oms.models import ApiKey
from oms.services import revoke_api_key
from tests.conftest import make_api_client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
HOOK = {"url": "https://hooks.example.com/oms", "events": ["order.placed"]}


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_missing_credentials_answer_401_problem_with_www_authenticate(tenant):
    assert_unauthorized(APIClient().get("/api/v1/webhooks/"))


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer two words"])
def test_malformed_bearer_header_answers_401(tenant, header):
    response = APIClient().get("/api/v1/webhooks/", HTTP_AUTHORIZATION=header)

    assert_unauthorized(response)
    assert "Malformed" in response.json()["detail"]


@pytest.mark.parametrize("secret", ["oms_deadbeef_notarealsecret", "something-else"])
def test_unknown_key_answers_401(tenant, secret):
    assert_unauthorized(APIClient().get("/api/v1/webhooks/", HTTP_AUTHORIZATION=f"Bearer {secret}"))


def test_revoked_key_answers_401(tenant, api):
    assert api.get("/api/v1/webhooks/").status_code == 200

    revoke_api_key(tenant=tenant, key_id=api.api_key.id, actor=Actor.system("tests"))

    assert_unauthorized(api.get("/api/v1/webhooks/"))


def test_key_of_an_inactive_tenant_answers_401(tenant, api):
    tenant.active = False
    tenant.save()

    assert_unauthorized(api.get("/api/v1/webhooks/"))


def test_a_call_records_when_the_key_was_last_used(tenant, api):
    assert ApiKey.objects.for_tenant(tenant).get(id=api.api_key.id).last_used_at is None

    api.get("/api/v1/webhooks/")

    assert ApiKey.objects.for_tenant(tenant).get(id=api.api_key.id).last_used_at is not None


def test_the_key_acts_for_its_own_tenant_only(tenant, other_tenant, api, other_api):
    api.post("/api/v1/webhooks/", HOOK, format="json")

    assert len(api.get("/api/v1/webhooks/").json()["results"]) == 1
    assert other_api.get("/api/v1/webhooks/").json()["results"] == []


def test_session_of_a_signed_in_member_authenticates(member_client):
    client = member_client("admin")

    response = client.get("/api/v1/webhooks/")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_session_of_a_user_without_membership_is_refused(tenant, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user(email="lone@example.com", password="x"))

    response = client.get("/api/v1/webhooks/")

    assert response.status_code in (401, 403)
    assert response["Content-Type"] == PROBLEM


def test_session_post_needs_the_csrf_token(member_client):
    client = member_client("admin", enforce_csrf_checks=True)

    refused = client.post("/api/v1/webhooks/", HOOK, content_type="application/json")

    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    assert "CSRF" in refused.json()["detail"]
    token = "a" * 32
    client.cookies[django_settings.CSRF_COOKIE_NAME] = token
    accepted = client.post("/api/v1/webhooks/", HOOK, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_a_viewer_may_not_post(member_client):
    response = member_client("viewer").post("/api/v1/webhooks/", HOOK, content_type="application/json")

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "permission_denied"


def test_back_office_reads_webhooks_but_only_admins_create_them(member_client):
    client = member_client("back_office")

    assert client.get("/api/v1/webhooks/").status_code == 200
    assert client.post("/api/v1/webhooks/", HOOK, content_type="application/json").status_code == 403


# --- throttling ---------------------------------------------------------------------------------------


def test_a_key_with_its_own_rate_gets_429_with_retry_after(tenant):
    client = make_api_client(tenant, throttle_rate="3/min")

    statuses = [client.get("/api/v1/webhooks/").status_code for _ in range(3)]
    fourth = client.get("/api/v1/webhooks/")

    assert statuses == [200, 200, 200]
    assert fourth.status_code == 429
    assert fourth["Content-Type"] == PROBLEM
    assert 1 <= int(fourth["Retry-After"]) <= 60
    assert fourth.json()["request_id"] == fourth["X-Request-ID"]


def test_throttle_counters_live_in_redis(tenant):
    assert "RedisCache" in django_settings.CACHES["default"]["BACKEND"]
    client = make_api_client(tenant, throttle_rate="5/min")

    client.get("/api/v1/webhooks/")

    connection = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        keys = connection.keys(f"*throttle:*key:{client.api_key.prefix}")
    finally:
        connection.close()
    assert len(keys) == 1


def test_the_default_rate_applies_to_keys_without_their_own(tenant, settings):
    settings.OMS_API_THROTTLE = "2/min"
    client = make_api_client(tenant)

    statuses = [client.get("/api/v1/webhooks/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_default_throttle_off_lets_every_call_through(tenant, settings):
    settings.OMS_API_THROTTLE = "off"
    client = make_api_client(tenant)

    assert {client.get("/api/v1/webhooks/").status_code for _ in range(12)} == {200}


def test_a_key_rate_of_off_overrides_the_default(tenant, settings):
    settings.OMS_API_THROTTLE = "1/min"
    client = make_api_client(tenant, throttle_rate="off")

    assert {client.get("/api/v1/webhooks/").status_code for _ in range(4)} == {200}


def test_keys_are_throttled_apart(tenant, settings):
    settings.OMS_API_THROTTLE = "1/min"
    first, second = make_api_client(tenant), make_api_client(tenant)

    assert first.get("/api/v1/webhooks/").status_code == 200
    assert first.get("/api/v1/webhooks/").status_code == 429
    assert second.get("/api/v1/webhooks/").status_code == 200


@pytest.mark.parametrize("rate", ["0/s", "00/min", "1234567890/s", "-1/s", "5/fortnight", "²/s"])
def test_a_rate_that_cannot_work_is_refused_when_the_key_is_issued(tenant, rate):
    from oms.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        make_api_client(tenant, throttle_rate=rate)


@pytest.mark.parametrize("stored", ["0/s", "99999999999999999/s"])
def test_a_key_whose_stored_rate_cannot_work_is_served_at_the_default_rate_not_a_500(tenant, stored):
    from oms.models import ApiKey

    client = make_api_client(tenant)
    ApiKey.all_tenants.filter(id=client.api_key.id).update(throttle_rate=stored[:20])

    assert client.get("/api/v1/webhooks/").status_code == 200


def test_the_api_keys_page_refuses_a_zero_rate_in_the_form(user_client, tenant):
    from oms.models import ApiKey

    admin = user_client("admin")

    answer = admin.post("/settings/api-keys/", {"label": "ERP", "throttle_rate": "0/s"})

    assert answer.status_code == 200 and "throttle_rate" in answer.context["form"].errors
    assert not ApiKey.objects.for_tenant(tenant).filter(label="ERP").exists()
