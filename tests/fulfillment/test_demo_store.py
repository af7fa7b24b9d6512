"""The demo clerk's store has work at every stage of the clerk's queue: pickups to accept, to pick, packed, ready
(one ending today, one overdue), and delivery orders routed to the store; built through the services, idempotent."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfillment import demo
from fulfillment.models import FulfillmentOrder
from orders.models import Order
from tests.orders.support import build_shop, stock

pytestmark = pytest.mark.django_db


def test_the_demo_clerks_store_has_pickups_at_every_stage_and_ship_from_store_work(tenant):
    shop = build_shop(tenant)
    for product in shop.products:
        stock(tenant, product, shop.store, 40)
    assert demo.clerk_store(tenant) == shop.store

    demo.seed_clerk_store(tenant, io.StringIO())
    out = io.StringIO()
    demo.seed_clerk_store(tenant, out)

    orders = Order.objects.for_tenant(tenant).filter(external_ref__startswith=demo.STORE_PREFIX)
    assert orders.count() == len(demo.STORE_WORK)
    at_store = FulfillmentOrder.objects.for_tenant(tenant).filter(location=shop.store, closed_at=None)
    pickups = at_store.filter(order__delivery_method="pickup")
    assert sorted(pickups.values_list("status", flat=True)) == sorted(
        ["pending", "accepted", "picking", "packed", "ready_for_pickup", "ready_for_pickup", "ready_for_pickup"]
    )
    now, ready = timezone.now(), pickups.filter(status="ready_for_pickup")
    assert ready.filter(pickup_expires_at__lt=now).count() == 1
    assert ready.filter(pickup_expires_at__lt=now + timedelta(days=1)).count() == 2
    shipping = at_store.filter(order__delivery_method="ship")
    assert sorted(shipping.values_list("status", flat=True)) == ["packed", "pending"]
    assert f"0 order(s) of work for the demo clerk at {shop.store.code}" in out.getvalue()
    call_command("check_stock_ledger", "--tenant", tenant.slug)
