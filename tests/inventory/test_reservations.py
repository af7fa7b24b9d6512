"""Reservation services: conditional holds, sourcing across the pool, release and consumption."""

import pytest

from inventory.ledger import ledger_discrepancies
from inventory.models import MovementKind, Reservation, StockLevel, StockMovement
from inventory.reservations import Hold, LineDemand, consume, hold, release, release_all, reserve_demands
from oms.errors import Conflict, InsufficientStock, NotFound
from tests import factories
from tests.inventory.stock_helpers import ACTOR, channel_with_pool, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(tenant):
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    par = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)
    channel = channel_with_pool(tenant, [wh, par], code="WEB")
    return wh, par, channel


def _level(level):
    return StockLevel.all_tenants.get(id=level.id)


def test_hold_takes_units_and_refuses_more_than_available(tenant, network):
    wh, _, channel = network
    product = factories.ProductFactory(tenant=tenant)
    level = receive(tenant, product, wh, 5)

    hold(tenant=tenant, holds=[Hold(level=level, quantity=3)], channel=channel)
    with pytest.raises(InsufficientStock) as short:
        hold(tenant=tenant, holds=[Hold(level=level, quantity=3)], channel=channel)

    assert _level(level).reserved == 3
    assert short.value.extra["lines"] == [{"sku": product.sku, "location": "WH1", "requested": 3, "available": 2}]


def test_safety_stock_is_never_reserved(tenant, network):
    wh, _, channel = network
    level = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 10, safety_stock=4)

    hold(tenant=tenant, holds=[Hold(level=level, quantity=6)], channel=channel)
    with pytest.raises(InsufficientStock):
        hold(tenant=tenant, holds=[Hold(level=level, quantity=1)], channel=channel)
    assert _level(level).reserved == 6


def test_hold_is_all_or_nothing(tenant, network):
    wh, _, channel = network
    plenty = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 10)
    scarce = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 1)

    with pytest.raises(InsufficientStock) as short:
        hold(tenant=tenant, holds=[Hold(level=plenty, quantity=5), Hold(level=scarce, quantity=2)], channel=channel)

    assert _level(plenty).reserved == 0
    assert [line["sku"] for line in short.value.extra["lines"]] == [scarce.product.sku]
    assert not Reservation.all_tenants.exists()


def test_release_gives_units_back_once(tenant, network):
    wh, _, channel = network
    level = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 5)
    [reservation] = hold(tenant=tenant, holds=[Hold(level=level, quantity=4)], channel=channel)

    assert release(tenant=tenant, reservation=reservation, quantity=1) == 1
    assert _level(level).reserved == 3
    assert release(tenant=tenant, reservation=reservation) == 3
    assert release(tenant=tenant, reservation=reservation) == 0
    reservation.refresh_from_db()
    assert (reservation.status, _level(level).reserved) == (Reservation.Status.RELEASED, 0)


def test_release_all_gives_back_every_reservation_at_once_lots_included(tenant, network):
    from datetime import timedelta

    from inventory.ledger import lot_for
    from inventory.models import Lot
    from inventory.sourcing import today_for

    wh, par, channel = network
    plain_wh = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 5)
    plain_par = receive(tenant, factories.ProductFactory(tenant=tenant), par, 5)
    fresh_product = factories.ProductFactory(tenant=tenant, tracks_lots=True)
    fresh = receive(tenant, fresh_product, wh, 4, lot="L1", expires_in_days=30)
    held = hold(
        tenant=tenant,
        holds=[Hold(level=plain_wh, quantity=2), Hold(level=plain_par, quantity=3), Hold(level=fresh, quantity=4)],
        channel=channel,
    )
    already = hold(tenant=tenant, holds=[Hold(level=plain_wh, quantity=1)], channel=channel)[0]
    release(tenant=tenant, reservation=already)

    assert release_all(tenant=tenant, reservation_ids=[r.id for r in [*held, already]]) == 9

    assert [_level(level).reserved for level in (plain_wh, plain_par, fresh)] == [0, 0, 0]
    lot = lot_for(tenant=tenant, level=fresh, code="L1", expires_on=today_for(tenant) + timedelta(days=30))
    assert Lot.all_tenants.get(id=lot.id).reserved == 0
    assert set(Reservation.all_tenants.filter(id__in=[r.id for r in held]).values_list("status", flat=True)) == {
        Reservation.Status.RELEASED
    }
    assert release_all(tenant=tenant, reservation_ids=[r.id for r in held]) == 0
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_release_all_refuses_when_a_row_holds_fewer_units_and_changes_nothing(tenant, network):
    wh, _, channel = network
    level = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 5)
    [reservation] = hold(tenant=tenant, holds=[Hold(level=level, quantity=3)], channel=channel)
    StockLevel.all_tenants.filter(id=level.id).update(reserved=1)  # a row broken behind the services' back

    with pytest.raises(Conflict):
        release_all(tenant=tenant, reservation_ids=[reservation.id])

    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.ACTIVE and _level(level).reserved == 1


def test_consume_ships_reserved_units_with_a_sale_movement(tenant, network):
    wh, _, channel = network
    level = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 5)
    [reservation] = hold(tenant=tenant, holds=[Hold(level=level, quantity=3)], channel=channel)

    consume(tenant=tenant, reservation=reservation, quantity=2, actor=ACTOR, reference="SHIP-1")
    consume(tenant=tenant, reservation=reservation, quantity=1, actor=ACTOR, reference="SHIP-2")

    fresh = _level(level)
    assert (fresh.on_hand, fresh.reserved) == (2, 0)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CONSUMED
    sales = StockMovement.all_tenants.filter(stock_level=level, kind=MovementKind.SALE)
    assert sorted(m.quantity for m in sales) == [-2, -1]
    with pytest.raises(Conflict):
        consume(tenant=tenant, reservation=reservation, quantity=1, actor=ACTOR)
    assert ledger_discrepancies(tenant=tenant, check_reservations=True) == []


def test_one_location_serves_the_whole_order_when_it_can(tenant, network):
    wh, par, channel = network
    a, b = factories.ProductFactory(tenant=tenant), factories.ProductFactory(tenant=tenant)
    receive(tenant, a, wh, 5)  # WH1 lacks b: the order goes to PAR01 whole
    receive(tenant, a, par, 2)
    receive(tenant, b, par, 2)

    demands = reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", a, 2), LineDemand("l2", b, 1)])

    assert {h.level.location.code for d in demands for h in d.holds} == {"PAR01"}
    assert [r.quantity for r in demands[0].reservations] == [2]


def test_a_line_is_split_in_pool_priority_when_no_location_holds_it_all(tenant, network):
    wh, par, channel = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 3)
    receive(tenant, product, par, 4)

    [demand] = reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 6)])

    assert [(r.stock_level.location.code, r.quantity) for r in demand.reservations] == [("WH1", 3), ("PAR01", 3)]


def test_split_false_reserves_at_one_location_or_not_at_all(tenant, network):
    wh, par, channel = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 3)
    receive(tenant, product, par, 4)

    with pytest.raises(InsufficientStock) as short:
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 6)], split=False)
    assert short.value.extra["lines"] == [{"sku": product.sku, "requested": 6, "available": 4}]


def test_two_lines_of_one_sku_do_not_count_the_same_units_twice(tenant, network):
    wh, par, channel = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 3)
    receive(tenant, product, par, 3)

    demands = reserve_demands(
        tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 3), LineDemand("l2", product, 3)]
    )

    assert sorted(r.stock_level.location.code for d in demands for r in d.reservations) == ["PAR01", "WH1"]


def test_short_demand_names_the_sku_requested_and_network_available(tenant, network):
    wh, par, channel = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 2)
    receive(tenant, product, par, 1)

    with pytest.raises(InsufficientStock) as short:
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 4)])

    assert short.value.extra["lines"] == [{"sku": product.sku, "requested": 4, "available": 3}]
    assert StockLevel.all_tenants.filter(reserved__gt=0).count() == 0


def test_the_channel_buffer_is_held_back_from_reservations(tenant, network):
    wh, par, _ = network
    channel = channel_with_pool(tenant, [wh], code="MKT", buffer=20, buffer_kind="percent")
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 10)  # 20 % of 10 held back: 8 promisable

    with pytest.raises(InsufficientStock) as short:
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 9)])
    assert short.value.extra["lines"][0]["available"] == 8
    reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 8)])


def test_locations_narrow_the_pool_to_a_pickup_store(tenant, network):
    wh, par, channel = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 10)
    receive(tenant, product, par, 1)

    [demand] = reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 1)], locations=[par])
    assert demand.reservations[0].stock_level.location == par
    with pytest.raises(InsufficientStock):
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l2", product, 1)], locations=[par])


def test_inactive_products_and_channels_are_never_reserved(tenant, network):
    wh, _, channel = network
    product = factories.ProductFactory(tenant=tenant, active=False)
    receive(tenant, product, wh, 10)

    with pytest.raises(InsufficientStock) as short:
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", product, 1)])
    assert short.value.extra["lines"][0]["available"] == 0

    active = factories.ProductFactory(tenant=tenant)
    receive(tenant, active, wh, 10)
    channel.active = False
    channel.save()
    with pytest.raises(Conflict):
        reserve_demands(tenant=tenant, channel=channel, demands=[LineDemand("l1", active, 1)])


def test_reservations_belong_to_their_order_lines_and_expire_with_the_ttl(tenant, network):
    wh, _, channel = network
    line = factories.OrderLineFactory(order__tenant=tenant, order__channel=channel, quantity=2)
    receive(tenant, line.product, wh, 5)

    [demand] = reserve_demands(
        tenant=tenant,
        channel=channel,
        demands=[LineDemand(line.id, line.product, 2)],
        order_lines={line.id: line},
        ttl_seconds=600,
    )

    reservation = Reservation.all_tenants.get(id=demand.reservations[0].id)
    assert reservation.order_line_id == line.id
    assert reservation.channel == channel and reservation.expires_at is not None


def test_another_tenants_channel_or_product_is_refused(tenant, other_tenant, network):
    wh, _, channel = network
    foreign_channel = factories.ChannelFactory(tenant=other_tenant)
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 5)

    with pytest.raises(NotFound):
        reserve_demands(tenant=tenant, channel=foreign_channel, demands=[LineDemand("l1", product, 1)])
    with pytest.raises(NotFound):
        reserve_demands(
            tenant=tenant, channel=channel, demands=[LineDemand("l1", factories.ProductFactory(tenant=other_tenant), 1)]
        )
