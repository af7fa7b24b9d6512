"""Hostile input from the OpenAPI schema: schemathesis generates requests for every operation, valid and invalid,
and the API must hold to the schema as a contract: no server error, only documented status codes, responses that
conform to their schema, requests the schema refuses refused, and requests the schema allows accepted unless a
rule the schema cannot express refuses them (RULES_BEYOND_THE_SCHEMA, each named by its message).

A bounded budget (FUZZ_EXAMPLES per operation and mode, the same examples on every run) keeps it in `make test`
and its answer stable; search further locally with OMS_FUZZ_EXAMPLES=200 OMS_FUZZ_RANDOM=1 (new examples on every
run)."""

import json
import os
import re
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as schema_checks

from tests.conftest import make_api_client
from tests.orders.support import build_shop

FUZZ_EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES", "10"))
SAME_EXAMPLES = os.environ.get("OMS_FUZZ_RANDOM", "") != "1"

CHECKS = [
    schema_checks.not_a_server_error,
    schema_checks.status_code_conformance,
    schema_checks.content_type_conformance,
    schema_checks.response_schema_conformance,
    schema_checks.response_headers_conformance,
    schema_checks.negative_data_rejection,
]

# Rules that refuse a request the schema allows, because no schema can say them: they depend on the tenant's data,
# on who calls, on today's date, or on two fields at once. A 400 to a schema-valid request is accepted only when
# every message it gives is one of these.
RULES_BEYOND_THE_SCHEMA = {
    "a KPI range runs forward and spans at most three years": (
        r"^(The first day comes after the last\.|Ask for at most \d+ days at a time\.)$"
    ),
    "a SKU, location or channel this tenant does not have (or not active)": (
        r"^Unknown (or inactive )?(SKU|location|locations?\(s\)|channel)\b"
    ),
    "a channel's key is bound to its channel; other callers name one": r"^Name the channel \(its code\)",
    "a GTIN's check digit": r"with a correct check digit\.$",
    "a lot's expiry goes with its lot code": r"an expiry date goes with a lot code",
    "a transfer between two places": r"^The destination must differ from the source\.$",
    "IANA time zone names": r"^Unknown time zone ",
    "an instant a date can hold in UTC (0001-01-01T00:00+00:01 is a day before the first)": (
        r"^The date and time falls outside the years 1 to 9999 once read in UTC\.$"
    ),
    "a position is both coordinates": r"^Give (both (lat and lon|latitude and longitude)|latitude and longitude tog)",
    "the installation's limit of lines per order (a setting)": r"^Too many lines: \d+; at most \d+ per order\.$",
    "shipping needs an address": r"^An address is required to ship an order\.$",
    "an order shipped or collected has a customer to tell (a till sale need not)": r"^A customer e-mail is required\.$",
    "a dry run routes an order or lines": r"^Give either an order or lines",
    "a simulation replays the past": r"^(The period cannot (start|end) after today|Must be on or after from)",
    "a simulation replays orders placed": r"there is nothing to replay\.$",
    "a simulation replays a bounded period": r"a simulation replays at most \d+ days\.$",
    "an order to collect names its store": r"^A pickup location is required\.$",
    "a hand-over checks the pickup code or the customer's identity, one of them": (
        r"^Give the pickup code or an identity check"
    ),
    "a percentage buffer is a share": r"^A percentage buffer is at most 100\.$",
    "a count is not dated in the future": r"^A count cannot be dated in the future\.$",
    "an alert rule watches a location or a channel": r"^Give either a location or a channel\.$",
    "a pickup names its store": r"^Name the store\.$",
    "an in-store sale names its store": r"^Name the store where the sale happened\.$",
    "a channel's currency": r"does not match the channel's currency",
    "in-store sales belong to store channels": r"^Only a store channel records in-store sales\.$",
    "a channel's sourcing pool and stores": r"(is not in the channel's sourcing pool|is not a store)\.$",
    "an active channel and product": r"^(Channel|Product) \S+ is not active\.$",
    "amounts that add up": r"^(The discount is larger than the line's amount|Promotions exceed the order's amount|"
    r"The (line's amount|order's total) is too large)\.$",
    "an order is not dated in the future": r"^The order date cannot be in the future\.$",
    "a promised window in order": r"^The earliest date \(.*\) is after the latest date",
    "an external reference is used once per channel": r"already sent an order with external_ref",
    "a drop-ship supplier has no counter": r"^A drop-ship supplier cannot offer pickup\.$",
    "an opening closes after it opens": r"^(mon|tue|wed|thu|fri|sat|sun): \S+ is not before \S+\.$",
    "a holiday subdivision of the location's country": r"^(Not a subdivision of \S+: use one of|No public holidays "
    r"are known for)",
    "the routing policy's keys (README, Routing)": r"^Unknown key '.*'; expected one of",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_this_transaction():
    """The application's requests run in this test's transaction, as the test client's do: the connection is not
    closed at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _messages(response) -> list[str]:
    try:
        errors = json.loads(response.content or b"{}").get("errors") or {}
    except ValueError:
        return []
    return [message for messages in errors.values() for message in messages]


def _refused_by_a_rule_beyond_the_schema(response) -> bool:
    messages = _messages(response)
    return bool(messages) and all(
        any(re.search(rule, message) for rule in RULES_BEYOND_THE_SCHEMA.values()) for message in messages
    )


def _prepare(case, mode) -> None:
    # A client sends a new Idempotency-Key with each new request: the same key with another body is refused (422)
    # by design, and the generator would reuse one.
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 0 < len(key) <= 255:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    # A cursor is whatever the server wrote in a page's links; a made-up one is refused (400) by design.
    if mode is GenerationMode.POSITIVE and case.query:
        case.query.pop("cursor", None)


def _fuzz(operation, mode, headers, calls: list) -> str | None:
    """Fuzz one operation in one mode; what failed (hypothesis's smallest failing example), or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=SAME_EXAMPLES
    )
    def run(case):
        _prepare(case, mode)
        response = case.call(headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)
        if mode is GenerationMode.POSITIVE and response.status_code in (400, 422):
            assert _refused_by_a_rule_beyond_the_schema(response), (
                f"a request the schema allows was refused: {response.status_code} {response.text[:400]} "
                f"(query {case.query!r:.300}, body {case.body!r:.300})"
            )

    try:
        run()
    except BaseException as failure:  # noqa: BLE001 - gathered (a FailureGroup is a BaseExceptionGroup), so that one run names every failing operation
        if isinstance(failure, KeyboardInterrupt):
            raise
        return f"{operation.label} ({mode.value}): {failure}"[:800]
    return None


def test_every_operation_holds_to_its_schema_for_valid_and_invalid_input(tenant, in_this_transaction):
    from oms.wsgi import application

    build_shop(tenant)  # a network, a channel, products and stock for the generated requests to find
    headers = {"Authorization": make_api_client(tenant)._credentials["HTTP_AUTHORIZATION"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    # NUL is refused in every string (tests/oms/test_nul_input.py), which a schema cannot say without a pattern on
    # each of them.
    schema.config.generation.allow_x00 = False
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, calls = [], []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _fuzz(operation, mode, headers, calls)
            if failure:
                failures.append(failure)

    assert len(operations) >= 50 and len(calls) >= 5 * len(operations)
    assert any(200 <= status < 300 for status in calls) and any(400 <= status < 500 for status in calls)
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(
    "message, refused",
    [
        ("Unknown SKU X-1.", True),
        ("Name the channel (its code): this caller is not bound to one.", True),
        ("This list may not be empty.", False),
        ("Ensure this value is greater than or equal to 0.", False),
    ],
)
def test_only_the_named_rules_excuse_a_refusal(message, refused):
    class Response:
        content = json.dumps({"errors": {"field": [message]}}).encode()

    assert _refused_by_a_rule_beyond_the_schema(Response()) is refused
