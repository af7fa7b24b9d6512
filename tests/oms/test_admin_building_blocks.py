"""TenantScopedAdmin and TenantScopedInline as other apps use them, on a site of their own.

This module is also the URLconf of its tests: a throwaway admin site with a plain TenantScopedAdmin (no
service-specific overrides) for webhook subscriptions and an inline of their deliveries, whose `event`
foreign key must only offer the tenant's own events.
"""

import pytest
from django.contrib import admin
from django.db import models
from django.urls import path

from oms.actors import Actor
from oms.admin import TenantScopedAdmin, TenantScopedInline, admin_site_has_permission
from oms.models import OutboxEvent, Role, User, WebhookDelivery, WebhookSubscription
from oms.services import set_membership
from tests import factories

site = admin.AdminSite(name="building_blocks")
site.has_permission = admin_site_has_permission


class DeliveryInline(TenantScopedInline):
    model = WebhookDelivery
    fields = ("event", "status", "attempts")


class SubscriptionAdmin(TenantScopedAdmin):
    list_display = ("url", "active")
    list_filter = ("active",)
    fields = ("url", "events", "active", "description")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [DeliveryInline]


site.register(WebhookSubscription, SubscriptionAdmin)
urlpatterns = [path("blocks/", site.urls)]

pytestmark = pytest.mark.urls(__name__)
BASE = "/blocks/oms/webhooksubscription/"


@pytest.fixture
def admin_client(client, tenant):
    user = factories.UserFactory()
    set_membership(tenant=tenant, user=user, role=Role.ADMIN, actor=Actor.system("tests"))
    client.force_login(user)
    return client


def form_data(**extra):
    data = {
        "url": "https://shop.example/hooks",
        "events": '["order.placed"]',
        "active": "on",
        "description": "",
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
        "deliveries-MIN_NUM_FORMS": "0",
        "deliveries-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_new_rows_and_their_inline_children_get_the_current_tenant(admin_client, tenant):
    event = OutboxEvent.objects.create(tenant=tenant, topic="order.placed", payload={})
    response = admin_client.post(
        BASE + "add/",
        form_data(
            **{
                "deliveries-TOTAL_FORMS": "1",
                "deliveries-0-event": event.id,
                "deliveries-0-status": "pending",
                "deliveries-0-attempts": "0",
            }
        ),
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    subscription = WebhookSubscription.objects.for_tenant(tenant).get()
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    assert delivery.subscription == subscription and delivery.event == event


def test_inline_foreign_keys_offer_and_accept_this_tenants_rows_only(admin_client, tenant, other_tenant):
    mine = OutboxEvent.objects.create(tenant=tenant, topic="order.placed", payload={})
    theirs = OutboxEvent.objects.create(tenant=other_tenant, topic="order.placed", payload={})
    page = admin_client.get(BASE + "add/")
    inline_form = page.context["inline_admin_formsets"][0].formset.form
    assert list(inline_form.base_fields["event"].queryset) == [mine]
    response = admin_client.post(
        BASE + "add/",
        form_data(
            **{
                "deliveries-TOTAL_FORMS": "1",
                "deliveries-0-event": theirs.id,
                "deliveries-0-status": "pending",
                "deliveries-0-attempts": "0",
            }
        ),
    )
    assert response.status_code == 200
    assert not WebhookSubscription.all_tenants.exists()
    assert not WebhookDelivery.all_tenants.exists()


def test_inline_lists_only_this_tenants_children(admin_client, tenant):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)
    event = OutboxEvent.objects.create(tenant=tenant, topic="order.placed", payload={})
    WebhookDelivery.objects.create(tenant=tenant, subscription=subscription, event=event)
    page = admin_client.get(f"{BASE}{subscription.id}/change/")
    assert page.status_code == 200
    assert len(page.context["inline_admin_formsets"][0].formset.queryset) == 1


def test_changelist_and_object_urls_are_scoped(admin_client, tenant, other_tenant):
    factories.WebhookSubscriptionFactory(tenant=tenant, url="https://mine.example/hook")
    theirs = factories.WebhookSubscriptionFactory(tenant=other_tenant, url="https://theirs.example/hook")
    listing = admin_client.get(BASE)
    assert [s.url for s in listing.context["cl"].result_list] == ["https://mine.example/hook"]
    assert admin_client.get(f"{BASE}{theirs.id}/change/").status_code == 302
    assert admin_client.post(f"{BASE}{theirs.id}/change/", form_data(description="hijacked")).status_code == 302
    theirs.refresh_from_db()
    assert theirs.description == ""


def test_superuser_sees_every_tenant_with_a_tenant_column_and_filter(client, tenant, other_tenant):
    factories.WebhookSubscriptionFactory(tenant=tenant)
    factories.WebhookSubscriptionFactory(tenant=other_tenant)
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="x-long-password-1"))
    listing = client.get(BASE)
    assert listing.context["cl"].result_count == 2
    assert "tenant" in listing.context["cl"].list_display
    assert any(spec.title == "tenant" for spec in listing.context["cl"].filter_specs)


@pytest.mark.django_db
def test_superuser_without_a_current_tenant_cannot_add_rows(client):
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="x-long-password-1"))
    assert client.get(BASE + "add/").status_code == 403
