"""Transfers and counts beside order intake on the same locations: no deadlock, no error, the ledger holds."""

from decimal import Decimal

import pytest

from inventory import counts, transfers
from inventory.ledger import ledger_discrepancies
from oms.actors import Actor
from orders import services
from tests.inventory.stock_helpers import receive
from tests.orders.support import build_shop
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")


def test_transfers_counts_and_orders_racing_on_the_same_locations_all_succeed(tenant):
    """Locks taken by a transfer or a count on their own rows must not block (nor deadlock with) the foreign-key
    checks of the other writers' inserts, which refer to the same locations and products."""
    shop = build_shop(tenant, code="RACE")
    for product in shop.products:
        receive(tenant, product, shop.wh1, 500)
        receive(tenant, product, shop.wh2, 500)
    rounds = 4

    def transfer_flow(index):
        for _ in range(rounds):
            moved = transfers.create_transfer(
                tenant=tenant,
                actor=SYSTEM,
                source=shop.wh1.code,
                destination=shop.wh2.code,
                lines=[(shop.a.sku, 1), (shop.b.sku, 1)],
            )
            transfers.ship_transfer(tenant=tenant, actor=SYSTEM, transfer_id=moved.id)
            transfers.receive_transfer(tenant=tenant, actor=SYSTEM, transfer_id=moved.id)

    def order_flow(index):
        for round_ in range(rounds):
            services.place_order(
                tenant=tenant,
                actor=SYSTEM,
                data=services.OrderInput(
                    channel=shop.channel,
                    external_ref=f"RACE-{index}-{round_}",
                    currency="EUR",
                    customer={"email": f"r{index}@example.com"},
                    address={"line1": "1 rue", "city": "Paris", "postal_code": "75001", "country": "FR"},
                    lines=[
                        services.LineInput(sku=shop.b.sku, quantity=1, unit_price=Decimal("5.00")),
                        services.LineInput(sku=shop.a.sku, quantity=1, unit_price=Decimal("5.00")),
                    ],
                ),
            )

    def count_flow(index):
        for _ in range(rounds):
            count = counts.start_count(
                tenant=tenant, actor=SYSTEM, location=shop.wh2.code, skus=[shop.a.sku, shop.b.sku]
            )
            counts.cancel_count(tenant=tenant, actor=SYSTEM, count_id=count.id)

    flows = [transfer_flow, transfer_flow, order_flow, order_flow, transfer_flow, count_flow]

    outcomes = race(len(flows), lambda index: flows[index](index), timeout=120)

    assert [
        f"{flows[i].__name__}: {type(exc).__name__}: {exc}"
        for i, exc in enumerate(outcomes)
        if isinstance(exc, BaseException)
    ] == []
    assert ledger_discrepancies(tenant=tenant) == []
