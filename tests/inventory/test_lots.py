"""Lot-tracked products: FEFO allocation, expired lots, minimum shelf life per channel, lot ledger."""

from datetime import timedelta

import pytest

from inventory import alerts
from inventory.availability import channel_availability
from inventory.ledger import ledger_discrepancies, level_for, lot_for, post_movement
from inventory.models import Lot, MovementKind, StockAlertRule, StockLevel, StockMovement
from inventory.reservations import LineDemand, consume, release, reserve_demands
from inventory.sourcing import today_for
from oms.errors import Conflict, InsufficientStock, ValidationFailed
from tests import factories
from tests.inventory.stock_helpers import ACTOR, channel_with_pool, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(tenant):
    """A yoghurt at one store: 4 units expired yesterday, 3 expiring in 2 days, 5 expiring in 10 days."""
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)
    product = factories.ProductFactory(tenant=tenant, sku="YAOURT-NATURE", tracks_lots=True)
    receive(tenant, product, store, 4, lot="L-OLD", expires_in_days=-1)
    receive(tenant, product, store, 3, lot="L-SOON", expires_in_days=2)
    receive(tenant, product, store, 5, lot="L-LATE", expires_in_days=10)
    return product, store


def _lots(product):
    return {lot.code: (lot.on_hand, lot.reserved) for lot in Lot.all_tenants.filter(stock_level__product=product)}


def _reserve(tenant, channel, product, quantity):
    [demand] = reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l", product, quantity)])
    return demand.reservations[0]


def test_reservations_take_the_earliest_expiring_sellable_lot_first(tenant, fresh):
    product, store = fresh
    channel = channel_with_pool(tenant, [store])

    reservation = _reserve(tenant, channel, product, 4)

    assert _lots(product) == {"L-OLD": (4, 0), "L-SOON": (3, 3), "L-LATE": (5, 1)}
    assert sorted((a.lot.code, a.quantity) for a in reservation.lot_allocations.all()) == [("L-LATE", 1), ("L-SOON", 3)]
    assert StockLevel.all_tenants.get(product=product).reserved == 4


def test_expired_lots_are_neither_available_nor_reserved(tenant, fresh):
    product, store = fresh
    channel = channel_with_pool(tenant, [store])

    [figure] = channel_availability(tenant=tenant, channel=channel, skus=[product.sku])
    assert figure.available == 8  # 12 on hand, 4 of them expired

    with pytest.raises(InsufficientStock) as short:
        _reserve(tenant, channel, product, 9)
    assert short.value.extra["lines"][0]["available"] == 8
    assert StockLevel.all_tenants.get(product=product).reserved == 0
    assert _lots(product)["L-OLD"] == (4, 0)


def test_a_channel_minimum_shelf_life_skips_lots_expiring_too_soon(tenant, fresh):
    product, store = fresh
    strict = channel_with_pool(tenant, [store], code="WEB", min_shelf_life_days=5)
    lenient = channel_with_pool(tenant, [store], code="STORE", min_shelf_life_days=0)

    assert channel_availability(tenant=tenant, channel=strict, skus=[product.sku])[0].available == 5
    assert channel_availability(tenant=tenant, channel=lenient, skus=[product.sku])[0].available == 8
    reservation = _reserve(tenant, strict, product, 2)
    assert [a.lot.code for a in reservation.lot_allocations.all()] == ["L-LATE"]
    with pytest.raises(InsufficientStock):
        _reserve(tenant, strict, product, 4)


def test_a_lot_expiring_today_is_still_sold_today(tenant):
    store = factories.LocationFactory(tenant=tenant)
    product = factories.ProductFactory(tenant=tenant, tracks_lots=True)
    receive(tenant, product, store, 2, lot="TODAY", expires_in_days=0)
    channel = channel_with_pool(tenant, [store])

    assert channel_availability(tenant=tenant, channel=channel, skus=[product.sku])[0].available == 2


def test_consumption_ships_the_reserved_lots_earliest_first(tenant, fresh):
    product, store = fresh
    channel = channel_with_pool(tenant, [store])
    reservation = _reserve(tenant, channel, product, 5)  # L-SOON 3, L-LATE 2

    consume(tenant=tenant, reservation=reservation, quantity=4, actor=ACTOR, reference="SHIP-1")

    assert _lots(product) == {"L-OLD": (4, 0), "L-SOON": (0, 0), "L-LATE": (4, 1)}
    sales = StockMovement.all_tenants.filter(kind=MovementKind.SALE).order_by("id")
    assert [(m.lot.code, m.quantity) for m in sales] == [("L-SOON", -3), ("L-LATE", -1)]
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_release_gives_back_the_latest_expiring_lot_units_first(tenant, fresh):
    product, store = fresh
    channel = channel_with_pool(tenant, [store])
    reservation = _reserve(tenant, channel, product, 5)  # L-SOON 3, L-LATE 2

    release(tenant=tenant, reservation=reservation, quantity=3)
    assert _lots(product) == {"L-OLD": (4, 0), "L-SOON": (3, 2), "L-LATE": (5, 0)}
    release(tenant=tenant, reservation=reservation)
    assert _lots(product) == {"L-OLD": (4, 0), "L-SOON": (3, 0), "L-LATE": (5, 0)}
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_a_receipt_of_a_lot_tracked_product_names_its_lot(tenant):
    store = factories.LocationFactory(tenant=tenant)
    product = factories.ProductFactory(tenant=tenant, tracks_lots=True)
    level = level_for(tenant=tenant, product=product, location=store)

    with pytest.raises(ValidationFailed) as refused:
        post_movement(tenant=tenant, level=level, kind=MovementKind.RECEIPT, quantity=3, actor=ACTOR)
    assert "lot" in refused.value.extra["errors"]


def test_a_known_lot_keeps_its_expiry_date(tenant, fresh):
    product, store = fresh
    level = level_for(tenant=tenant, product=product, location=store)

    with pytest.raises(ValidationFailed) as refused:
        lot_for(tenant=tenant, level=level, code="L-LATE", expires_on=today_for(tenant) + timedelta(days=99))
    assert "expires_on" in refused.value.extra["errors"]


def test_a_removal_without_lot_takes_unreserved_units_earliest_expiry_first(tenant, fresh):
    product, store = fresh
    channel = channel_with_pool(tenant, [store])
    _reserve(tenant, channel, product, 3)  # holds all of L-SOON
    level = level_for(tenant=tenant, product=product, location=store)

    movement = post_movement(
        tenant=tenant, level=level, kind=MovementKind.ADJUSTMENT, quantity=-6, actor=ACTOR, reason="write-off"
    )

    assert _lots(product) == {"L-OLD": (0, 0), "L-SOON": (3, 3), "L-LATE": (3, 0)}
    assert [(m.lot.code, m.quantity) for m in movement.lot_movements] == [("L-OLD", -4), ("L-LATE", -2)]
    assert StockLevel.all_tenants.get(id=level.id).on_hand == 6
    with pytest.raises(Conflict):
        post_movement(tenant=tenant, level=level, kind=MovementKind.ADJUSTMENT, quantity=-4, actor=ACTOR)
    assert ledger_discrepancies(tenant=tenant) == []


def test_low_stock_alerts_count_lots_and_shelf_life_as_availability_does(tenant, fresh):
    """One availability rule: a channel's alert and /availability/ agree on lot-tracked stock."""
    product, store = fresh
    channel = channel_with_pool(tenant, [store], code="FRESH", min_shelf_life_days=5, buffer=1)
    [figure] = channel_availability(tenant=tenant, channel=channel, skus=[product.sku])
    assert figure.available == 4  # only L-LATE (5) lasts 5 days, less a buffer of 1

    alerts.save_rule(tenant=tenant, actor=ACTOR, sku=product.sku, channel_code="FRESH", threshold=4)
    alerts.save_rule(tenant=tenant, actor=ACTOR, sku=product.sku, location_code="PAR01", threshold=8)

    rules = {(r.channel_id is not None): r for r in StockAlertRule.objects.for_tenant(tenant)}
    assert rules[True].is_low  # 4 available to the channel, not the 12 on hand
    assert rules[False].is_low  # 8 sellable today at the store: the expired lot does not count
