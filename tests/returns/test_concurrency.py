"""Returns racing on PostgreSQL (real threads): the order's row is locked from the policy's check to the commit,
so requests for the same units at once never ask back more than shipped."""

import pytest

from oms.api.scope import Scope
from oms.models import Role
from returns import services
from returns.models import Return, ReturnLine
from returns.policy import ReturnRefused
from tests.conftest import make_api_client
from tests.orders.support import build_shop
from tests.race import race
from tests.returns.support import lines_of, return_body, shipped_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_requests_for_the_last_unit_at_once_make_exactly_one_return(tenant):
    shop = build_shop(tenant)
    order = shipped_order(tenant, shop)  # one unit of B shipped
    callers = [make_api_client(tenant, channel=shop.channel), make_api_client(tenant)]
    body = return_body(order, (shop.b.sku, 1, "defective"))

    outcomes = race(2, lambda index: callers[index].post("/api/v1/returns/", body, format="json"))

    assert sorted(answer.status_code for answer in outcomes.values) == [201, 409]
    refusal = next(answer for answer in outcomes.values if answer.status_code == 409).json()
    assert refusal["rule"] == "quantity"
    assert Return.objects.for_tenant(tenant).count() == 1
    assert [rma.number for rma in Return.objects.for_tenant(tenant)] == ["RMA-000001"]


def test_clerks_asking_back_units_one_by_one_at_once_never_exceed_what_shipped(tenant):
    shop = build_shop(tenant)
    order = shipped_order(tenant, shop)  # two units of A shipped
    line = lines_of(order)[shop.a.sku]
    scope = Scope(tenant=tenant, actor=Scope.system(tenant, "clerk").actor, role=Role.BACK_OFFICE)

    outcomes = race(
        5,
        lambda index: services.request_return(
            scope=scope,
            order_id=order.id,
            method="mail",
            lines=[services.LineRequest(line.id, 1, "too_large")],
        ),
    )

    assert len(outcomes.values) == 2
    assert all(isinstance(error, ReturnRefused) for error in outcomes.errors) and len(outcomes.errors) == 3
    assert sum(ReturnLine.objects.for_tenant(tenant).values_list("quantity", flat=True)) == 2
    assert sorted(rma.sequence for rma in Return.objects.for_tenant(tenant)) == [1, 2]


def test_clerks_receiving_the_same_line_at_once_never_take_in_more_than_was_asked_back(tenant):
    from inventory.ledger import ledger_discrepancies
    from inventory.models import StockLevel
    from returns.models import ReturnReceipt

    shop = build_shop(tenant)
    shop.store.accepts_returns = True
    shop.store.save(update_fields=["accepts_returns"])
    order = shipped_order(tenant, shop, lines=[{"sku": shop.a.sku, "quantity": 3, "unit_price": "10.00"}])
    line = lines_of(order)[shop.a.sku]
    scope = Scope(tenant=tenant, actor=Scope.system(tenant, "clerk").actor, role=Role.BACK_OFFICE)
    rma = services.request_return(
        scope=scope,
        order_id=order.id,
        method="store",
        lines=[services.LineRequest(line.id, 3, "too_large")],
        location=shop.store.code,
    )
    services.approve_return(scope=scope, return_id=rma.id)
    before = StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=shop.store).on_hand

    # Each clerk scans two of the three units: only one of them can.
    outcomes = race(
        3,
        lambda index: services.receive_return(
            scope=scope,
            return_id=rma.id,
            location=shop.store.code,
            lines=[services.ReceiptLine(line.id, 2, "restock")],
        ),
    )

    assert len(outcomes.values) == 1
    assert len(outcomes.errors) == 2
    assert all(isinstance(error, services.ReceiptExceedsReturn) for error in outcomes.errors), outcomes.errors
    assert sum(ReturnReceipt.objects.for_tenant(tenant).values_list("quantity", flat=True)) == 2
    assert StockLevel.objects.for_tenant(tenant).get(product=shop.a, location=shop.store).on_hand == before + 2
    assert Return.objects.for_tenant(tenant).get().status == "received"
    assert ledger_discrepancies(tenant=tenant) == []
