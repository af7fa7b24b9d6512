"""Keys issued with `create_api_key --channel` act for that channel; clerks from `create_user --locations`."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests import factories
from tests.inventory.stock_helpers import channel_with_pool, receive
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_a_key_issued_for_a_channel_acts_for_it_in_every_call(tenant, client):
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    channel_with_pool(tenant, [wh], code="MKT", buffer=10, buffer_kind="percent")
    channel_with_pool(tenant, [wh], code="WEB")
    receive(tenant, factories.ProductFactory(tenant=tenant, sku="A"), wh, 20)
    out = StringIO()
    call_command("create_api_key", "--tenant", "acme", "--label", "marketplace", "--channel", "MKT", stdout=out)
    marketplace = APIClient()
    marketplace.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip().splitlines()[-1]}")

    atp = marketplace.get("/api/v1/availability/?skus=A").json()
    held = marketplace.post("/api/v1/reservations/", {"sku": "A", "quantity": 2}, format="json").json()

    assert (atp["channel"], atp["results"][0]["available"]) == ("MKT", 18)
    assert held["channel"] == "MKT"
    assert [c["code"] for c in marketplace.get("/api/v1/channels/").json()["results"]] == ["MKT"]


def test_a_clerk_created_for_some_stores_sees_only_their_stock(tenant, client):
    lyon = factories.LocationFactory(tenant=tenant, code="LYO01", kind="store")
    paris = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, lyon, 1)
    receive(tenant, product, paris, 2)
    call_command(
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "clerk@example.com",
        "--role",
        "store_clerk",
        "--locations",
        "LYO01",
        "--password",
        "correct-horse-battery",
        stdout=StringIO(),
    )
    assert sign_in(client, "clerk@example.com", "correct-horse-battery")

    rows = client.get("/api/v1/inventory/").json()["results"]

    assert [r["location"] for r in rows] == ["LYO01"]
