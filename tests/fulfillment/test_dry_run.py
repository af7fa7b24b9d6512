"""The routing dry run: where an order or a basket would go now, a reason for every location, no stock touched."""

import pytest

from inventory.models import StockLevel
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db

URL = "/api/v1/routing/dry-run/"


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _reserved(tenant):
    return sorted(StockLevel.objects.for_tenant(tenant).values_list("id", "reserved"))


def test_a_placed_order_is_planned_with_a_reason_for_every_location_and_nothing_moves(api, tenant, shop):
    placed = api.post("/api/v1/orders/", order_body(shop), format="json")
    assert placed.status_code == 201, placed.json()
    before = _reserved(tenant)

    answer = api.post(URL, {"order": placed.json()["id"]}, format="json")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["policy_version"] == 1 and body["fulfilment_type"] == "ship"
    assert body["shipments"] == 1 and body["unfilled"] == []
    [chosen] = body["plan"]
    assert sorted((line["sku"], line["quantity"]) for line in chosen["lines"]) == [(shop.a.sku, 2), (shop.b.sku, 1)]
    assert all(line["order_line"] for line in chosen["lines"])
    reasons = {reason["location"]: reason for reason in body["reasons"]}
    assert set(reasons) == {shop.wh1.code, shop.wh2.code, shop.store.code}
    assert [code for code, reason in reasons.items() if reason["chosen"]] == [chosen["location"]]
    assert all(reason["text"] for reason in reasons.values())
    assert _reserved(tenant) == before


def test_a_location_without_the_stock_is_excluded_and_says_so(api, tenant, shop):
    for location in (shop.wh1, shop.store):
        stock(tenant, shop.a, location, 0)
    basket = {
        "channel": shop.channel.code,
        "delivery": {"method": "ship", "address": {"postal_code": "69001", "country": "FR"}},
        "lines": [{"sku": shop.a.sku, "quantity": 2}],
    }

    body = api.post(URL, basket, format="json").json()

    assert [entry["location"] for entry in body["plan"]] == [shop.wh2.code]
    reasons = {reason["location"]: reason for reason in body["reasons"]}
    assert not reasons[shop.wh1.code]["chosen"] and shop.a.sku in reasons[shop.wh1.code]["text"]
    assert body["plan"][0]["lines"] == [{"order_line": None, "sku": shop.a.sku, "quantity": 2}]


def test_excluded_locations_are_left_out(api, shop):
    basket = {
        "channel": shop.channel.code,
        "delivery": {"method": "ship", "address": {"postal_code": "75001", "country": "FR"}},
        "lines": [{"sku": shop.a.sku, "quantity": 1}],
        "exclude": [shop.wh1.code],
    }

    body = api.post(URL, basket, format="json").json()

    assert shop.wh1.code not in [entry["location"] for entry in body["plan"]]
    assert not {r["location"]: r for r in body["reasons"]}[shop.wh1.code]["chosen"]


@pytest.mark.parametrize(
    "body,path",
    [
        ({}, "order"),
        ({"lines": [{"sku": "X", "quantity": 1}]}, "delivery"),
        ({"order": 1, "lines": [{"sku": "X", "quantity": 1}]}, "order"),
        ({"channel": "WEB", "delivery": {"method": "ship"}, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
        (
            {"channel": "WEB", "delivery": {"method": "ship"}, "lines": [{"sku": "WEB-A", "quantity": 0}]},
            "lines[0].quantity",
        ),
        (
            {
                "channel": "WEB",
                "delivery": {"method": "ship"},
                "lines": [{"sku": "WEB-A", "quantity": 1}],
                "exclude": ["NOPE"],
            },
            "exclude[0]",
        ),
    ],
)
def test_bad_questions_are_400_naming_the_field(api, shop, body, path):
    answer = api.post(URL, body, format="json")

    assert answer.status_code == 400
    assert path in answer.json()["errors"], answer.json()


def test_another_tenants_or_channels_order_is_not_found(api, other_api, tenant, shop):
    order_id = api.post("/api/v1/orders/", order_body(shop), format="json").json()["id"]
    other_channel = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant, code="MKT"))

    assert other_api.post(URL, {"order": order_id}, format="json").status_code == 404
    assert other_channel.post(URL, {"order": order_id}, format="json").status_code == 404
    assert (
        make_api_client(tenant, channel=shop.channel).post(URL, {"order": order_id}, format="json").status_code == 200
    )
