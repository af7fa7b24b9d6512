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
