"""Channel-bound API keys act for their channel on webhooks; PATCH /api/v1/webhooks/{id}/."""

import pytest

from oms import outbox
from oms.models import AuditEntry, OutboxEvent, WebhookDelivery, WebhookSubscription
from tests import factories
from tests.conftest import make_api_client
from tests.oms.conftest import emit_committed, subscribe

pytestmark = pytest.mark.django_db

HOOK = {"url": "https://hooks.example.com/shop", "events": ["*"]}


@pytest.fixture
def web(tenant):
    return factories.ChannelFactory(tenant=tenant, code="WEB")


@pytest.fixture
def market(tenant):
    return factories.ChannelFactory(tenant=tenant, code="MKT", kind="marketplace")


@pytest.fixture
def web_api(tenant, web):
    return make_api_client(tenant, channel=web)


def test_a_subscription_created_with_a_channel_key_is_bound_to_that_channel(tenant, web, web_api, api):
    response = web_api.post("/api/v1/webhooks/", HOOK, format="json")

    assert response.status_code == 201
    assert response.json()["channel"] == "WEB"
    assert WebhookSubscription.objects.for_tenant(tenant).get(id=response.json()["id"]).channel == web
    unbound = api.post("/api/v1/webhooks/", HOOK, format="json").json()
    assert unbound["channel"] is None


def test_a_channel_key_sees_and_changes_only_its_channels_subscriptions(tenant, web, market, web_api, api):
    mine = web_api.post("/api/v1/webhooks/", HOOK, format="json").json()["id"]
    unbound = subscribe(tenant).id
    other_channel = make_api_client(tenant, channel=market).post("/api/v1/webhooks/", HOOK, format="json").json()["id"]

    assert [row["id"] for row in web_api.get("/api/v1/webhooks/").json()["results"]] == [mine]
    for theirs in (unbound, other_channel):
        for response in (
            web_api.get(f"/api/v1/webhooks/{theirs}/"),
            web_api.patch(f"/api/v1/webhooks/{theirs}/", {"active": False}, format="json"),
            web_api.delete(f"/api/v1/webhooks/{theirs}/"),
            web_api.get(f"/api/v1/webhooks/{theirs}/deliveries/"),
        ):
            assert response.status_code == 404
            assert response["Content-Type"] == "application/problem+json"
    untouched = WebhookSubscription.objects.for_tenant(tenant).filter(id__in=[unbound, other_channel], active=True)
    assert untouched.count() == 2
    assert web_api.get(f"/api/v1/webhooks/{mine}/").status_code == 200
    assert web_api.delete(f"/api/v1/webhooks/{mine}/").status_code == 204
    # An unbound (integration) key sees every subscription of the tenant.
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert sorted(row["id"] for row in listed) == sorted([unbound, other_channel])


def test_a_channel_bound_subscription_gets_only_its_channels_events(tenant, web, market):
    bound = subscribe(tenant, events=["*"])
    WebhookSubscription.objects.for_tenant(tenant).filter(id=bound.id).update(channel=web)
    everything = subscribe(tenant, events=["*"])

    events = {
        "web": emit_committed(tenant, "order.placed", {"order_id": 1, "channel": "WEB"}),
        "market": emit_committed(tenant, "order.placed", {"order_id": 2, "channel": "MKT"}),
        "none": emit_committed(tenant, "stock.adjusted", {"skus": ["A"]}),
    }
    for event in events.values():
        outbox.process_event(event.id)

    def delivered(subscription):
        return set(
            WebhookDelivery.objects.for_tenant(tenant)
            .filter(subscription=subscription)
            .values_list("event_id", flat=True)
        )

    assert delivered(bound) == {events["web"].id}
    assert delivered(everything) == {event.id for event in events.values()}


def test_an_order_placed_through_a_channel_reaches_that_channels_subscription_only(tenant):
    from tests.orders.support import build_shop, order_body

    shop = build_shop(tenant)
    other = build_shop(tenant, code="SHOP2")
    web_key = make_api_client(tenant, channel=shop.channel)
    mine = web_key.post("/api/v1/webhooks/", HOOK, format="json").json()["id"]
    theirs = make_api_client(tenant, channel=other.channel).post("/api/v1/webhooks/", HOOK, format="json").json()["id"]

    assert web_key.post("/api/v1/orders/", order_body(shop), format="json").status_code == 201
    for event_id in OutboxEvent.objects.for_tenant(tenant).values_list("id", flat=True):
        outbox.process_event(event_id)

    topics = set(
        WebhookDelivery.objects.for_tenant(tenant).filter(subscription_id=mine).values_list("event__topic", flat=True)
    )
    assert "order.placed" in topics
    assert not WebhookDelivery.objects.for_tenant(tenant).filter(subscription_id=theirs).exists()


def test_patch_pauses_and_changes_a_subscription_and_audits_it(tenant, api):
    subscription = subscribe(tenant, events=["order.placed"])

    response = api.patch(
        f"/api/v1/webhooks/{subscription.id}/",
        {
            "active": False,
            "events": ["order.cancelled", "order.placed"],
            "url": "https://erp.example.com/in",
            "description": "ERP",
        },
        format="json",
    )
    refused = api.patch(f"/api/v1/webhooks/{subscription.id}/", {"secret": "mine"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"secret": ["This field is set by OMS and cannot be sent."]}
    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["events"], body["url"], body["description"]) == (
        False,
        ["order.cancelled", "order.placed"],
        "https://erp.example.com/in",
        "ERP",
    )
    assert "secret" not in body
    stored = WebhookSubscription.objects.for_tenant(tenant).get(id=subscription.id)
    assert (stored.active, stored.url, stored.secret) == (False, "https://erp.example.com/in", subscription.secret)
    entry = AuditEntry.objects.for_tenant(tenant).get(action="webhook.updated")
    assert entry.changes["active"] is False and entry.changes["url"] == "https://erp.example.com/in"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "url"),
        ({"events": ["order.teleported"]}, "events"),
        ({"events": []}, "events"),
        ({"active": "perhaps"}, "active"),
        ({}, "non_field_errors"),
    ],
)
def test_patch_validates_as_on_creation(tenant, api, change, field):
    subscription = subscribe(tenant, events=["order.placed"])

    response = api.patch(f"/api/v1/webhooks/{subscription.id}/", change, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]
    stored = WebhookSubscription.objects.for_tenant(tenant).get(id=subscription.id)
    assert (stored.url, stored.events, stored.active) == (subscription.url, ["order.placed"], True)


def test_patch_of_another_tenants_subscription_is_not_found(other_tenant, api):
    theirs = subscribe(other_tenant)

    assert api.patch(f"/api/v1/webhooks/{theirs.id}/", {"active": False}, format="json").status_code == 404
    assert api.patch("/api/v1/webhooks/424242/", {"active": False}, format="json").status_code == 404
    assert WebhookSubscription.objects.for_tenant(other_tenant).get(id=theirs.id).active is True


def test_patch_needs_the_admin_role(tenant, user_client):
    subscription = subscribe(tenant)
    client = user_client("back_office")

    response = client.patch(f"/api/v1/webhooks/{subscription.id}/", {"active": False}, content_type="application/json")

    assert response.status_code == 403
    assert WebhookSubscription.objects.for_tenant(tenant).get(id=subscription.id).active is True
