"""GET/POST /api/v1/webhooks/, GET/DELETE /api/v1/webhooks/{id}/, GET /api/v1/webhooks/{id}/deliveries/."""

import socket

import pytest

from oms import outbox, tasks
from oms.models import WebhookSubscription
from tests.oms.conftest import emit_committed, subscribe

pytestmark = pytest.mark.django_db

HOOK = {"url": "https://hooks.example.com/oms", "events": ["order.placed", "order.cancelled"]}


def test_create_returns_the_secret_once(tenant, api):
    response = api.post("/api/v1/webhooks/", {**HOOK, "description": "ERP"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["url"] == HOOK["url"]
    assert body["events"] == ["order.cancelled", "order.placed"]
    assert body["active"] is True
    stored = WebhookSubscription.objects.for_tenant(tenant).get(id=body["id"])
    assert stored.secret == body["secret"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert all("secret" not in row for row in api.get("/api/v1/webhooks/").json()["results"])


def test_create_refuses_fields_the_client_may_not_set(tenant, other_tenant, api):
    response = api.post(
        "/api/v1/webhooks/", {**HOOK, "id": 999, "secret": "mine", "tenant": other_tenant.id}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        name: ["This field is set by OMS and cannot be sent."] for name in ("id", "secret", "tenant")
    }
    assert not WebhookSubscription.objects.for_tenant(tenant).exists()
    assert not WebhookSubscription.objects.for_tenant(other_tenant).exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/oms",
        "/relative/path",
        "hooks.example.com/oms",
        "https://user:password@hooks.example.com/oms",
        "https://token@hooks.example.com/oms",
        "https://hooks.example.com:99999/oms",
        "https://hooks.example.com/o ms",
        "javascript:alert(1)",
        "",
    ],
)
def test_create_refuses_a_bad_url_naming_the_field(api, url):
    response = api.post("/api/v1/webhooks/", {**HOOK, "url": url}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["url"]


@pytest.mark.parametrize("events", [["order.teleported"], [], "order.placed"])
def test_create_refuses_unknown_or_missing_events_naming_the_field(api, events):
    response = api.post("/api/v1/webhooks/", {**HOOK, "events": events}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events"]


def test_create_accepts_the_wildcard(api):
    response = api.post("/api/v1/webhooks/", {**HOOK, "events": ["*"]}, format="json")

    assert response.status_code == 201
    assert response.json()["events"] == ["*"]


def test_create_makes_no_network_call(api, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("creating a subscription must not touch the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)

    response = api.post("/api/v1/webhooks/", {**HOOK, "url": "https://does-not-resolve.invalid/hook"}, format="json")

    assert response.status_code == 201


def test_list_is_cursor_paginated_newest_first_without_repeats(tenant, api):
    ids = [subscribe(tenant).id for _ in range(5)]

    first = api.get("/api/v1/webhooks/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert seen == sorted(ids, reverse=True)
    assert third["next"] is None
    assert "cursor=" in first["next"]


@pytest.mark.parametrize("cursor", ["zzz", "cD1hYmM=", "cD0A", "cD0yMDI2LTAyLTMw", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OQ=="])
def test_an_altered_cursor_is_a_400_naming_the_parameter(api, cursor):
    """Not base64; p=abc; p=NUL; p=2026-02-30; p=an id beyond bigint."""
    response = api.get("/api/v1/webhooks/", {"cursor": cursor})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["errors"]


def test_get_one(tenant, api):
    subscription = subscribe(tenant, events=["stock.low"])

    body = api.get(f"/api/v1/webhooks/{subscription.id}/").json()

    assert body["id"] == subscription.id
    assert body["events"] == ["stock.low"]


def test_delete_removes_the_subscription(tenant, api):
    subscription = subscribe(tenant)

    response = api.delete(f"/api/v1/webhooks/{subscription.id}/")

    assert response.status_code == 204
    assert api.get(f"/api/v1/webhooks/{subscription.id}/").status_code == 404
    assert not WebhookSubscription.objects.for_tenant(tenant).exists()


def test_deliveries_show_each_attempt(tenant, api, receiver):
    receiver.statuses = [500]
    subscription = subscribe(tenant, url=receiver.url, events=["order.placed"])
    event = emit_committed(tenant, "order.placed")
    outbox.process_event(event.id)
    delivery = subscription.deliveries.get()
    tasks.deliver_webhook.apply((delivery.id,))

    body = api.get(f"/api/v1/webhooks/{subscription.id}/deliveries/").json()

    [row] = body["results"]
    assert row["event"] == "order.placed"
    assert row["event_id"] == str(event.event_id)
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    assert row["last_status_code"] == 500
    assert [(a["number"], a["status_code"]) for a in row["attempt_log"]] == [(1, 500)]


def test_another_tenants_subscription_is_not_found(tenant, other_tenant, api, other_api):
    theirs = subscribe(other_tenant)
    subscribe(tenant)

    for response in (
        api.get(f"/api/v1/webhooks/{theirs.id}/"),
        api.delete(f"/api/v1/webhooks/{theirs.id}/"),
        api.get(f"/api/v1/webhooks/{theirs.id}/deliveries/"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert WebhookSubscription.objects.for_tenant(other_tenant).filter(id=theirs.id).exists()
    assert theirs.id not in [row["id"] for row in api.get("/api/v1/webhooks/").json()["results"]]
    assert [row["id"] for row in other_api.get("/api/v1/webhooks/").json()["results"]] == [theirs.id]


def test_an_id_that_does_not_exist_is_not_found(api):
    assert api.get("/api/v1/webhooks/424242/").status_code == 404
    assert api.delete("/api/v1/webhooks/424242/").status_code == 404
    assert api.get("/api/v1/webhooks/424242/deliveries/").status_code == 404
