"""Hostile input from the OpenAPI schema: schemathesis generates requests for every operation, valid and invalid,
and the API must never answer a server error. A bounded budget (FUZZ_EXAMPLES per operation, valid and invalid
data, the same examples on every run) keeps it in `make test` and its answer stable; search further locally with
OMS_FUZZ_EXAMPLES=200 OMS_FUZZ_RANDOM=1 (new examples on every run)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import make_api_client
from tests.orders.support import build_shop

FUZZ_EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES", "10"))
SAME_EXAMPLES = os.environ.get("OMS_FUZZ_RANDOM", "") != "1"

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


def _fuzz(operation, mode, headers, calls: list) -> str | None:
    """Fuzz one operation in one mode; what failed (hypothesis's smallest failing example), or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=SAME_EXAMPLES
    )
    def run(case):
        response = case.call(headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    try:
        run()
    except Exception as failure:  # noqa: BLE001 - gathered, so that one run names every failing operation
        return f"{operation.label} ({mode.value}): {failure}"[:600]
    return None


def test_no_operation_answers_a_server_error_to_valid_or_invalid_input(tenant, in_this_transaction):
    from oms.wsgi import application

    build_shop(tenant)  # a network, a channel, products and stock for the generated requests to find
    headers = {"Authorization": make_api_client(tenant)._credentials["HTTP_AUTHORIZATION"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
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
