"""One validation-error shape on every endpoint: `errors` is flat, keyed by the JSON path of the value."""

import pytest

from oms.api.problems import flatten_errors


def test_nested_errors_flatten_to_paths():
    nested = {
        "lines": [{}, {"quantity": ["Too small."], "non_field_errors": ["Bad line."]}],
        "delivery": {"address": {"city": ["Required."]}},
        "non_field_errors": ["Whole body."],
    }

    assert flatten_errors(nested) == {
        "lines[1].quantity": ["Too small."],
        "lines[1]": ["Bad line."],
        "delivery.address.city": ["Required."],
        "non_field_errors": ["Whole body."],
    }


def test_flat_errors_are_kept_as_they_are():
    assert flatten_errors({"lines[0].lot": ["Unknown lot."], "as_of": ["Give an offset."]}) == {
        "lines[0].lot": ["Unknown lot."],
        "as_of": ["Give an offset."],
    }


# (method, path, body, a path that must be among the errors)
INVALID_CALLS = [
    (
        "post",
        "/api/v1/orders/",
        {
            "external_ref": "E1",
            "currency": "EUR",
            "delivery": {"method": "ship"},
            "lines": [
                {"sku": "A", "quantity": 1, "unit_price": "1.00"},
                {"sku": "B", "quantity": 0, "unit_price": "1.00"},
            ],
        },
        "lines[1].quantity",
    ),
    (
        "post",
        "/api/v1/orders/",
        {
            "external_ref": "E2",
            "currency": "EUR",
            "delivery": {"method": "ship", "address": {"line1": "1 rue"}},
            "lines": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}],
        },
        "delivery.address.city",
    ),
    (
        "post",
        "/api/v1/locations/",
        {"code": "PAR9", "name": "Paris", "kind": "store", "address": {"city": ["x"]}},
        "address.city",
    ),
    ("post", "/api/v1/products/", {"sku": "", "name": "Shirt"}, "sku"),
    ("post", "/api/v1/inventory/adjustments/", {"rows": "not a list"}, "rows"),
    ("post", "/api/v1/channels/", {"code": "WEB9", "name": "Web", "kind": "spaceship"}, "kind"),
    ("post", "/api/v1/webhooks/", {"url": "not a url", "events": ["order.placed"]}, "url"),
    ("get", "/api/v1/orders/?updated_after=yesterday", None, "updated_after"),
]


@pytest.mark.parametrize(
    "method,path,body,expected", INVALID_CALLS, ids=[f"{c[0]} {c[1]} {c[3]}" for c in INVALID_CALLS]
)
def test_every_endpoint_answers_the_same_flat_shape(api, method, path, body, expected):
    response = getattr(api, method)(path, body, format="json") if body is not None else api.get(path)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_error"
    errors = problem["errors"]
    assert isinstance(errors, dict) and errors
    for key, messages in errors.items():
        assert isinstance(key, str)
        assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), (key, messages)
    assert expected in errors, errors
