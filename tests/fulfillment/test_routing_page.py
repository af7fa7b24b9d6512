"""The routing page: the policy editor with its versions, and the dry run of an order by its number."""

import json

import pytest

from fulfillment.models import RoutingPolicy
from fulfillment.policy import DEFAULT_POLICY
from oms.models import Role
from tests.orders.support import build_shop, order_body

pytestmark = pytest.mark.django_db

URL = "/fulfillment/routing/"


def test_a_manager_saves_a_new_version_and_sees_the_history(user_client, tenant):
    client = user_client(Role.MANAGER)
    client.get(URL)
    rules = {**DEFAULT_POLICY, "objectives": ["nearest", "fewest_shipments"]}

    saved = client.post(URL, {"policy": json.dumps(rules), "note": "closest first", "version": "1"})

    assert saved.status_code == 302
    page = client.get(URL).content.decode()
    assert "v2" in page and "closest first" in page
    assert RoutingPolicy.objects.for_tenant(tenant).get(version=2).document["objectives"] == [
        "nearest",
        "fewest_shipments",
    ]


@pytest.mark.parametrize(
    "text,problem",
    [("{not json", "Not valid JSON"), (json.dumps({**DEFAULT_POLICY, "max_splits": 0}), "max_splits")],
)
def test_a_bad_policy_is_shown_with_its_problem_and_saves_nothing(user_client, tenant, text, problem):
    client = user_client(Role.ADMIN)

    answer = client.post(URL, {"policy": text, "version": "1"})

    assert answer.status_code == 400 and problem in answer.content.decode()
    assert not RoutingPolicy.objects.for_tenant(tenant).filter(version__gt=1).exists()


def test_a_viewer_reads_but_cannot_save(user_client, tenant):
    client = user_client(Role.VIEWER)

    assert client.get(URL).status_code == 200
    client.post(URL, {"policy": json.dumps(DEFAULT_POLICY)})
    assert not RoutingPolicy.objects.for_tenant(tenant).filter(version__gt=1).exists()


def test_a_store_clerk_has_no_routing_page(user_client):
    assert user_client(Role.STORE_CLERK).get(URL).status_code == 403


def test_the_dry_run_of_an_order_shows_where_it_would_go_and_why(user_client, api, tenant):
    shop = build_shop(tenant)
    number = api.post("/api/v1/orders/", order_body(shop), format="json").json()["number"]

    page = user_client(Role.BACK_OFFICE).get(URL, {"order": number}).content.decode()

    assert number in page and shop.wh1.code in page and shop.store.code in page


def test_the_page_speaks_french(user_client):
    client = user_client(Role.ADMIN)

    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Enregistrer comme nouvelle version" in page
