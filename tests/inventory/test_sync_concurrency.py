"""Concurrent stock writers on PostgreSQL: bulk sync batches and reservations on the same rows."""

import pytest
from django.db.models import Sum

from inventory import reservations, sync
from inventory.ledger import ledger_discrepancies, level_for, post_movement
from inventory.models import StockLevel
from oms.actors import Actor
from tests import factories
from tests.race import race

SYSTEM = Actor.system("tests")


@pytest.mark.django_db(transaction=True)
def test_batches_in_opposite_orders_and_reservations_neither_deadlock_nor_lose_units(tenant):
    products = [factories.ProductFactory(tenant=tenant, sku=f"P{i:03d}") for i in range(20)]
    locations = [factories.LocationFactory(tenant=tenant, code=f"L{i}") for i in range(3)]
    levels = []
    for product in products:
        for location in locations:
            level = level_for(tenant=tenant, product=product, location=location)
            post_movement(tenant=tenant, level=level, kind="receipt", quantity=50, actor=SYSTEM)
            levels.append(level)
    rows = [{"sku": p.sku, "location": loc.code, "delta": 1} for p in products for loc in locations]
    works = [
        lambda: sync.apply_adjustments(tenant=tenant, rows=rows, actor=SYSTEM).accepted,
        lambda: sync.apply_adjustments(tenant=tenant, rows=list(reversed(rows)), actor=SYSTEM).accepted,
        lambda: len(
            reservations.hold(
                tenant=tenant, holds=[reservations.Hold(level=lvl, quantity=1) for lvl in reversed(levels[::7])]
            )
        ),
    ]

    outcomes = race(len(works), lambda index: [works[index]() for _ in range(3)])

    assert outcomes.errors == []
    assert sorted(result for results in outcomes for result in results) == [len(levels[::7])] * 3 + [len(rows)] * 6
    totals = StockLevel.objects.for_tenant(tenant).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    assert totals == {"on_hand": len(levels) * 56, "reserved": len(levels[::7]) * 3}
    assert ledger_discrepancies(tenant=tenant) == []
