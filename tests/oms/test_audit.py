"""The audit trail: who (user or API key) did what to which object, from which address."""

import pytest
from django.test import RequestFactory

from oms.actors import actor_from_request
from oms.models import ApiKey, AuditEntry, Membership, WebhookSubscription
from oms.services import set_membership
from tests import factories

pytestmark = pytest.mark.django_db

HOOK = {"url": "https://hooks.example.com/oms", "events": ["order.placed"]}


def entry(tenant, action):
    return AuditEntry.objects.for_tenant(tenant).get(action=action)


def test_creating_a_webhook_through_the_api_is_audited_with_the_key_and_address(tenant, api):
    response = api.post("/api/v1/webhooks/", HOOK, format="json", REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID="req-1")

    audit = entry(tenant, "webhook.created")
    subscription = WebhookSubscription.objects.for_tenant(tenant).get(id=response.json()["id"])
    assert audit.actor_label == f"api-key:{api.api_key.label}"
    assert audit.api_key_id == api.api_key.id
    assert (audit.object_type, audit.object_id, audit.object_repr) == (
        "oms.webhooksubscription",
        str(subscription.id),
        HOOK["url"],
    )
    assert audit.ip == "203.0.113.7"
    assert audit.request_id == "req-1"
    assert audit.changes["events"] == ["order.placed"]


def test_deleting_a_webhook_through_the_api_is_audited(tenant, api):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)

    api.delete(f"/api/v1/webhooks/{subscription.id}/", REMOTE_ADDR="203.0.113.8")

    audit = entry(tenant, "webhook.deleted")
    assert (audit.object_id, audit.ip) == (str(subscription.id), "203.0.113.8")


def test_creating_an_api_key_on_the_settings_page_is_audited_with_the_user_and_address(tenant, member_client):
    client = member_client("admin")

    response = client.post("/settings/api-keys/", {"label": "erp"}, REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 200
    key = ApiKey.objects.for_tenant(tenant).get(label="erp")
    audit = entry(tenant, "api_key.created")
    assert audit.actor_label == client.user.email
    assert audit.user == client.user
    assert (audit.object_type, audit.object_id) == ("oms.apikey", str(key.id))
    assert audit.ip == "198.51.100.4"
    assert key.hashed_secret not in str(audit.changes)


def test_giving_a_membership_through_a_request_is_audited(tenant):
    admin = factories.UserFactory(email="admin@example.com")
    clerk = factories.UserFactory(email="clerk@example.com")
    request = RequestFactory().post("/admin/", REMOTE_ADDR="192.0.2.10")
    request.user = admin
    request.request_id = "req-9"

    membership, created = set_membership(tenant=tenant, user=clerk, role="viewer", actor=actor_from_request(request))

    audit = entry(tenant, "membership.created")
    assert created
    assert audit.actor_label == "admin@example.com"
    assert (audit.object_type, audit.object_id, audit.object_repr) == (
        "oms.membership",
        str(membership.id),
        "clerk@example.com",
    )
    assert audit.ip == "192.0.2.10"
    assert audit.request_id == "req-9"
    assert audit.changes["after"]["role"] == "viewer"


def test_changing_a_role_is_audited_with_before_and_after(tenant):
    clerk = factories.UserFactory()
    request = RequestFactory().post("/admin/", REMOTE_ADDR="192.0.2.10")
    request.user = factories.UserFactory()
    actor = actor_from_request(request)
    set_membership(tenant=tenant, user=clerk, role="viewer", actor=actor)

    set_membership(tenant=tenant, user=clerk, role="manager", actor=actor)
    set_membership(tenant=tenant, user=clerk, role="manager", actor=actor)  # no change, no entry

    audit = entry(tenant, "membership.changed")
    assert (audit.changes["before"]["role"], audit.changes["after"]["role"]) == ("viewer", "manager")
    assert Membership.objects.for_tenant(tenant).get(user=clerk).role == "manager"


def test_audit_entries_belong_to_their_tenant(tenant, other_tenant, api, other_api):
    api.post("/api/v1/webhooks/", HOOK, format="json")

    assert AuditEntry.objects.for_tenant(tenant).filter(action="webhook.created").count() == 1
    assert not AuditEntry.objects.for_tenant(other_tenant).filter(action="webhook.created").exists()


def test_behind_a_proxy_the_address_it_forwarded_is_recorded(tenant, api, settings):
    settings.OMS_BEHIND_PROXY = True

    api.post(
        "/api/v1/webhooks/",
        HOOK,
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.77, 203.0.113.50",
    )

    assert entry(tenant, "webhook.created").ip == "203.0.113.50"


def test_an_address_that_is_not_an_ip_is_recorded_as_unknown(tenant, api):
    api.post("/api/v1/webhooks/", HOOK, format="json", REMOTE_ADDR="")

    assert entry(tenant, "webhook.created").ip is None
