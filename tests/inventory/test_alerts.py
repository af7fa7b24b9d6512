"""Low-stock alerts: stock.low once when a threshold is crossed, stock.recovered once when it climbs back."""

import pytest

from inventory import alerts
from inventory.ledger import level_for, post_movement
from inventory.models import StockAlertRule, StockLevel
from oms.actors import Actor
from oms.models import OutboxEvent
from tests import factories
from tests.race import race

SYSTEM = Actor.system("tests")
ADJUSTMENTS = "/api/v1/inventory/adjustments/"


@pytest.fixture
def item(tenant):
    product = factories.ProductFactory(tenant=tenant, sku="A")
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    for location, qty in ((wh, 10), (store, 3)):
        post_movement(
            tenant=tenant,
            level=level_for(tenant=tenant, product=product, location=location),
            kind="receipt",
            quantity=qty,
            actor=SYSTEM,
        )
    return {"product": product, "WH1": wh, "PAR01": store}


def topics(tenant):
    return list(
        OutboxEvent.objects.for_tenant(tenant)
        .filter(topic__in=["stock.low", "stock.recovered"])
        .order_by("id")
        .values_list("topic", flat=True)
    )


def adjust(api, delta):
    response = api.post(ADJUSTMENTS, {"rows": [{"sku": "A", "location": "WH1", "delta": delta}]}, format="json")
    assert response.json()["accepted"] == 1


def test_low_fires_once_and_again_only_after_recovery(api, tenant, item):
    rule = alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", location_code="WH1", threshold=5)
    assert topics(tenant) == []
    adjust(api, -6)  # 4 available
    assert topics(tenant) == ["stock.low"]
    adjust(api, -1)  # still low: nothing new
    assert topics(tenant) == ["stock.low"]
    adjust(api, 1)  # 4 → 5 is still at the threshold
    assert topics(tenant) == ["stock.low"]
    adjust(api, 10)
    assert topics(tenant) == ["stock.low", "stock.recovered"]
    adjust(api, 1)
    adjust(api, -12)
    assert topics(tenant) == ["stock.low", "stock.recovered", "stock.low"]
    low = OutboxEvent.objects.for_tenant(tenant).filter(topic="stock.low").last()
    assert low.payload == {"rule_id": rule.id, "sku": "A", "location": "WH1", "threshold": 5, "available": 3}
    rule.refresh_from_db()
    assert rule.is_low and rule.last_available == 3


def test_a_rule_created_below_its_threshold_fires_at_once(tenant, item):
    alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", location_code="PAR01", threshold=3)
    assert topics(tenant) == ["stock.low"]


def test_channel_rules_watch_the_pool_less_the_buffer(api, tenant, item):
    channel = factories.ChannelFactory(tenant=tenant, code="WEB", buffer=2)
    for priority, location in enumerate((item["WH1"], item["PAR01"])):
        factories.ChannelLocationFactory(channel=channel, location=location, priority=priority)
    alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", channel_code="WEB", threshold=5)
    assert topics(tenant) == []  # 10 + 3 - 2 = 11
    adjust(api, -6)  # 4 + 3 - 2 = 5
    assert topics(tenant) == ["stock.low"]
    payload = OutboxEvent.objects.for_tenant(tenant).get(topic="stock.low").payload
    assert payload["channel"] == "WEB" and payload["available"] == 5


def test_the_sweep_catches_reservations_made_elsewhere(tenant, item):
    rule = alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", location_code="WH1", threshold=2)
    StockLevel.objects.for_tenant(tenant).filter(location=item["WH1"]).update(reserved=9)
    assert alerts.evaluate_all(tenant=tenant) == 1
    assert alerts.evaluate_all(tenant=tenant) == 0
    assert topics(tenant) == ["stock.low"]
    from inventory.tasks import evaluate_stock_alerts

    StockLevel.objects.for_tenant(tenant).filter(location=item["WH1"]).update(reserved=0)
    assert evaluate_stock_alerts() == 1
    rule.refresh_from_db()
    assert not rule.is_low and topics(tenant) == ["stock.low", "stock.recovered"]


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_emit_one_event(tenant, item):
    rule = alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", location_code="WH1", threshold=5)
    StockLevel.objects.for_tenant(tenant).filter(location=item["WH1"]).update(reserved=8)
    # Both evaluations start from the rule as it was before either ran.
    stale = [
        StockAlertRule.objects.for_tenant(tenant).select_related("product", "location").get(id=rule.id)
        for _ in range(2)
    ]

    outcomes = race(2, lambda index: alerts.evaluate_rules(tenant=tenant, rules=[stale[index]]))

    assert outcomes.errors == []
    assert topics(tenant) == ["stock.low"]


def test_alert_rules_api_and_tenant_isolation(api, other_api, tenant, item):
    created = api.post("/api/v1/inventory/alert-rules/", {"sku": "A", "location": "WH1", "threshold": 4}, format="json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["location"] == "WH1" and rule["channel"] is None and rule["is_low"] is False
    assert api.get("/api/v1/inventory/alert-rules/").json()["results"][0]["id"] == rule["id"]
    assert api.post("/api/v1/inventory/alert-rules/", {"sku": "A", "threshold": 4}, format="json").status_code == 400
    assert (
        api.post(
            "/api/v1/inventory/alert-rules/", {"sku": "NOPE", "location": "WH1", "threshold": 4}, format="json"
        ).status_code
        == 400
    )
    assert other_api.get(f"/api/v1/inventory/alert-rules/{rule['id']}/").status_code == 404
    assert other_api.delete(f"/api/v1/inventory/alert-rules/{rule['id']}/").status_code == 404
    assert other_api.get("/api/v1/inventory/alert-rules/").json()["results"] == []
    assert api.delete(f"/api/v1/inventory/alert-rules/{rule['id']}/").status_code == 204
    assert not StockAlertRule.objects.for_tenant(tenant).exists()


def test_a_channel_key_cannot_change_stock(tenant, item):
    from tests.conftest import make_api_client

    channel = factories.ChannelFactory(tenant=tenant, code="WEB")
    shop = make_api_client(tenant, channel=channel)
    response = shop.post(ADJUSTMENTS, {"rows": [{"sku": "A", "location": "WH1", "delta": 5}]}, format="json")
    assert response.status_code == 403
    assert StockLevel.objects.for_tenant(tenant).get(location=item["WH1"]).on_hand == 10


def test_stock_low_reaches_the_webhook_subscribers(tenant, item):
    from oms import outbox
    from oms.models import WebhookDelivery

    subscription = factories.WebhookSubscriptionFactory(tenant=tenant, events=["stock.low"])
    alerts.save_rule(tenant=tenant, actor=SYSTEM, sku="A", location_code="PAR01", threshold=5)
    event = OutboxEvent.objects.for_tenant(tenant).get(topic="stock.low")
    assert outbox.process_event(event.id) is True
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    assert delivery.subscription == subscription and delivery.event == event
