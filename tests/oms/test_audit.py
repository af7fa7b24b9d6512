"""The audit trail: who (user or API key) did what to which object, from which address."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from oms.actors import Actor, actor_from_request
from oms.models import ApiKey, AuditEntry, Membership, WebhookSubscription
from oms.services import set_membership
from tests import factories
from tests.orders.support import build_shop, order_body
from tests.signin import sign_in

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


# --- sign-in, sign-out, accounts ------------------------------------------------------------------------------

PASSWORD = "correct-horse-battery"


def member_of(*tenants, email="marie@example.com", role="viewer"):
    user = factories.UserFactory(email=email, full_name="Marie Dupont")
    user.set_password(PASSWORD)
    user.save()
    for tenant in tenants:
        set_membership(tenant=tenant, user=user, role=role, actor=Actor.system("tests"))
    return user


def everywhere(action):
    return AuditEntry.all_tenants.filter(action=action)


def test_a_sign_in_is_recorded_in_every_tenant_of_the_user_and_nowhere_else(client, tenant, other_tenant):
    third = factories.TenantFactory(slug="initech")
    user = member_of(tenant, other_tenant)

    assert sign_in(client, "marie@example.com", PASSWORD)

    entries = everywhere("user.signed_in")
    assert sorted(e.tenant_id for e in entries) == sorted([tenant.id, other_tenant.id])
    assert third.id not in {e.tenant_id for e in entries}
    first = entries.get(tenant=tenant)
    assert (first.user, first.actor_label, first.object_type, first.object_id) == (
        user,
        "marie@example.com",
        "oms.user",
        str(user.id),
    )
    assert first.ip == "127.0.0.1" and first.request_id


def test_a_refused_sign_in_is_recorded_for_the_account_without_the_password(client, tenant):
    user = member_of(tenant)

    assert not sign_in(client, "Marie@Example.com", "wrong-guess-123")

    failure = entry(tenant, "user.sign_in_failed")
    assert failure.user is None and failure.actor_label == "marie@example.com"
    assert (failure.object_type, failure.object_id) == ("oms.user", str(user.id))
    stored = " ".join(str(getattr(failure, f.attname)) for f in AuditEntry._meta.concrete_fields)
    assert "wrong-guess-123" not in stored and "*****" not in stored


def test_a_refused_sign_in_for_an_unknown_email_is_recorded_nowhere(client, tenant):
    member_of(tenant)

    assert not sign_in(client, "nobody@example.com", PASSWORD)

    assert not everywhere("user.sign_in_failed").exists()
    assert not AuditEntry.all_tenants.filter(actor_label__icontains="nobody").exists()


def test_a_sign_out_is_recorded(client, tenant):
    member_of(tenant)
    sign_in(client, "marie@example.com", PASSWORD)

    client.post("/logout/")

    out = entry(tenant, "user.signed_out")
    assert out.actor_label == "marie@example.com" and out.user is not None


def test_an_account_change_in_the_admin_is_recorded_in_the_users_tenants(client, tenant, other_tenant):
    user = member_of(tenant, other_tenant)
    operator = get_user_model().objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(operator)

    response = client.post(
        f"/admin/oms/user/{user.id}/change/", {"email": "marie@example.com", "full_name": "Marie Martin"}
    )

    assert response.status_code == 302
    for where in (tenant, other_tenant):
        change = entry(where, "user.changed")
        assert change.actor_label == "ops@example.com"
        assert change.changes == {"full_name": ["Marie Dupont", "Marie Martin"], "is_active": [True, False]}


def test_a_password_set_in_the_admin_is_recorded_without_the_password(client, tenant):
    user = member_of(tenant)
    operator = get_user_model().objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(operator)

    response = client.post(
        f"/admin/oms/user/{user.id}/password/",
        {"password1": "N3w-passphrase-42", "password2": "N3w-passphrase-42", "usable_password": "true"},
    )

    assert response.status_code == 302
    change = entry(tenant, "user.password_changed")
    assert change.object_repr == "marie@example.com"
    assert "N3w-passphrase-42" not in str(change.changes)


def test_a_tenant_change_in_the_admin_is_recorded_in_that_tenant(client, tenant, other_tenant):
    operator = get_user_model().objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(operator)

    response = client.post(
        f"/admin/oms/tenant/{tenant.id}/change/",
        {
            "slug": tenant.slug,
            "name": tenant.name,
            "default_currency": tenant.default_currency,
            "timezone": "Europe/Brussels",
            "locale": tenant.locale,
            "active": "on",
            "settings": '{"invoice_prefix": "FA-"}',
        },
    )

    assert response.status_code == 302
    change = entry(tenant, "tenant.changed")
    assert change.changes == {"timezone": [tenant.timezone, "Europe/Brussels"], "invoice_prefix": [None, "FA-"]}
    assert not AuditEntry.objects.for_tenant(other_tenant).filter(action="tenant.changed").exists()


# --- orders ---------------------------------------------------------------------------------------------------


def test_hold_release_and_cancellation_of_an_order_are_recorded(api, tenant):
    shop = build_shop(tenant)
    order = api.post("/api/v1/orders/", order_body(shop), format="json").json()

    api.post(f"/api/v1/orders/{order['id']}/hold/", {"kind": "fraud", "reason": "check id"}, format="json")
    api.post(f"/api/v1/orders/{order['id']}/release/", {"note": "id verified"}, format="json")
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "customer_request"}, format="json")

    held, released, cancelled = (entry(tenant, a) for a in ("order.held", "order.hold_released", "order.cancelled"))
    for audit in (held, released, cancelled):
        assert (audit.object_type, audit.object_id, audit.object_repr) == (
            "orders.order",
            str(order["id"]),
            order["number"],
        )
        assert audit.api_key_id == api.api_key.id
    assert held.changes == {"hold_kind": "fraud", "reason": "check id"}
    assert released.changes == {"hold_kind": "fraud", "reason": "check id", "note": "id verified"}
    assert cancelled.changes["reason"] == "customer_request" and cancelled.changes["whole_order"] is True
