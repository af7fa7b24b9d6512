"""Idempotency-Key on POST, through POST /api/v1/webhooks/ (decorated with @idempotent)."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from oms.api.idempotency import purge_expired
from oms.models import IdempotencyKey, WebhookSubscription
from tests.conftest import make_api_client
from tests.race import in_background, race

HOOK = {"url": "https://hooks.example.com/oms", "events": ["order.placed"]}


def post(client, body=HOOK, key="key-1"):
    return client.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_answer_and_creates_once(tenant, api):
    first = post(api)
    second = post(api)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_the_same_json_with_other_spacing_is_the_same_request(tenant, api):
    first = post(api)
    second = api.post(
        "/api/v1/webhooks/",
        data='{ "events": ["order.placed"],  "url": "https://hooks.example.com/oms" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )

    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_same_key_with_another_body_answers_422(tenant, api):
    post(api)

    response = post(api, {**HOOK, "url": "https://other.example.com/oms"})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_api_key_that_sent_them(tenant, api):
    other_key_client = make_api_client(tenant)

    first = post(api)
    second = post(other_key_client)

    assert second.status_code == 201
    assert not second.has_header("Idempotent-Replayed")
    assert second.json()["id"] != first.json()["id"]
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 2


@pytest.mark.django_db
def test_keys_of_two_tenants_never_meet(tenant, api, other_tenant, other_api):
    post(api)

    response = post(other_api)

    assert response.status_code == 201
    assert WebhookSubscription.objects.for_tenant(other_tenant).count() == 1


@pytest.mark.django_db
def test_a_client_error_is_an_answer_and_is_replayed(tenant, api):
    bad = {"url": "ftp://hooks.example.com", "events": ["order.placed"]}

    first = post(api, bad)
    second = post(api, bad)

    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"
    assert second["Content-Type"] == "application/problem+json"
    assert second.json()["errors"] == first.json()["errors"]
    assert second.json()["request_id"] == second["X-Request-ID"]


@pytest.mark.django_db
def test_a_server_error_gives_the_key_back_so_a_retry_works(tenant, api, monkeypatch):
    from oms import webhooks

    real = webhooks.create_subscription
    calls = []

    def fail_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            real(**kwargs)  # writes, then fails: none of it may be kept
            raise RuntimeError("lost the database connection")
        return real(**kwargs)

    monkeypatch.setattr(webhooks, "create_subscription", fail_once)

    failed = post(api)

    assert failed.status_code == 500
    assert failed["Content-Type"] == "application/problem+json"
    assert not IdempotencyKey.objects.for_tenant(tenant).exists()
    assert not WebhookSubscription.objects.for_tenant(tenant).exists()
    retried = post(api)
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_an_empty_or_oversized_key_is_refused(api):
    assert post(api, key=" ").status_code == 400
    assert post(api, key="k" * 256).status_code == 400


@pytest.mark.django_db
def test_without_the_header_every_post_creates(tenant, api):
    api.post("/api/v1/webhooks/", HOOK, format="json")
    api.post("/api/v1/webhooks/", HOOK, format="json")

    assert WebhookSubscription.objects.for_tenant(tenant).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_once(tenant):
    secret_client = make_api_client(tenant)
    authorization = secret_client._credentials["HTTP_AUTHORIZATION"]

    def send(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=authorization)
        response = post(client, key="same-key")
        return response.status_code, response.json(), response.headers

    answers = race(8, send, timeout=30)

    assert answers.errors == []
    assert len(answers) == 8
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1
    created = WebhookSubscription.objects.for_tenant(tenant).get()
    originals = [a for a in answers if a[0] == 201 and "Idempotent-Replayed" not in a[2]]
    assert len(originals) == 1
    for status, body, headers in answers:
        assert status in (201, 409)
        if status == 201:
            assert body["id"] == created.id
        else:
            assert int(headers["Retry-After"]) >= 1
            assert body["code"] == "idempotency_in_flight"


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_arriving_while_the_first_still_runs_answers_409_then_replays(tenant, settings, monkeypatch):
    from oms import webhooks

    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    real = webhooks.create_subscription
    started, release = threading.Event(), threading.Event()

    def slow(**kwargs):
        started.set()
        release.wait(timeout=10)
        return real(**kwargs)

    monkeypatch.setattr(webhooks, "create_subscription", slow)
    client = make_api_client(tenant)

    with in_background(lambda: post(client, key="slow")) as first:
        assert started.wait(timeout=10)
        duplicate = post(client, key="slow")
        release.set()

    assert duplicate.status_code == 409
    assert duplicate["Retry-After"] == "1"
    assert duplicate["Content-Type"] == "application/problem+json"
    assert first[0].status_code == 201
    replay = post(client, key="slow")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first[0].json()["id"]
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_purge_deletes_keys_older_than_the_ttl_and_keeps_newer_ones(tenant, settings):
    settings.OMS_IDEMPOTENCY_TTL_HOURS = 24
    now = timezone.now()

    def key(name, age):
        return IdempotencyKey.objects.create(
            tenant=tenant, owner="key:x", key=name, method="POST", path="/", request_hash="h", created_at=now - age
        )

    key("old", timedelta(hours=25))
    key("young", timedelta(hours=23))

    assert purge_expired(now=now) == 1
    assert list(IdempotencyKey.objects.for_tenant(tenant).values_list("key", flat=True)) == ["young"]


def test_the_beat_schedule_purges_idempotency_keys():
    from oms.celery import app

    app.loader.import_default_modules()  # what `celery beat` and `celery worker` do at start
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "oms.purge_idempotency_keys" in tasks
    assert "oms.purge_idempotency_keys" in app.tasks
    assert {"oms.sweep_outbox", "oms.sweep_webhook_deliveries"} <= tasks
