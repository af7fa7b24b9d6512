"""The routing policy through the API: numbered versions, validation, who may read and change it."""

import json

import pytest

from fulfillment.models import RoutingPolicy
from fulfillment.policy import DEFAULT_POLICY
from oms.models import AuditEntry, Role
from tests import factories
from tests.conftest import make_api_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/routing/policy/"


def _put(client, body):
    return client.put(URL, json.dumps(body), content_type="application/json")


def test_a_tenant_that_never_saved_a_policy_routes_by_the_default_as_version_1(api):
    answer = api.get(URL)

    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == 1 and body["saved_by"] == "system"
    assert body["policy"]["objectives"] == DEFAULT_POLICY["objectives"]


def test_every_save_is_the_next_version_and_is_audited(api, tenant):
    api.get(URL)
    rules = {**DEFAULT_POLICY, "objectives": ["nearest", "fewest_shipments"], "max_splits": 3}

    saved = api.put(URL, {"policy": rules, "note": "closest first"}, format="json")

    assert saved.status_code == 200, saved.json()
    assert saved.json()["version"] == 2 and saved.json()["policy"]["objectives"] == ["nearest", "fewest_shipments"]
    assert api.get(URL).json()["version"] == 2
    versions = api.get(f"{URL}versions/").json()["results"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["note"] == "closest first"
    assert AuditEntry.objects.for_tenant(tenant).filter(action="routing_policy.saved").count() == 1


def test_an_invalid_policy_is_refused_naming_the_rule_and_saves_nothing(api, tenant):
    answer = api.put(URL, {"policy": {**DEFAULT_POLICY, "objectives": ["cheapest"]}}, format="json")

    assert answer.status_code == 400
    assert any(key.startswith("policy.objectives") for key in answer.json()["errors"]), answer.json()
    assert not RoutingPolicy.objects.for_tenant(tenant).filter(version__gt=1).exists()


def test_unknown_body_keys_are_refused(api):
    answer = api.put(URL, {"policy": DEFAULT_POLICY, "colour": "red"}, format="json")

    assert answer.status_code == 400 and "colour" in answer.json()["errors"]


def test_a_save_on_top_of_an_older_version_is_a_stale_version(api):
    api.put(URL, {"policy": DEFAULT_POLICY, "version": 1}, format="json")  # now at 2

    answer = api.put(URL, {"policy": DEFAULT_POLICY, "version": 1}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "stale_version" and answer.json()["current_version"] == 2


def test_a_channel_key_neither_reads_nor_changes_the_policy(tenant):
    shop = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant, code="WEB"))

    assert shop.get(URL).status_code == 403
    assert shop.put(URL, {"policy": DEFAULT_POLICY}, format="json").status_code == 403
    assert shop.get(f"{URL}versions/").status_code == 403


@pytest.mark.parametrize(
    "role,can_read,can_write",
    [
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, True),
        (Role.BACK_OFFICE, True, False),
        (Role.VIEWER, True, False),
        (Role.STORE_CLERK, False, False),
    ],
)
def test_roles(user_client, role, can_read, can_write):
    client = user_client(role)

    assert (client.get(URL).status_code == 200) is can_read
    assert (_put(client, {"policy": DEFAULT_POLICY}).status_code == 200) is can_write


def test_each_tenant_has_its_own_versions(api, other_api):
    api.put(URL, {"policy": DEFAULT_POLICY}, format="json")

    assert other_api.get(URL).json()["version"] == 1
    assert [v["version"] for v in other_api.get(f"{URL}versions/").json()["results"]] == [1]
