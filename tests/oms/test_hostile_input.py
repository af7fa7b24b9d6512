"""Hostile input, case by case, on the hot entry points (order intake, stock files): each is refused with a clear,
machine-readable answer naming what is wrong, nothing is half-written, and nothing answers 500. The fuzzing run
(test_fuzz_api.py) covers every operation at random; these are the cases a reviewer names."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import StockImportJob
from orders.models import Order
from tests import factories
from tests.orders.support import build_shop, level, order_body

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


def _refused(response, status=400) -> dict:
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"] == PROBLEM
    return response.json()


def _nothing_written(tenant, shop):
    assert not Order.objects.for_tenant(tenant).exists()
    assert level(tenant, shop.a, shop.wh1).reserved == 0


def _post_raw(api, body: bytes, content_type="application/json"):
    return api.generic("POST", "/api/v1/orders/", body, content_type=content_type)


# --- bodies that are no JSON, or no JSON we read ------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded", "text/csv", "application/octet-stream"],
)
def test_a_body_in_another_format_is_refused_415(api, tenant, shop, content_type):
    body = _refused(_post_raw(api, json.dumps(order_body(shop)).encode(), content_type), 415)

    assert body["code"] == "unsupported_media_type"
    _nothing_written(tenant, shop)


def test_a_body_that_is_not_utf8_is_refused_400(api, tenant, shop):
    text = json.dumps(order_body(shop), ensure_ascii=False).replace("Jane Doe", "Jérôme Dû")
    body = _refused(_post_raw(api, text.encode("latin-1")))

    assert body["code"] == "parse_error" and "body" in body["errors"]
    _nothing_written(tenant, shop)


def test_a_body_cut_short_is_refused_400(api, tenant, shop):
    body = _refused(_post_raw(api, json.dumps(order_body(shop)).encode()[:-7]))

    assert "body" in body["errors"]
    _nothing_written(tenant, shop)


@pytest.mark.parametrize("document", [b"[]", b'"an order"', b"42", b"null"])
def test_a_body_that_is_no_object_is_refused_400(api, tenant, shop, document):
    _refused(_post_raw(api, document))
    _nothing_written(tenant, shop)


def test_a_nul_byte_anywhere_is_refused_400_naming_the_field(api, tenant, shop):
    order = order_body(shop)
    order["delivery"]["address"]["city"] = "Par\x00is"

    body = _refused(api.post("/api/v1/orders/", order, format="json"))

    assert "delivery.address.city" in body["errors"]
    _nothing_written(tenant, shop)


# --- numbers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, -(10**12), 10**12, 10**40, 1.5, "1e3", True, None, float("inf"), "NaN"])
def test_a_quantity_that_is_no_whole_number_in_range_is_refused_400(api, tenant, shop, quantity):
    order = order_body(shop)
    order["lines"][0]["quantity"] = quantity
    raw = json.dumps(order).replace("Infinity", "1e999")  # JSON has no Infinity: the largest number instead

    body = _refused(_post_raw(api, raw.encode()))

    assert "lines[0].quantity" in body["errors"]
    _nothing_written(tenant, shop)


@pytest.mark.parametrize("price", ["-1.00", "1e400", "NaN", "Infinity", "0x10", "1,50", "12.345", "9" * 40])
def test_a_price_that_is_no_amount_is_refused_400(api, tenant, shop, price):
    order = order_body(shop)
    order["lines"][0]["unit_price"] = price

    body = _refused(api.post("/api/v1/orders/", order, format="json"))

    assert "lines[0].unit_price" in body["errors"]
    _nothing_written(tenant, shop)


def test_the_order_total_beyond_its_column_is_refused_400(api, tenant, shop):
    order = order_body(shop)
    order["lines"][0].update(quantity=999_999, unit_price="9999999999.99")

    _refused(api.post("/api/v1/orders/", order, format="json"))
    _nothing_written(tenant, shop)


# --- sizes ------------------------------------------------------------------------------------------------------


def test_more_lines_than_allowed_are_refused_400_naming_the_limit(api, tenant, shop, settings):
    settings.OMS_ORDER_MAX_LINES = 5
    order = order_body(shop)
    order["lines"] = [{"sku": shop.a.sku, "quantity": 1, "unit_price": "1.00"} for _ in range(6)]

    body = _refused(api.post("/api/v1/orders/", order, format="json"))

    assert "lines" in body["errors"] and "5" in " ".join(body["errors"]["lines"])
    _nothing_written(tenant, shop)


def test_a_string_longer_than_its_field_is_refused_400(api, tenant, shop):
    order = order_body(shop)
    order["delivery"]["address"]["line1"] = "x" * 10_000

    body = _refused(api.post("/api/v1/orders/", order, format="json"))

    assert "delivery.address.line1" in body["errors"]
    _nothing_written(tenant, shop)


def test_a_key_the_order_does_not_have_is_refused_400_naming_it(api, tenant, shop):
    body = _refused(api.post("/api/v1/orders/", {**order_body(shop), "is_admin": True}, format="json"))

    assert body["errors"]["is_admin"] == ["Unknown field."]
    _nothing_written(tenant, shop)


# --- query strings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, name",
    [
        ("customer=1.5", "customer"),
        ("customer=%C2%B2", "customer"),
        ("customer=" + "9" * 5000, "customer"),
        ("customer=", "customer"),
        ("status=nope", "status"),
        ("created_after=2026-01-01T00:00:00", "created_after"),  # no offset: which instant?
        ("created_after=2026-02-30T00:00:00Z", "created_after"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page_size=ten", "page_size"),
        ("cursor=bm9wZQ", "cursor"),
    ],
)
def test_a_malformed_filter_is_refused_400_naming_it(api, query, name):
    body = _refused(api.get(f"/api/v1/orders/?{query}"))

    assert name in body["errors"]


@pytest.mark.parametrize("offset", ["-22:53", "+23:59", "+00:00", "Z"])
def test_any_offset_iso_8601_allows_is_read_and_never_fails(api, offset):
    # PostgreSQL refuses offsets past 15:59 that Python reads: the filter turns them into UTC first.
    assert api.get(f"/api/v1/orders/?created_after=2026-01-01T00:00:00{offset.replace('+', '%2B')}").status_code == 200


def test_an_instant_before_the_first_date_is_read_as_the_first(api):
    assert api.get("/api/v1/orders/?created_after=0001-01-01T00:00:00%2B05:00").status_code == 200


def test_an_order_dated_before_the_first_instant_is_refused_400_saying_so(api, tenant, shop):
    body = _refused(
        api.post("/api/v1/orders/", {**order_body(shop), "placed_at": "0001-01-01T00:00:00+00:01"}, format="json")
    )

    assert body["errors"]["placed_at"] == ["The date and time falls outside the years 1 to 9999 once read in UTC."]
    _nothing_written(tenant, shop)


# --- stock files ------------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(tenant):
    for sku in ("A", "B"):
        factories.ProductFactory(tenant=tenant, sku=sku)
    factories.LocationFactory(tenant=tenant, code="WH1")


@pytest.fixture
def eager():
    from oms.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _import(client, content: bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/inventory/imports/",
            {"mode": "adjustments", "file": SimpleUploadedFile("stock.csv", content, "text/csv")},
        )
    return response


def _report(client, job) -> list[str]:
    response = client.get(f"/inventory/imports/{job.id}/errors.csv")
    return b"".join(response.streaming_content).decode().splitlines()


def test_a_stock_file_in_utf16_is_refused_on_upload_with_a_clear_message(
    user_client, tenant, catalog, django_capture_on_commit_callbacks
):
    client = user_client("back_office")
    response = _import(client, "sku,location,quantity\nA,WH1,1\n".encode("utf-16"), django_capture_on_commit_callbacks)

    assert response.status_code == 200 and "not UTF-8" in response.content.decode()
    assert not StockImportJob.objects.for_tenant(tenant).exists()


def test_a_stock_file_with_a_byte_order_mark_is_read(
    user_client, tenant, catalog, eager, django_capture_on_commit_callbacks
):
    client = user_client("back_office")
    _import(client, b"\xef\xbb\xbfsku,location,quantity\nA,WH1,4\n", django_capture_on_commit_callbacks)

    job = StockImportJob.objects.for_tenant(tenant).get()
    assert (job.status, job.accepted, job.rejected) == ("done", 1, 0)


def test_malformed_rows_each_get_their_own_error_and_the_good_rows_still_apply(
    user_client, tenant, catalog, eager, django_capture_on_commit_callbacks
):
    client = user_client("back_office")
    content = (
        b"sku,location,quantity,reason\n"
        b"A,WH1,5,fine\n"  # line 2: applied
        b"B,WH1\n"  # 3: a column short
        b",WH1,1,no sku\n"  # 4
        b"B,WH1,three,words\n"  # 5
        b"B,WH1,1e3,exponent\n"  # 6
        b"B,WH1,99999999999999,too many\n"  # 7
        b"B,NOWHERE,1,unknown location\n"  # 8
        b"=cmd|' /C calc'!A0,WH1,1,formula\n"  # 9
        b"B,WH1,2,fine\n"  # 10: applied
    )
    _import(client, content, django_capture_on_commit_callbacks)

    job = StockImportJob.objects.for_tenant(tenant).get()
    assert (job.status, job.accepted, job.rejected) == ("done", 2, 7)
    lines = _report(client, job)
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "4", "5", "6", "7", "8", "9"]
    assert all(line.split(",")[-1].strip() for line in lines[1:])  # each names its error
    assert lines[7].startswith("9,'=cmd|")  # the formula stays inert in the report
