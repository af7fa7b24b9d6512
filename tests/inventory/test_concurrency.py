"""Reservations under real concurrency, threads with their own PostgreSQL connections: buyers of several SKUs in
different orders never deadlock, buyers of a fresh product never take more than its sellable lots, and
concurrent bulk upserts of the same new SKUs all succeed. (The flash sale races through a real HTTP server in
tests/orders/test_http_concurrency.py.)"""

import random

import pytest

from inventory.ledger import ledger_discrepancies
from inventory.models import Lot, Product, Reservation, StockLevel
from inventory.reservations import LineDemand, reserve_demands
from inventory.services import upsert_products
from oms.errors import InsufficientStock
from tests import factories
from tests.inventory.stock_helpers import ACTOR, channel_with_pool, receive
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)


def _buyers(attempts: int, buy, workers: int) -> list[str]:
    """Run buy(0) ... buy(attempts - 1) on `workers` racing threads; "ok", "insufficient" or the error, per
    attempt."""

    def worker(index):
        outcomes = []
        for attempt in range(index, attempts, workers):
            try:
                buy(attempt)
                outcomes.append("ok")
            except InsufficientStock:
                outcomes.append("insufficient")
            except Exception as exc:  # noqa: BLE001 - any other error is a failure of the test
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
        return outcomes

    raced = race(workers, worker)
    assert raced.errors == []
    return [outcome for outcomes in raced for outcome in outcomes]


def test_buyers_of_several_skus_in_different_orders_never_see_a_deadlock(tenant):
    warehouses = [factories.LocationFactory(tenant=tenant, code=f"WH{i}") for i in range(2)]
    channel = channel_with_pool(tenant, warehouses, code="WEB")
    products = [factories.ProductFactory(tenant=tenant, sku=f"MIX-{i}") for i in range(4)]
    for product in products:
        for warehouse in warehouses:
            receive(tenant, product, warehouse, 30)

    def buy(i):
        basket = products[:]
        random.Random(i).shuffle(basket)
        reserve_demands(
            tenant=tenant,
            channel=channel,
            demands=[LineDemand(f"{i}-{p.sku}", p, 1 + (i + n) % 3) for n, p in enumerate(basket)],
        )

    outcomes = _buyers(120, buy, workers=30)

    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("ok") > 0
    for product in products:
        reserved = sum(StockLevel.all_tenants.filter(product=product).values_list("reserved", flat=True))
        held = sum(
            Reservation.all_tenants.filter(stock_level__product=product, status="active").values_list(
                "quantity", flat=True
            )
        )
        assert reserved == held <= 60
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_concurrent_buyers_of_a_fresh_product_never_take_more_than_its_sellable_lots(tenant):
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)
    channel = channel_with_pool(tenant, [store], code="CC")
    product = factories.ProductFactory(tenant=tenant, sku="FRAISES", tracks_lots=True)
    receive(tenant, product, store, 10, lot="EXPIRED", expires_in_days=-2)
    receive(tenant, product, store, 7, lot="A", expires_in_days=1)
    receive(tenant, product, store, 8, lot="B", expires_in_days=4)

    def buy(i):
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand(f"cart-{i}", product, 1)])

    outcomes = _buyers(60, buy, workers=20)

    assert outcomes.count("ok") == 15
    assert outcomes.count("insufficient") == 45
    assert {lot.code: lot.reserved for lot in Lot.all_tenants.filter(stock_level__product=product)} == {
        "EXPIRED": 0,
        "A": 7,
        "B": 8,
    }
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_concurrent_bulk_upserts_of_the_same_new_skus_all_succeed(tenant):
    rows = [{"index": i, "sku": f"NEW-{i:03d}", "name": f"Article {i}"} for i in range(50)]

    def upsert(i):
        return {r.status for r in upsert_products(tenant=tenant, actor=ACTOR, rows=[dict(r) for r in rows])}

    outcomes = race(8, upsert)

    assert outcomes.errors == []
    assert all(statuses <= {"created", "unchanged"} for statuses in outcomes)
    assert Product.objects.for_tenant(tenant).count() == 50
