"""Expiring cart holds are released by the periodic task, once, and only when really expired."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from inventory.reservations import Hold, LineDemand, hold, reserve_demands
from inventory.tasks import expire_reservations
from oms.models import OutboxEvent
from tests import factories
from tests.inventory.stock_helpers import channel_with_pool, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def level(tenant):
    return receive(
        tenant, factories.ProductFactory(tenant=tenant, sku="A"), factories.LocationFactory(tenant=tenant), 10
    )


def _age(reservation, seconds):
    Reservation.all_tenants.filter(id=reservation.id).update(expires_at=timezone.now() - timedelta(seconds=seconds))


def test_the_task_releases_expired_holds_and_leaves_the_others(tenant, level):
    expired, alive = hold(
        tenant=tenant, holds=[Hold(level=level, quantity=3), Hold(level=level, quantity=2)], ttl_seconds=600
    )
    [forever] = hold(tenant=tenant, holds=[Hold(level=level, quantity=1)])
    _age(expired, 1)

    assert expire_reservations() == 1
    assert expire_reservations() == 0

    statuses = dict(Reservation.all_tenants.values_list("id", "status"))
    assert statuses == {expired.id: "expired", alive.id: "active", forever.id: "active"}
    assert StockLevel.all_tenants.get(id=level.id).reserved == 3


def test_expiry_covers_every_tenant(tenant, other_tenant, level):
    theirs = receive(
        other_tenant, factories.ProductFactory(tenant=other_tenant), factories.LocationFactory(tenant=other_tenant), 5
    )
    mine = hold(tenant=tenant, holds=[Hold(level=level, quantity=1)], ttl_seconds=60)[0]
    their = hold(tenant=other_tenant, holds=[Hold(level=theirs, quantity=1)], ttl_seconds=60)[0]
    _age(mine, 5)
    _age(their, 5)

    assert expire_reservations() == 2
    assert StockLevel.all_tenants.get(id=theirs.id).reserved == 0


def test_an_expired_order_line_hold_is_announced(tenant, level):
    channel = channel_with_pool(tenant, [level.location])
    line = factories.OrderLineFactory(order__tenant=tenant, order__channel=channel, product=level.product)
    [demand] = reserve_demands(
        tenant=tenant,
        channel=channel,
        demands=[LineDemand(line.id, line.product, 1)],
        order_lines={line.id: line},
        ttl_seconds=60,
    )
    cart = hold(tenant=tenant, holds=[Hold(level=level, quantity=1)], ttl_seconds=60)[0]
    _age(demand.reservations[0], 1)
    _age(cart, 1)

    expire_reservations()

    [event] = OutboxEvent.objects.for_tenant(tenant).filter(topic="reservation.expired")
    assert event.payload == {
        "reservation_id": demand.reservations[0].id,
        "order_line_id": line.id,
        "sku": "A",
        "location": level.location.code,
        "quantity": 1,
    }
