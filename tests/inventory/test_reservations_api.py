"""POST/GET/DELETE /api/v1/reservations/: cart holds for a channel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from tests import factories
from tests.conftest import make_api_client
from tests.inventory.stock_helpers import channel_with_pool, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    wh = factories.LocationFactory(tenant=tenant, code="WH1")
    par = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)
    channel = channel_with_pool(tenant, [wh, par], code="WEB", reservation_ttl=900)
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, wh, 5)
    receive(tenant, product, par, 2)
    return make_api_client(tenant, channel=channel), channel, product


def test_a_hold_is_created_at_the_first_location_that_holds_it_all(shop):
    client, channel, product = shop

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 3, "reference": "cart-42"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("sku", "location", "quantity", "status", "channel", "reference")} == {
        "sku": "A",
        "location": "WH1",
        "quantity": 3,
        "status": "active",
        "channel": "WEB",
        "reference": "cart-42",
    }
    expires = Reservation.all_tenants.get(id=body["id"]).expires_at
    assert timedelta(seconds=880) < expires - timezone.now() <= timedelta(seconds=900)
    assert client.get(f"/api/v1/reservations/{body['id']}/").json()["quantity"] == 3


def test_a_hold_beyond_any_single_location_is_409_with_the_short_line(shop):
    client, *_ = shop

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 6}, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["lines"] == [{"sku": "A", "requested": 6, "available": 5}]


def test_a_hold_at_a_given_location_with_its_own_ttl(shop):
    client, *_ = shop

    body = client.post(
        "/api/v1/reservations/", {"sku": "A", "quantity": 2, "location": "PAR01", "ttl": 60}, format="json"
    ).json()

    assert body["location"] == "PAR01"
    expires = Reservation.all_tenants.get(id=body["id"]).expires_at
    assert expires - timezone.now() <= timedelta(seconds=60)


def test_delete_releases_and_is_idempotent(shop):
    client, _, product = shop
    reservation_id = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 3}, format="json").json()["id"]

    assert client.delete(f"/api/v1/reservations/{reservation_id}/").status_code == 204
    assert client.delete(f"/api/v1/reservations/{reservation_id}/").status_code == 204
    assert client.get(f"/api/v1/reservations/{reservation_id}/").json()["status"] == "released"
    assert sum(StockLevel.all_tenants.filter(product=product).values_list("reserved", flat=True)) == 0


def test_the_same_idempotency_key_holds_once(shop):
    client, *_ = shop

    first = client.post(
        "/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json", HTTP_IDEMPOTENCY_KEY="cart-1-add"
    )
    second = client.post(
        "/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json", HTTP_IDEMPOTENCY_KEY="cart-1-add"
    )

    assert first.json()["id"] == second.json()["id"]
    assert Reservation.all_tenants.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"quantity": 1}, "sku"),
        ({"sku": "A"}, "quantity"),
        ({"sku": "A", "quantity": 0}, "quantity"),
        ({"sku": "A", "quantity": "two"}, "quantity"),
        ({"sku": "A", "quantity": 1, "ttl": 0}, "ttl"),
    ],
)
def test_invalid_holds_are_400_naming_the_field(shop, body, field):
    client, *_ = shop

    response = client.post("/api/v1/reservations/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_unbound_key_names_the_channel(tenant, api, shop):
    missing = api.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json")
    assert missing.status_code == 400 and "channel" in missing.json()["errors"]

    named = api.post("/api/v1/reservations/", {"sku": "A", "quantity": 1, "channel": "WEB"}, format="json")
    assert named.status_code == 201 and named.json()["channel"] == "WEB"


def test_a_channel_key_acts_for_its_channel_only(tenant, shop):
    client, channel, _ = shop
    other = channel_with_pool(tenant, list(channel.locations.all()), code="MKT")
    marketplace = make_api_client(tenant, channel=other)
    reservation_id = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json").json()["id"]

    assert (
        marketplace.post(
            "/api/v1/reservations/", {"sku": "A", "quantity": 1, "channel": "WEB"}, format="json"
        ).status_code
        == 403
    )
    assert marketplace.get(f"/api/v1/reservations/{reservation_id}/").status_code == 404
    assert marketplace.delete(f"/api/v1/reservations/{reservation_id}/").status_code == 404
    assert marketplace.get("/api/v1/reservations/").json()["results"] == []
    assert [r["id"] for r in client.get("/api/v1/reservations/").json()["results"]] == [reservation_id]


def test_another_tenants_reservations_skus_and_locations_are_not_found(tenant, other_tenant, shop):
    client, *_ = shop
    reservation_id = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json").json()["id"]
    theirs = make_api_client(other_tenant, channel=factories.ChannelFactory(tenant=other_tenant, code="WEB"))
    factories.ProductFactory(tenant=other_tenant, sku="B")

    assert theirs.get(f"/api/v1/reservations/{reservation_id}/").status_code == 404
    assert theirs.delete(f"/api/v1/reservations/{reservation_id}/").status_code == 404
    assert theirs.get("/api/v1/reservations/").json()["results"] == []
    assert theirs.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json").status_code == 404
    assert client.post("/api/v1/reservations/", {"sku": "B", "quantity": 1}, format="json").status_code == 404
    factories.LocationFactory(tenant=other_tenant, code="THEIRS")
    assert (
        client.post(
            "/api/v1/reservations/", {"sku": "A", "quantity": 1, "location": "THEIRS"}, format="json"
        ).status_code
        == 404
    )


def test_a_consumed_hold_cannot_be_deleted(tenant, shop):
    from inventory.reservations import consume
    from tests.inventory.stock_helpers import ACTOR

    client, *_ = shop
    reservation_id = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json").json()["id"]
    consume(tenant=tenant, reservation=Reservation.all_tenants.get(id=reservation_id), quantity=1, actor=ACTOR)

    response = client.delete(f"/api/v1/reservations/{reservation_id}/")

    assert response.status_code == 409
    body = response.json()
    assert (body["status"], body["reservation"], body["reservation_status"]) == (409, reservation_id, "consumed")


def test_a_store_clerk_holds_at_their_store_only(tenant, shop, user_client):
    _, channel, _ = shop
    par = channel.locations.get(code="PAR01")
    clerk = user_client("store_clerk", locations=[par])

    held = clerk.post(
        "/api/v1/reservations/",
        {"sku": "A", "quantity": 1, "channel": "WEB", "location": "PAR01"},
        content_type="application/json",
    )
    assert held.status_code == 201
    assert (
        clerk.post(
            "/api/v1/reservations/",
            {"sku": "A", "quantity": 1, "channel": "WEB", "location": "WH1"},
            content_type="application/json",
        ).status_code
        == 404
    )
    no_store = clerk.post(
        "/api/v1/reservations/", {"sku": "A", "quantity": 1, "channel": "WEB"}, content_type="application/json"
    )
    assert no_store.status_code == 400 and "location" in no_store.json()["errors"]


def test_viewers_cannot_hold_stock(tenant, shop, user_client):
    viewer = user_client("viewer")

    response = viewer.post(
        "/api/v1/reservations/", {"sku": "A", "quantity": 1, "channel": "WEB"}, content_type="application/json"
    )

    assert response.status_code == 403


# --- the same pool, buffer and time-to-live rules as intake ---------------------------------------------------


def test_a_location_outside_the_channels_pool_cannot_be_held(tenant, shop):
    client, _channel, product = shop
    other_store = factories.LocationFactory(tenant=tenant, code="LYS01", kind="store")
    receive(tenant, product, other_store, 4)

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1, "location": "LYS01"}, format="json")

    assert response.status_code == 400 and "location" in response.json()["errors"]
    assert StockLevel.objects.for_tenant(tenant).get(location=other_store).reserved == 0


def test_an_inactive_location_of_the_pool_cannot_be_held(tenant, shop):
    client, *_ = shop
    factories.LocationFactory._meta.model.all_tenants.filter(tenant=tenant, code="PAR01").update(active=False)

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1, "location": "PAR01"}, format="json")

    assert response.status_code == 400 and "location" in response.json()["errors"]


def test_the_channels_buffer_holds_at_a_named_location_too(tenant, shop):
    client, channel, _product = shop
    channel.buffer = 6  # the pool holds 7: the channel may promise 1
    channel.save()

    refused = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 2, "location": "PAR01"}, format="json")
    taken = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1, "location": "PAR01"}, format="json")

    assert refused.status_code == 409 and refused.json()["lines"] == [{"sku": "A", "requested": 2, "available": 1}]
    assert taken.status_code == 201


def test_a_hold_always_expires_even_when_the_channel_names_no_time_to_live(tenant, shop):
    client, channel, _product = shop
    type(channel).all_tenants.filter(id=channel.id).update(reservation_ttl=0)  # a row from before the rule

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1}, format="json")

    expires = Reservation.all_tenants.get(id=response.json()["id"]).expires_at
    assert expires is not None and expires - timezone.now() <= timedelta(seconds=900)


@pytest.mark.parametrize("ttl", [0, 7 * 24 * 3600 + 1, 2_592_000])
def test_a_time_to_live_beyond_a_week_is_a_400(shop, ttl):
    client, *_ = shop

    response = client.post("/api/v1/reservations/", {"sku": "A", "quantity": 1, "ttl": ttl}, format="json")

    assert response.status_code == 400 and "ttl" in response.json()["errors"]


@pytest.mark.parametrize("ttl", [0, 59, 7 * 24 * 3600 + 1])
def test_a_channels_time_to_live_is_between_a_minute_and_a_week(api, shop, ttl):
    _client, channel, _product = shop

    response = api.patch(f"/api/v1/channels/{channel.code}/", {"reservation_ttl": ttl}, format="json")

    assert response.status_code == 400 and "reservation_ttl" in response.json()["errors"]
