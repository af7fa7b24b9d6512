"""NUL characters (which PostgreSQL cannot store in text or jsonb) are refused at the edge with a clear 400."""

import json

import pytest

from channels.models import Channel
from inventory.models import Location, Product
from orders.models import Order
from tests import factories
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def post_raw(client, path, body: dict, **extra):
    """json.dumps writes a NUL inside a string or a key as the escape \\u0000, as any client does."""
    return client.post(path, data=json.dumps(body), content_type="application/json", **extra)


def assert_nul_refused(response, path):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    assert path in body["errors"], body["errors"]
    assert "NUL" in body["errors"][path][0]
    return body


def test_a_nul_in_a_product_attribute_value_answers_400_naming_its_path(api, tenant):
    response = post_raw(api, "/api/v1/products/", {"sku": "NUL-1", "name": "Mug", "attributes": {"k": "a\u0000b"}})

    assert_nul_refused(response, "attributes.k")
    assert not Product.objects.for_tenant(tenant).filter(sku="NUL-1").exists()


def test_a_nul_in_an_order_metadata_key_answers_400_and_places_nothing(tenant):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant, channel=shop.channel)
    response = post_raw(
        api, "/api/v1/orders/", order_body(shop, metadata={"k\u0000": 1}), HTTP_IDEMPOTENCY_KEY="nul-order-1"
    )

    body = assert_nul_refused(response, 'metadata["k\\u0000"]')
    assert "key" in body["errors"]['metadata["k\\u0000"]'][0]
    assert not Order.objects.for_tenant(tenant).exists()


def test_a_nul_in_an_order_line_sku_names_the_line(tenant):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant, channel=shop.channel)
    body = order_body(shop)
    body["lines"][1]["sku"] = "WEB-\u0000B"

    assert_nul_refused(post_raw(api, "/api/v1/orders/", body), "lines[1].sku")


def test_a_nul_in_a_location_address_answers_400(api, tenant):
    response = post_raw(
        api,
        "/api/v1/locations/",
        {"code": "NUL1", "name": "Depot", "kind": "warehouse", "address": {"line1": "1 rue\u0000", "city": "Lyon"}},
    )

    assert_nul_refused(response, "address.line1")
    assert not Location.objects.for_tenant(tenant).filter(code="NUL1").exists()


def test_one_bad_row_of_a_bulk_product_upsert_is_named_and_nothing_is_written(api, tenant):
    rows = [{"sku": f"BULK-{i}", "name": f"Item {i}"} for i in range(5)]
    rows[3]["sku"] = "BULK-\u00003"

    response = post_raw(api, "/api/v1/products/bulk/", {"products": rows})

    assert_nul_refused(response, "products[3].sku")
    assert not Product.objects.for_tenant(tenant).filter(sku__startswith="BULK-").exists()


def test_every_offending_value_is_listed(api):
    response = post_raw(
        api, "/api/v1/products/", {"sku": "X\u0000", "name": "ok", "attributes": {"tags": ["a", "b\u0000"]}}
    )

    body = assert_nul_refused(response, "sku")
    assert "attributes.tags[1]" in body["errors"]


def test_a_body_without_nul_still_goes_through(api, tenant):
    response = post_raw(
        api,
        "/api/v1/products/",
        {"sku": "OK-1", "name": "Mug \\u0000 literally", "attributes": {"note": "back\\slash"}},
    )

    assert response.status_code == 201, response.content
    assert Product.objects.for_tenant(tenant).get(sku="OK-1").name == "Mug \\u0000 literally"


def test_a_nul_in_a_channel_body_answers_400(api, tenant):
    response = post_raw(api, "/api/v1/channels/", {"code": "NULCH", "name": "Web\u0000", "kind": "web"})

    assert_nul_refused(response, "name")
    assert not Channel.objects.for_tenant(tenant).filter(code="NULCH").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/a%00b/",
        "/api/v1/locations/a%00b/",
        "/api/v1/channels/a%00b/",
        "/api/v1/customers/?q=a%00b",
        "/api/v1/products/?sku=a%00b",
    ],
)
def test_a_nul_in_an_api_address_answers_400_problem(api, path):
    response = api.get(path)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert body["request_id"] == response["X-Request-ID"]
    assert "NUL" in body["detail"]


def test_a_nul_in_the_path_is_refused_before_authentication(client):
    response = client.get("/api/v1/products/a%00b/")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_a_nul_in_a_page_address_answers_a_plain_400(user_client, tenant):
    factories.ProductFactory(tenant=tenant, sku="PAGE-1")
    client = user_client("admin")

    for path in ("/inventory/?q=a%00b", "/inventory/a%00b/"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response["Content-Type"].startswith("text/plain")


def _nested(depth: int):
    value = "leaf"
    for _level in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [40, 5000])  # past the limit; past Python's recursion limit
def test_a_body_nested_too_deeply_answers_400_and_places_nothing(tenant, depth):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant, channel=shop.channel)
    deep = "[" * depth + '"leaf"' + "]" * depth  # written by hand: json.dumps itself recurses per level
    response = api.post(
        "/api/v1/orders/",
        data='{"metadata": {"a": ' + deep + "}, " + json.dumps(order_body(shop))[1:],
        content_type="application/json",
    )

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    assert "body" in response.json()["errors"]
    assert not Order.objects.for_tenant(tenant).exists()


def test_free_json_nested_a_few_levels_is_accepted(tenant):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant, channel=shop.channel)
    response = api.post("/api/v1/orders/", order_body(shop, metadata={"a": _nested(20)}), format="json")

    assert response.status_code == 201, response.content[:300]
    assert response.json()["metadata"] == {"a": _nested(20)}


@pytest.mark.parametrize(
    "body, path",
    [
        ('{"sku": "S-1", "name": "Mug", "attributes": {"a": "\\ud800"}}', "attributes.a"),
        ('{"sku": "S-2", "name": "Mug", "attributes": {"\\udfff": "x"}}', 'attributes["\\udfff"]'),
        ('{"sku": "S-3", "name": "x\\udfffy"}', "name"),
    ],
)
def test_an_unpaired_surrogate_answers_400_naming_its_path(api, tenant, body, path):
    response = api.post("/api/v1/products/", data=body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert "surrogate" in response.json()["errors"][path][0]
    assert not Product.objects.for_tenant(tenant).exists()


def test_a_paired_surrogate_is_a_character_like_any_other(api, tenant):
    response = api.post(
        "/api/v1/products/", data='{"sku": "S-4", "name": "Mug \\ud83d\\ude00"}', content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert Product.objects.for_tenant(tenant).get(sku="S-4").name == "Mug \U0001f600"


def test_an_unpaired_surrogate_with_an_idempotency_key_is_a_400_not_a_stored_answer_failure(tenant):
    from tests.conftest import make_api_client

    shop = build_shop(tenant)
    api = make_api_client(tenant, channel=shop.channel)
    body = json.dumps(order_body(shop))[:-1] + ', "payment_status": "\\ud800"}'

    response = api.post(
        "/api/v1/orders/", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="surrogate-1"
    )

    assert response.status_code == 400 and "payment_status" in response.json()["errors"]
    assert not Order.objects.for_tenant(tenant).exists()
