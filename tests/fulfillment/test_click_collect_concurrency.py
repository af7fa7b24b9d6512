"""Wrong pickup codes racing on PostgreSQL (real threads): the attempts are counted under the fulfilment order's
row lock, so ten at once lock the hand-over after exactly five and never hand anything over."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder
from fulfillment.services import pickup
from fulfillment.services.allocation import allocate_order
from inventory.models import StockLevel
from oms.api.scope import Scope
from orders.models import Order, OrderStatus
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_concurrent_wrong_codes_lock_the_hand_over_after_exactly_five_and_never_hand_over(tenant):
    shop = build_shop(tenant)
    api = make_api_client(tenant)
    body = order_body(shop, delivery={"method": "pickup", "pickup_location": shop.store.code})
    order_id = api.post("/api/v1/orders/", body, format="json").json()["id"]
    allocate_order(tenant=tenant, order_id=order_id)
    fulfillment = FulfillmentOrder.objects.for_tenant(tenant).get(order_id=order_id)
    for step in ("accept", "pick", "pack", "ready"):
        assert api.post(f"/api/v1/fulfillments/{fulfillment.id}/{step}/", {}, format="json").status_code == 200
    scope = Scope.system(tenant, "clerk")

    outcomes = race(
        10, lambda index: pickup.collect(scope=scope, fulfillment_id=fulfillment.id, pickup_code=f"WRONG{index:03d}")
    )

    assert outcomes.values == []
    codes = sorted(type(error).__name__ for error in outcomes.errors)
    assert codes == ["PickupLocked"] * 6 + ["WrongPickupCode"] * 4
    assert sorted(e.extra["attempts_left"] for e in outcomes.errors if isinstance(e, pickup.WrongPickupCode)) == [
        1,
        2,
        3,
        4,
    ]
    fulfillment.refresh_from_db()
    assert fulfillment.pickup_attempts == 5 and fulfillment.pickup_locked_at is not None
    assert fulfillment.status == "ready_for_pickup"
    assert Order.all_tenants.get(id=order_id).status == OrderStatus.ALLOCATED
    level = StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=shop.store)
    assert (level.on_hand, level.reserved) == (3, 2)
    call_command("check_stock_ledger", "--tenant", tenant.slug)
