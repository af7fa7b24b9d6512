"""The shared-fields seam (oms.api.serializers): order serializers built once per class answer and refuse
exactly as DRF's per-instance fields do."""

import pytest
from rest_framework import serializers

from oms.api.problems import flatten_errors
from oms.api.scope import Scope
from oms.api.serializers import SharedFieldsSerializer
from orders import api as orders_api
from orders import selectors
from tests.orders.support import order_body
from tests.race import race

pytestmark = pytest.mark.django_db

BAD = {
    "external_ref": "",
    "currency": "eur",
    "customer": {"email": "not-an-email"},
    "delivery": {"method": "ship", "address": {"line1": "x", "postal_code": "1", "city": "c", "country": "France"}},
    "lines": [
        {"sku": "A", "quantity": 1, "unit_price": "1.00"},
        {"sku": "B", "quantity": 0, "unit_price": "x"},
        {"sku": "C", "quantity": 1, "unit_price": "1.00", "status": "shipped"},
    ],
    "promotions": [{"code": "P", "amount": "-1"}],
    "shipping": {"amount": "abc"},
    "status": "placed",
}


@pytest.fixture
def plain_drf(monkeypatch):
    """Every serializer of the module back on DRF's own field building (a deep copy per instance)."""

    def use_drf():
        monkeypatch.setattr(SharedFieldsSerializer, "get_fields", serializers.Serializer.get_fields)

    return use_drf


def _placed(client, shop, tenant, **overrides):
    response = client.post("/api/v1/orders/", order_body(shop, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return selectors.order_detail(scope=Scope.system(tenant), order_id=response.json()["id"])


def test_an_order_is_answered_as_drf_answers_it(api, shop, tenant, plain_drf):
    order = _placed(
        api,
        shop,
        tenant,
        promotions=[{"code": "WELCOME", "amount": "2.00"}],
        promised_delivery={"earliest": "2030-01-02", "latest": "2030-01-04"},
    )
    prebuilt = orders_api.OrderOut(order).data
    summary = orders_api.OrderSummaryOut(order).data

    plain_drf()

    assert orders_api.OrderOut(order).data == prebuilt
    assert orders_api.OrderSummaryOut(order).data == summary


def test_bad_input_is_refused_with_the_errors_drf_gives(plain_drf):
    prebuilt = orders_api.OrderIn(data=BAD)
    assert not prebuilt.is_valid()

    plain_drf()
    plain = orders_api.OrderIn(data=BAD)
    assert not plain.is_valid()

    assert flatten_errors(prebuilt.errors) == flatten_errors(plain.errors)
    assert "lines[1].quantity" in flatten_errors(prebuilt.errors)


def test_good_input_is_parsed_as_drf_parses_it(shop, plain_drf):
    body = order_body(shop, promotions=[{"code": "P", "amount": "1.50"}], shipping={"amount": "4.90"})
    prebuilt = orders_api.parse(orders_api.OrderIn, body)

    plain_drf()

    assert orders_api.parse(orders_api.OrderIn, body) == prebuilt


def test_threads_serializing_different_orders_never_mix_them(api, shop, tenant):
    orders = [_placed(api, shop, tenant, external_ref=f"MIX-{i}") for i in range(4)]
    expected = [orders_api.OrderOut(order).data for order in orders]

    def serialize(index):
        return [index % 4 for _ in range(50) if orders_api.OrderOut(orders[index % 4]).data != expected[index % 4]]

    outcomes = race(8, serialize, timeout=30)

    assert outcomes.errors == []
    mixed = [index for indexes in outcomes for index in indexes]
    assert mixed == []
