"""Order services: the state machine, fulfilment facts, backorders routed when stock arrives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from fulfillment.services.allocation import allocate_order
from fulfillment.tasks import route_backorders_after_stock_event
from inventory.models import Reservation
from oms.actors import Actor
from oms.api.scope import Scope
from oms.errors import Conflict, IllegalTransition, StaleVersion
from oms.models import OutboxEvent
from orders import services, states
from orders.models import Order, OrderStatus
from orders.services import intake
from tests import factories
from tests.orders.support import build_shop, level, stock

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def place(tenant, shop, lines, *, ref=None, method="ship", location="", **extra):
    data = services.OrderInput(
        channel=shop.channel,
        external_ref=ref or f"R-{factories.next_id()}",
        currency="EUR",
        customer={"email": "ann@example.com"},
        delivery_method=method,
        location_code=location,
        address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
        lines=[services.LineInput(sku=sku, quantity=qty, unit_price=Decimal("10.00")) for sku, qty in lines],
        **extra,
    )
    return services.place_order(tenant=tenant, actor=SYSTEM, data=data)


def fresh(order):
    return Order.objects.for_tenant(order.tenant).get(id=order.id)


def lines_of(order):
    return list(fresh(order).lines.all())


def test_every_status_change_follows_the_transition_map():
    assert states.can_move(OrderStatus.PLACED, OrderStatus.ALLOCATED)
    assert states.can_move(OrderStatus.FULFILLED, OrderStatus.DELIVERED)
    assert not states.can_move(OrderStatus.CANCELLED, OrderStatus.PLACED)
    assert not states.can_move(OrderStatus.FULFILLED, OrderStatus.CANCELLED)
    assert not states.can_move(OrderStatus.COMPLETED, OrderStatus.DELIVERED)
    assert not states.can_move(OrderStatus.PLACED, OrderStatus.COMPLETED)


def test_a_full_life_placed_allocated_shipped_delivered_completed(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 2), (shop.b.sku, 1)])
    first, second = order.lines_list

    allocate_order(tenant=tenant, order_id=order.id)
    assert fresh(order).status == "allocated"
    services.record_shipment(
        tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(first.id, 2)], location=shop.wh1
    )
    assert fresh(order).status == "partially_fulfilled"
    services.record_shipment(
        tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(second.id, 1)]
    )
    assert fresh(order).status == "fulfilled"
    services.record_delivery(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=None)
    assert fresh(order).status == "delivered"
    services.complete_order(tenant=tenant, order_id=order.id, actor=SYSTEM)

    done = fresh(order)
    assert done.status == "completed"
    assert [line.status for line in done.lines.all()] == ["delivered", "delivered"]
    assert level(tenant, shop.a, shop.wh1).on_hand == 8 and level(tenant, shop.a, shop.wh1).reserved == 0
    assert not Reservation.objects.for_tenant(tenant).filter(status="active").exists()
    kinds = list(done.events.values_list("kind", flat=True))
    assert kinds[:2] == ["placed", "allocated"] and kinds[-1] == "completed"
    topics = set(OutboxEvent.objects.for_tenant(tenant).values_list("topic", flat=True))
    assert {"order.placed", "order.allocated", "order.fulfilled", "order.delivered", "invoice.issued"} <= topics


def test_every_change_records_who_and_the_figures_before_and_after(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 2)])
    line = order.lines_list[0]

    services.record_shipment(
        tenant=tenant, order_id=order.id, actor=Actor.system("carrier"), lines=[services.LineQuantity(line.id, 1)]
    )

    event = fresh(order).events.get(kind="shipped")
    assert event.actor_label == "carrier"
    assert event.before["status"] == "placed" and event.after["status"] == "partially_fulfilled"
    assert event.before["lines"][str(line.id)]["shipped"] == 0
    assert event.after["lines"][str(line.id)]["shipped"] == 1


def test_completing_an_order_that_is_not_delivered_is_illegal(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 1)])

    with pytest.raises(IllegalTransition):
        services.complete_order(tenant=tenant, order_id=order.id, actor=SYSTEM)


def test_shipping_more_than_is_allocated_is_refused(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 1)])

    with pytest.raises(Conflict):
        services.record_shipment(
            tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(order.lines_list[0].id, 2)]
        )


def test_delivering_more_than_shipped_is_refused(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 2)])
    line = order.lines_list[0]
    services.record_shipment(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 1)])

    with pytest.raises(Conflict):
        services.record_delivery(
            tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 2)]
        )


def test_cancelling_the_rest_of_a_partly_shipped_order_makes_it_fulfilled(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 3)])
    line = order.lines_list[0]
    services.record_shipment(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 1)])

    services.cancel_order(
        scope=Scope(tenant=tenant, actor=SYSTEM),
        order_id=order.id,
        reason="rest unavailable",
        lines=[services.LineQuantity(line.id, 2)],
    )

    assert fresh(order).status == "fulfilled"
    assert level(tenant, shop.a, shop.wh1).reserved == 0


def test_returned_units_are_counted_on_the_line(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 2)])
    line = order.lines_list[0]
    services.record_shipment(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 2)])

    services.record_return(tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 2)])

    assert lines_of(order)[0].quantity_returned == 2
    with pytest.raises(Conflict):
        services.record_return(
            tenant=tenant, order_id=order.id, actor=SYSTEM, lines=[services.LineQuantity(line.id, 1)]
        )


def test_a_stale_version_is_refused(tenant, shop):
    order = place(tenant, shop, [(shop.a.sku, 1)])
    services.hold_order(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=order.id, reason="check", expected_version=1)

    with pytest.raises(StaleVersion):
        services.release_hold(scope=Scope(tenant=tenant, actor=SYSTEM), order_id=order.id, expected_version=1)


# --- backorders ------------------------------------------------------------------------------------------


@pytest.fixture
def bo_shop(tenant):
    return build_shop(tenant, allow_backorders=True, code="BO")


def test_arriving_stock_goes_to_the_oldest_backorder_first(tenant, bo_shop):
    shop = bo_shop
    stock(tenant, shop.a, shop.wh1, 0)
    stock(tenant, shop.a, shop.wh2, 0)
    stock(tenant, shop.a, shop.store, 0)
    older = place(tenant, shop, [(shop.a.sku, 3)])
    newer = place(tenant, shop, [(shop.a.sku, 3)])
    Order.objects.for_tenant(tenant).filter(id=older.id).update(placed_at=timezone.now() - timedelta(hours=1))
    stock(tenant, shop.a, shop.wh1, 4)
    event = OutboxEvent.objects.create(tenant=tenant, topic="stock.adjusted", payload={"skus": [shop.a.sku]})

    allocated = route_backorders_after_stock_event(event)

    assert allocated == 4
    assert (lines_of(older)[0].quantity_allocated, lines_of(older)[0].quantity_backordered) == (3, 0)
    assert (lines_of(newer)[0].quantity_allocated, lines_of(newer)[0].quantity_backordered) == (1, 2)
    assert fresh(older).status == "allocated" and fresh(newer).status == "backordered"
    assert level(tenant, shop.a, shop.wh1).reserved == 4
    assert route_backorders_after_stock_event(event) == 0


def test_a_stock_event_about_other_skus_leaves_backorders_alone(tenant, bo_shop):
    shop = bo_shop
    stock(tenant, shop.a, shop.wh1, 0)
    stock(tenant, shop.a, shop.wh2, 0)
    stock(tenant, shop.a, shop.store, 0)
    order = place(tenant, shop, [(shop.a.sku, 1)])
    stock(tenant, shop.a, shop.wh1, 5)
    event = OutboxEvent.objects.create(tenant=tenant, topic="stock.adjusted", payload={"skus": [shop.b.sku]})

    assert route_backorders_after_stock_event(event) == 0
    assert lines_of(order)[0].quantity_backordered == 1


def test_the_stock_adjusted_outbox_event_runs_the_backorder_handler(tenant, bo_shop):
    from oms.outbox import process_event

    shop = bo_shop
    for location in (shop.wh1, shop.wh2, shop.store):
        stock(tenant, shop.c, location, 0)
    order = place(tenant, shop, [(shop.c.sku, 2)])
    stock(tenant, shop.c, shop.wh2, 2)
    event = OutboxEvent.objects.create(
        tenant=tenant, topic="stock.adjusted", payload={"source": "adjustments", "skus": [shop.c.sku]}
    )

    process_event(event.id)

    assert lines_of(order)[0].quantity_allocated == 2
    assert fresh(order).status == "allocated"


def test_cancelling_a_backordered_line_frees_backorders_before_reservations(tenant, bo_shop):
    shop = bo_shop
    order = place(tenant, shop, [(shop.a.sku, 20)])
    line = order.lines_list[0]
    assert (line.quantity_allocated, line.quantity_backordered) == (18, 2)

    services.cancel_order(
        scope=Scope(tenant=tenant, actor=SYSTEM),
        order_id=order.id,
        reason="too many",
        lines=[services.LineQuantity(line.id, 3)],
    )

    line = lines_of(order)[0]
    assert (line.quantity_allocated, line.quantity_backordered, line.quantity_cancelled) == (17, 0, 3)
    assert sum(level(tenant, shop.a, loc).reserved for loc in (shop.wh1, shop.wh2, shop.store)) == 17
    assert fresh(order).status == "placed"


def test_a_duplicate_reference_is_a_conflict_naming_the_order_and_reserves_nothing(tenant, shop):
    first = place(tenant, shop, [(shop.a.sku, 1)], ref="DUP-1")

    with pytest.raises(Conflict) as caught:
        place(tenant, shop, [(shop.a.sku, 1)], ref="DUP-1")

    assert (caught.value.extra["order_id"], caught.value.extra["number"]) == (first.id, first.number)
    assert Order.objects.for_tenant(tenant).count() == 1
    assert level(tenant, shop.a, shop.wh1).reserved == 1


def test_an_integrity_error_that_is_no_duplicate_is_not_disguised_as_one(tenant, shop, monkeypatch):
    def refused(**kwargs):
        raise IntegrityError("CHECK constraint failed: line_quantities_within_ordered")

    monkeypatch.setattr(intake, "_create_order", refused)

    with pytest.raises(IntegrityError):
        place(tenant, shop, [(shop.a.sku, 1)], ref="NEW-1")
