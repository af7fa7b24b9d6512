"""A real Celery worker allocates placed orders end to end: intake → outbox → routing queue → allocated."""

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder
from orders.models import Order, OrderStatus
from tests.orders.support import build_shop, order_body
from tests.workers import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker"), pytest.mark.django_db(transaction=True)]


def test_placed_orders_are_allocated_by_the_worker(worker, api, tenant):
    shop = build_shop(tenant)
    placed = [api.post("/api/v1/orders/", order_body(shop), format="json").json()["id"] for _ in range(3)]

    def all_allocated():
        return Order.all_tenants.filter(id__in=placed, status=OrderStatus.ALLOCATED).count() == len(placed)

    wait_until(all_allocated, worker, what="three allocated orders")
    assert FulfillmentOrder.objects.for_tenant(tenant).filter(order_id__in=placed).count() == 3
    call_command("check_stock_ledger", "--tenant", tenant.slug)
