"""Holding several stock rows at once: one statement, rows locked in (location, product) order, all or nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Reservation, StockLevel
from inventory.reservations import Hold, hold
from oms.errors import InsufficientStock
from tests import factories
from tests.inventory.stock_helpers import channel_with_pool, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(tenant):
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    par = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)
    return wh, par, channel_with_pool(tenant, [wh, par], code="WEB")


def _reserved(*levels):
    return [StockLevel.all_tenants.get(id=level.id).reserved for level in levels]


def test_three_rows_are_reserved_with_one_update(tenant, network):
    wh, par, channel = network
    levels = [receive(tenant, factories.ProductFactory(tenant=tenant), location, 5) for location in (wh, par, wh)]

    with CaptureQueriesContext(connection) as queries:
        hold(tenant=tenant, holds=[Hold(level=level, quantity=2) for level in levels], channel=channel)

    assert _reserved(*levels) == [2, 2, 2]
    updates = [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"] and "stocklevel" in q["sql"]]
    assert len(updates) == 1


def test_two_holds_on_one_row_count_together(tenant, network):
    wh, _, channel = network
    shared = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 3)
    other = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 3)

    with pytest.raises(InsufficientStock) as short:
        hold(
            tenant=tenant,
            holds=[Hold(level=shared, quantity=2), Hold(level=other, quantity=1), Hold(level=shared, quantity=2)],
            channel=channel,
        )
    assert _reserved(shared, other) == [0, 0]
    assert short.value.extra["lines"] == [
        {"sku": shared.product.sku, "location": "WH1", "requested": 4, "available": 3}
    ]

    reservations = hold(
        tenant=tenant,
        holds=[Hold(level=shared, quantity=2), Hold(level=other, quantity=1), Hold(level=shared, quantity=1)],
        channel=channel,
    )
    assert _reserved(shared, other) == [3, 1]
    assert [r.quantity for r in reservations] == [2, 1, 1]


def test_a_short_row_leaves_every_row_of_the_batch_untouched(tenant, network):
    wh, par, channel = network
    first = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 10)
    second = receive(tenant, factories.ProductFactory(tenant=tenant), par, 10, safety_stock=9)
    third = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 10)

    with pytest.raises(InsufficientStock) as short:
        hold(
            tenant=tenant,
            holds=[Hold(level=first, quantity=1), Hold(level=second, quantity=2), Hold(level=third, quantity=1)],
            channel=channel,
        )

    assert _reserved(first, second, third) == [0, 0, 0]
    assert [line["sku"] for line in short.value.extra["lines"]] == [second.product.sku]
    assert not Reservation.all_tenants.exists()


def test_another_tenants_row_in_a_batch_is_refused(tenant, other_tenant, network):
    wh, _, channel = network
    ours = receive(tenant, factories.ProductFactory(tenant=tenant), wh, 5)
    elsewhere = factories.LocationFactory(tenant=other_tenant, code="WH9")
    theirs = receive(other_tenant, factories.ProductFactory(tenant=other_tenant), elsewhere, 5)

    with pytest.raises(ValueError):
        hold(tenant=tenant, holds=[Hold(level=ours, quantity=1), Hold(level=theirs, quantity=1)], channel=channel)
    assert _reserved(ours, theirs) == [0, 0]


def test_the_one_query_pool_snapshot_reads_what_the_pool_and_its_levels_read(tenant):
    from inventory.sourcing import channel_locations, pool_levels, pool_snapshot

    first = factories.LocationFactory(tenant=tenant, code="FIRST")
    second = factories.LocationFactory(tenant=tenant, code="SECOND")
    closed = factories.LocationFactory(tenant=tenant, code="CLOSED", active=False)
    empty = factories.LocationFactory(tenant=tenant, code="EMPTY")
    # Pool priority is not creation order: SECOND comes first.
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")
    for priority, location in ((2, first), (1, second), (0, closed), (3, empty)):
        factories.ChannelLocationFactory(channel=channel, location=location, priority=priority)
    plain = factories.ProductFactory(tenant=tenant)
    fresh = factories.ProductFactory(tenant=tenant, tracks_lots=True)
    off = factories.ProductFactory(tenant=tenant, active=False)
    for location in (first, second, closed):
        receive(tenant, plain, location, 7)
        receive(tenant, off, location, 2)
    receive(tenant, fresh, second, 5, lot="L1", expires_in_days=10)
    receive(tenant, fresh, first, 4, lot="L2", expires_in_days=-1)  # expired: nothing sellable
    products = [plain, fresh, off]

    ordered, levels = pool_snapshot(tenant=tenant, channel=channel, products=products)
    pool = channel_locations(tenant=tenant, channel=channel)
    expected = pool_levels(tenant=tenant, channel=channel, products=products, locations=pool)

    assert [loc.code for loc in ordered] == ["SECOND", "FIRST"]
    assert [loc.code for loc in pool] == ["SECOND", "FIRST", "EMPTY"]
    assert levels.keys() == expected.keys()
    for key, level in levels.items():
        twin = expected[key]
        assert (
            level.id,
            level.sellable,
            level.on_hand,
            level.reserved,
            level.location.code,
            level.product.sku,
            level.product.active,
            level.product.tracks_lots,
        ) == (
            twin.id,
            twin.sellable,
            twin.on_hand,
            twin.reserved,
            twin.location.code,
            twin.product.sku,
            twin.product.active,
            twin.product.tracks_lots,
        )
        assert level.location.address == twin.location.address and level.product.attributes == twin.product.attributes
