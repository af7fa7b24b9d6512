"""Batch allocation, as a routing worker runs it: the orders waiting for routing are routed from one read of the
pool and applied in one transaction; each order of a batch sees the stock the ones before it took, the number of
statements does not grow with the batch, rows another worker holds are skipped, and a batch that loses a race for
stock is allocated order by order instead."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fulfillment.models import FulfillmentOrder, RoutingDecision
from fulfillment.selectors import pool_snapshot
from fulfillment.services.allocation import allocate_waiting
from inventory.models import StockLevel
from oms.models import OutboxEvent
from orders.models import Order, OrderStatus
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _prefer_wh2(api, shop):
    """wh1 in Marseille, wh2 in Paris; orders go to Paris, intake reserves at wh1 (first of the pool)."""
    shop.wh1.latitude, shop.wh1.longitude = 43.2965, 5.3698
    shop.wh2.latitude, shop.wh2.longitude = 48.8566, 2.3522
    for location in (shop.wh1, shop.wh2):
        location.save()
    answer = api.put(
        "/api/v1/routing/policy/", {"policy": {"objectives": ["fewest_shipments", "nearest"]}}, format="json"
    )
    assert answer.status_code == 200, answer.json()


def _plenty(tenant, shop):
    for product in (shop.a, shop.b):
        for location in (shop.wh1, shop.wh2):
            stock(tenant, product, location, 50)


def _place(api, shop, count, **overrides):
    ids = []
    for _ in range(count):
        answer = api.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
        assert answer.status_code == 201, answer.json()
        ids.append(answer.json()["id"])
    return ids


def _reserved(tenant, product):
    return {
        level.location_id: level.reserved for level in StockLevel.objects.for_tenant(tenant).filter(product=product)
    }


def test_one_batch_allocates_every_waiting_order_with_its_own_decision_fulfilment_and_events(api, tenant, shop):
    _prefer_wh2(api, shop)
    _plenty(tenant, shop)
    ids = _place(api, shop, 3)

    outcome = allocate_waiting(tenant=tenant)

    assert len(outcome.decisions) == 3 and outcome.lost == []
    assert sorted(d.order_id for d in outcome.decisions) == sorted(ids)
    assert Order.all_tenants.filter(id__in=ids, status=OrderStatus.ALLOCATED).count() == 3
    for order_id in ids:
        [decision] = RoutingDecision.objects.for_tenant(tenant).filter(order_id=order_id)
        assert decision.kind == RoutingDecision.Kind.INITIAL and list(decision.plan) == [shop.wh2.code]
        [fulfillment] = FulfillmentOrder.objects.for_tenant(tenant).filter(order_id=order_id)
        assert fulfillment.location_id == shop.wh2.id and fulfillment.decision_id == decision.id
        assert sorted((line.order_line.sku, line.quantity) for line in fulfillment.lines.all()) == [
            (shop.a.sku, 2),
            (shop.b.sku, 1),
        ]
        order = Order.all_tenants.get(id=order_id)
        assert order.version == 2 and order.events.filter(kind="allocated").count() == 1
    events = OutboxEvent.objects.for_tenant(tenant)
    assert sorted(events.filter(topic="order.allocated").values_list("payload__order_id", flat=True)) == sorted(ids)
    assert events.filter(topic="fulfillment.created").count() == 3
    assert _reserved(tenant, shop.a)[shop.wh2.id] == 6 and _reserved(tenant, shop.a)[shop.wh1.id] == 0
    assert allocate_waiting(tenant=tenant).decisions == []  # nothing left: a second run does nothing
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_each_order_of_a_batch_sees_what_the_ones_before_it_took(api, tenant, shop):
    _prefer_wh2(api, shop)
    stock(tenant, shop.a, shop.wh2, 2)  # Paris can take the 2 units of A of one order, not of two
    ids = _place(api, shop, 2)

    with CaptureQueriesContext(connection) as queries:
        outcome = allocate_waiting(tenant=tenant)

    # Both in one batch, without a lost race and without falling back to one by one (which would read the
    # order rows again).
    assert len(outcome.decisions) == 2 and outcome.lost == []
    assert sum("SKIP LOCKED" in q["sql"] for q in queries.captured_queries) == 1
    first, second = (RoutingDecision.objects.for_tenant(tenant).get(order_id=i) for i in ids)
    assert list(first.plan) == [shop.wh2.code]
    assert shop.wh2.code not in second.plan  # the first took Paris's last units of A
    reserved = _reserved(tenant, shop.a)
    assert reserved[shop.wh2.id] == 2 and sum(reserved.values()) == 4
    call_command("check_stock_ledger", "--tenant", tenant.slug)


def test_the_statements_of_a_batch_do_not_grow_with_its_size(api, tenant, shop):
    _prefer_wh2(api, shop)
    _plenty(tenant, shop)
    _place(api, shop, 2)
    with CaptureQueriesContext(connection) as small:
        assert len(allocate_waiting(tenant=tenant).decisions) == 2
    _place(api, shop, 8)
    with CaptureQueriesContext(connection) as large:
        assert len(allocate_waiting(tenant=tenant).decisions) == 8

    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_re_routed_order_in_a_batch_is_recorded_as_such(api, tenant, shop):
    [order_id] = _place(api, shop, 1)
    allocate_waiting(tenant=tenant)
    # Sent back to routing (its pickup store changed, say): allocated_at cleared, still placed.
    Order.all_tenants.filter(id=order_id).update(status=OrderStatus.PLACED, allocated_at=None)
    FulfillmentOrder.objects.for_tenant(tenant).filter(order_id=order_id).update(status="cancelled")

    [decision] = allocate_waiting(tenant=tenant).decisions

    assert decision.order_id == order_id and decision.kind == RoutingDecision.Kind.REROUTE


def test_the_order_a_task_was_given_comes_first(api, tenant, shop):
    ids = _place(api, shop, 3)

    outcome = allocate_waiting(tenant=tenant, first=ids[2], limit=1)

    assert [d.order_id for d in outcome.decisions] == [ids[2]]
    assert Order.all_tenants.get(id=ids[0]).status == OrderStatus.PLACED


@pytest.mark.django_db(transaction=True)
def test_orders_another_worker_holds_are_skipped_not_waited_for(tenant):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant)
    held, free = _place(api, shop, 2)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Order.all_tenants.select_for_update().get(id=held)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker, daemon=True)
    thread.start()
    assert locked.wait(30)
    try:
        outcome = allocate_waiting(tenant=tenant)
    finally:
        release.set()
        thread.join(30)

    assert [d.order_id for d in outcome.decisions] == [free]
    assert Order.all_tenants.get(id=held).status == OrderStatus.PLACED
    assert [d.order_id for d in allocate_waiting(tenant=tenant).decisions] == [held]


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_loses_a_race_for_stock_is_allocated_one_by_one(tenant, monkeypatch):
    """Between routing's read and the apply, another writer takes Paris's units: the batch rolls back, and each
    order is allocated alone from fresh figures; none is lost, nothing is oversold."""
    from fulfillment import selectors
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant)
    _prefer_wh2(api, shop)
    ids = _place(api, shop, 2)
    real_snapshot = selectors.pool_snapshot
    calls = []

    def snapshot_then_stock_taken(**kwargs):
        snapshot = real_snapshot(**kwargs)
        if not calls:  # the batch's read: then Paris's stock of A is counted away from under it
            StockLevel.objects.for_tenant(tenant).filter(product=shop.a, location=shop.wh2).update(on_hand=0)
        calls.append(1)
        return snapshot

    monkeypatch.setattr("fulfillment.services.allocation.pool_snapshot", snapshot_then_stock_taken)

    outcome = allocate_waiting(tenant=tenant)

    assert sorted(d.order_id for d in outcome.decisions) == sorted(ids) and outcome.lost == []
    assert len(calls) > 1  # routed again, one by one
    reserved = _reserved(tenant, shop.a)
    assert reserved.get(shop.wh2.id, 0) == 0 and sum(reserved.values()) == 4
    assert Order.all_tenants.filter(id__in=ids, status=OrderStatus.ALLOCATED).count() == 2


def test_a_snapshot_gives_back_and_takes_units_and_counts_loads(tenant, shop):
    snapshot = pool_snapshot(tenant=tenant, channel=shop.channel, product_ids={shop.a.id})
    before = {c.location_id: c.available[shop.a.id] for c in snapshot.candidates({shop.a.id})}

    snapshot.take(shop.a.id, shop.wh1.id, 3)
    snapshot.take(shop.a.id, shop.wh2.id, -2)
    snapshot.add_load(shop.wh1.id)

    after = {c.location_id: c for c in snapshot.candidates({shop.a.id}, held={(shop.a.id, shop.wh1.id): 1})}
    assert after[shop.wh1.id].available[shop.a.id] == before[shop.wh1.id] - 3 + 1
    assert after[shop.wh2.id].available[shop.a.id] == before[shop.wh2.id] + 2
    assert after[shop.wh1.id].load_today == 1 and after[shop.wh2.id].load_today == 0
