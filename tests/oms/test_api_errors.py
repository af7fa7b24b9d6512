"""Every API error is application/problem+json naming the request it answers."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_malformed_json_answers_400_with_errors(api):
    response = api.post(
        "/api/v1/webhooks/", data='{"url": "https://x.example", "events": [', content_type="application/json"
    )

    body = assert_problem(response, 400)
    assert body["errors"]["body"]


def test_invalid_fields_answer_400_with_per_field_errors(api):
    response = api.post("/api/v1/webhooks/", {"url": "https://x.example/hook"}, format="json")

    body = assert_problem(response, 400)
    assert list(body["errors"]) == ["events"]


def test_unsupported_media_type_answers_415_problem(api):
    response = api.post("/api/v1/webhooks/", data="url=x", content_type="application/x-www-form-urlencoded")

    assert_problem(response, 415)


def test_unknown_api_path_answers_404_problem(api):
    assert_problem(api.get("/api/v1/no-such-thing/"), 404)
    assert_problem(APIClient().get("/api/v2/orders/"), 404)


def test_a_path_missing_its_trailing_slash_is_pointed_out(api):
    body = assert_problem(api.get("/api/v1/webhooks"), 404)

    assert "/api/v1/webhooks/" in body["detail"]


def test_method_not_allowed_answers_405_problem(api):
    assert_problem(api.put("/api/v1/webhooks/", {}, format="json"), 405)


def test_authentication_and_not_found_problems_carry_the_request_id(api, tenant):
    assert_problem(APIClient().get("/api/v1/webhooks/"), 401)
    assert_problem(api.get("/api/v1/webhooks/999999/"), 404)


def test_a_well_formed_incoming_request_id_is_echoed(api):
    response = api.get("/api/v1/webhooks/999999/", HTTP_X_REQUEST_ID="shop-42.retry_1")

    assert response["X-Request-ID"] == "shop-42.retry_1"
    assert response.json()["request_id"] == "shop-42.retry_1"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 65, "<script>", ""])
def test_a_malformed_incoming_request_id_is_replaced(api, incoming):
    response = api.get("/api/v1/webhooks/", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_pages_get_a_request_id_too(client):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


def test_an_unexpected_error_answers_500_problem_without_details(api, monkeypatch):
    from oms import webhooks

    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(webhooks, "subscription_list", explode)

    response = api.get("/api/v1/webhooks/")

    body = assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()
    assert body["code"] == "internal_error"


def test_extra_members_never_replace_the_standard_ones():
    from oms.errors import Conflict

    body = Conflict("Taken.", code="QA-L1", status="consumed", type="x", title="y", location="QA-L1").problem()

    assert {k: body[k] for k in ("type", "title", "status", "detail", "code")} == {
        "type": "https://oms.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "Taken.",
        "code": "conflict",
    }
    assert body["location"] == "QA-L1"


def test_a_post_missing_its_trailing_slash_answers_the_404_problem_not_a_csrf_page(api):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])

    response = client.post("/api/v1/orders", {"lines": []}, format="json")

    body = assert_problem(response, 404)
    assert "/api/v1/orders/" in body["detail"]


def test_a_body_beyond_the_limit_answers_413_problem_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"sku": "BIG", "name": "' + "x" * 2000 + '"}'

    plain = api.post("/api/v1/products/", data=body, content_type="application/json")
    idempotent = api.post(
        "/api/v1/products/", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="too-big-1"
    )

    for response in (plain, idempotent):
        assert response.status_code == 413, response.content[:300]
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "payload_too_large" and response.json()["max_bytes"] == 1000


@pytest.mark.parametrize("moment", ["2026-01-01T00:60:00Z", "2026-02-30T10:00:00+01:00", "2026-13-01T10:00:00Z"])
def test_a_well_formed_date_that_names_no_instant_is_a_400_not_a_500(api, moment):
    response = api.post(
        "/api/v1/inventory/snapshots/", {"location": "NOWHERE", "as_of": moment, "rows": []}, format="json"
    )

    assert response.status_code == 400 and "as_of" in response.json()["errors"]
