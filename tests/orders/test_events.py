"""Order events reach the tenant's webhook subscriptions through the outbox."""

import pytest

from oms.models import OutboxEvent, WebhookDelivery
from oms.outbox import process_event
from tests import factories
from tests.orders.support import order_body

pytestmark = pytest.mark.django_db


def test_placed_on_hold_updated_and_cancelled_orders_reach_webhooks(api, tenant, shop, other_tenant):
    subscription = factories.WebhookSubscriptionFactory(
        tenant=tenant, events=["order.placed", "order.on_hold", "order.updated", "order.cancelled"]
    )
    elsewhere = factories.WebhookSubscriptionFactory(tenant=other_tenant, events=["*"])
    order = api.post("/api/v1/orders/", order_body(shop, hold={"kind": "payment"}), format="json").json()
    api.post(f"/api/v1/orders/{order['id']}/release/", {}, format="json")
    api.patch(
        f"/api/v1/orders/{order['id']}/", {"delivery": {"service_level": "express"}}, format="json", HTTP_IF_MATCH='"2"'
    )
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "changed mind"}, format="json")

    for event_id in OutboxEvent.objects.for_tenant(tenant).values_list("id", flat=True):
        process_event(event_id)

    delivered = sorted(
        WebhookDelivery.objects.for_tenant(tenant)
        .filter(subscription=subscription)
        .values_list("event__topic", flat=True)
    )
    assert delivered == ["order.cancelled", "order.on_hold", "order.placed", "order.updated"]
    assert not WebhookDelivery.objects.for_tenant(other_tenant).filter(subscription=elsewhere).exists()
    placed = OutboxEvent.objects.for_tenant(tenant).get(topic="order.placed")
    assert placed.payload["order_id"] == order["id"] and placed.payload["number"] == order["number"]
