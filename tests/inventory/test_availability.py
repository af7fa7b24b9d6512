"""Available-to-promise: arithmetic, pickup locations, nearest stores, fixed query count, API rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.availability import channel_availability
from inventory.reservations import Hold, hold
from tests import factories
from tests.conftest import make_api_client
from tests.inventory.stock_helpers import channel_with_pool, receive, store

pytestmark = pytest.mark.django_db

PARIS = (48.8566, 2.3522)
LYON = (45.7640, 4.8357)
MARSEILLE = (43.2965, 5.3698)


@pytest.fixture
def network(tenant):
    wh = factories.LocationFactory(tenant=tenant, code="WH1", pickup=False)
    par = store(tenant, "PAR01", lat=PARIS[0], lon=PARIS[1])
    lyo = store(tenant, "LYO01", lat=LYON[0], lon=LYON[1])
    mrs = store(tenant, "MRS01", lat=MARSEILLE[0], lon=MARSEILLE[1])
    web = channel_with_pool(tenant, [wh, par, lyo, mrs], code="WEB")
    return web, wh, par, lyo, mrs


def _atp(tenant, channel, sku, **kwargs):
    [figure] = channel_availability(tenant=tenant, channel=channel, skus=[sku], **kwargs)
    return figure


def test_network_quantity_sums_the_pool_minus_reserved_and_safety_stock(tenant, network):
    web, wh, par, lyo, mrs = network
    product = factories.ProductFactory(tenant=tenant)
    level = receive(tenant, product, wh, 20, safety_stock=5)  # 15
    receive(tenant, product, par, 3, safety_stock=5)  # below safety stock: 0, never negative
    receive(tenant, product, lyo, 4)  # 4
    hold(tenant=tenant, holds=[Hold(level=level, quantity=6)])  # WH1: 20 - 6 - 5 = 9

    figure = _atp(tenant, web, product.sku)

    assert figure.available == 9 + 0 + 4
    assert [(f.location.code, f.available) for f in figure.locations] == [("PAR01", 0), ("LYO01", 4), ("MRS01", 0)]


def test_a_locations_outside_the_pool_do_not_count(tenant, network):
    web, *_ = network
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, factories.LocationFactory(tenant=tenant, code="ELSEWHERE"), 50)
    inactive = factories.LocationFactory(tenant=tenant, code="CLOSED", active=False)
    factories.ChannelLocationFactory(channel=web, location=inactive, priority=99)
    receive(tenant, product, inactive, 50)

    assert _atp(tenant, web, product.sku).available == 0


@pytest.mark.parametrize(
    "buffer, kind, expected",
    [
        (0, "units", 40),
        (7, "units", 33),
        (50, "units", 0),
        (10, "percent", 36),
        (25, "percent", 30),
        (15, "percent", 34),  # 15 % of 40 = 6 held back
        (100, "percent", 0),
    ],
)
def test_the_channel_buffer_holds_units_or_a_percentage_back(tenant, network, buffer, kind, expected):
    _, wh, par, *_ = network
    channel = channel_with_pool(tenant, [wh, par], buffer=buffer, buffer_kind=kind)
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 30)
    receive(tenant, product, par, 10)

    figure = _atp(tenant, channel, product.sku)

    assert figure.available == expected
    assert [(f.location.code, f.available) for f in figure.locations] == [("PAR01", 10)]


def test_a_percentage_buffer_rounds_the_held_back_share_up(tenant, network):
    _, wh, *_ = network
    channel = channel_with_pool(tenant, [wh], buffer=10, buffer_kind="percent")
    product = factories.ProductFactory(tenant=tenant)
    receive(tenant, product, wh, 5)  # 10 % of 5 = 0.5: one unit held back

    assert _atp(tenant, channel, product.sku).available == 4


def test_nearest_pickup_stores_come_first_from_coordinates_or_a_postal_code(tenant, network):
    web, *_ = network
    product = factories.ProductFactory(tenant=tenant)

    near_marseille = _atp(tenant, web, product.sku, near=(43.53, 5.45))  # Aix-en-Provence
    assert [f.location.code for f in near_marseille.locations] == ["MRS01", "LYO01", "PAR01"]
    assert near_marseille.locations[0].distance_km < 40

    api = make_api_client(tenant, channel=web)
    body = api.get("/api/v1/availability/", {"skus": product.sku, "postal_code": "69003"}).json()
    assert [loc["location"] for loc in body["results"][0]["locations"]] == ["LYO01", "MRS01", "PAR01"]
    body = api.get("/api/v1/availability/", {"skus": product.sku, "lat": 48.9, "lon": 2.3}).json()
    assert body["results"][0]["locations"][0]["location"] == "PAR01"


def test_unknown_skus_answer_zero_and_are_marked_unknown(tenant, other_tenant, network):
    web, wh, *_ = network
    foreign = factories.ProductFactory(tenant=other_tenant, sku="THEIRS")
    receive(other_tenant, foreign, factories.LocationFactory(tenant=other_tenant), 10)

    figure = _atp(tenant, web, "THEIRS")

    assert (figure.available, figure.known, figure.locations) == (0, False, [])


def test_the_query_count_is_the_same_for_one_sku_and_for_a_hundred(tenant, network, django_assert_max_num_queries):
    web, wh, par, lyo, mrs = network
    products = [factories.ProductFactory(tenant=tenant, sku=f"P{i:03d}", tracks_lots=i % 10 == 0) for i in range(100)]
    for i, product in enumerate(products):
        for location in (wh, par, lyo, mrs):
            if product.tracks_lots:
                receive(tenant, product, location, 5, lot=f"L{i}", expires_in_days=5)
            else:
                receive(tenant, product, location, 5)
    api = make_api_client(tenant, channel=web)
    api.get("/api/v1/availability/", {"skus": "P000"})  # warm up the key's last_used_at touch

    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/v1/availability/", {"skus": "P000"}).status_code == 200
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = api.get("/api/v1/availability/", {"skus": ",".join(p.sku for p in products)})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert all(r["available"] == 20 for r in response.json()["results"])


def test_the_api_answers_the_shape_integrations_rely_on(tenant, network):
    web, wh, par, *_ = network
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, wh, 9)
    receive(tenant, product, par, 3)
    api = make_api_client(tenant, channel=web)

    response = api.get("/api/v1/availability/?skus=A,NOPE")

    assert response.status_code == 200
    first, second = response.json()["results"]
    assert {k: first[k] for k in ("sku", "available", "known")} == {"sku": "A", "available": 12, "known": True}
    assert set(first["promise"]) == {"earliest", "latest"}  # the dates: tests/fulfillment/test_promise_api.py
    store_promise = first["locations"][0].pop("promise")
    assert first["locations"][0] == {
        "location": "PAR01",
        "name": par.name,
        "pickup": True,
        "available": 3,
        "distance_km": None,
    }
    assert set(store_promise) == {"earliest", "latest", "ready_at"}
    assert (second["sku"], second["available"], second["known"], second["promise"]) == ("NOPE", 0, False, None)


def test_an_unbound_key_names_its_channel_and_a_bound_key_cannot_use_another(tenant, api, network):
    web, wh, *_ = network
    other = channel_with_pool(tenant, [wh], code="MKT")
    factories.ProductFactory(tenant=tenant, sku="A")

    missing = api.get("/api/v1/availability/?skus=A")
    assert missing.status_code == 400
    assert "channel" in missing.json()["errors"]
    assert api.get("/api/v1/availability/?skus=A&channel=WEB").status_code == 200
    assert api.get("/api/v1/availability/?skus=A&channel=NOPE").status_code == 404

    bound = make_api_client(tenant, channel=other)
    assert bound.get("/api/v1/availability/?skus=A").json()["channel"] == "MKT"
    assert bound.get("/api/v1/availability/?skus=A&channel=WEB").status_code == 403


def test_another_tenants_channel_is_not_found(tenant, other_api, network):
    factories.ChannelFactory(tenant=factories.TenantFactory(slug="globex"), code="GLOBEX-WEB")

    assert other_api.get("/api/v1/availability/?skus=A&channel=WEB").status_code == 404
    assert other_api.get("/api/v1/availability/?skus=A&channel=GLOBEX-WEB").status_code == 200


@pytest.mark.parametrize(
    "params, field",
    [
        ({"skus": ""}, "skus"),
        ({"skus": ",".join(f"S{i}" for i in range(101))}, "skus"),
        ({"skus": "A", "postal_code": "00000"}, "postal_code"),
        ({"skus": "A", "postal_code": "PARIS"}, "postal_code"),
        ({"skus": "A", "lat": "48.8"}, "lon"),
        ({"skus": "A", "lat": "148.8", "lon": "2"}, "lat"),
    ],
)
def test_bad_availability_queries_are_400_naming_the_field(tenant, network, params, field):
    api = make_api_client(tenant, channel=network[0])

    response = api.get("/api/v1/availability/", params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_a_hundred_skus_are_accepted(tenant, network):
    api = make_api_client(tenant, channel=network[0])

    response = api.get("/api/v1/availability/", {"skus": ",".join(f"S{i}" for i in range(100))})

    assert response.status_code == 200 and len(response.json()["results"]) == 100


def test_asking_for_one_location_lists_only_that_one(tenant, network):
    web, wh, par, lyo, mrs = network
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, lyo, 2)
    api = make_api_client(tenant, channel=web)

    body = api.get("/api/v1/availability/?skus=A&location=LYO01").json()

    [listed] = body["results"][0]["locations"]
    assert set(listed.pop("promise")) == {"earliest", "latest", "ready_at"}
    assert listed == {"location": "LYO01", "name": lyo.name, "pickup": True, "available": 2, "distance_km": None}
    assert api.get("/api/v1/availability/?skus=A&location=NOWHERE").status_code == 404


def test_a_store_clerk_sees_only_their_stores(tenant, network, user_client):
    web, wh, par, lyo, mrs = network
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, par, 2)
    receive(tenant, product, lyo, 5)
    clerk = user_client("store_clerk", locations=[lyo])

    body = clerk.get("/api/v1/availability/?skus=A&channel=WEB").json()

    assert body["results"][0]["available"] == 7
    assert [loc["location"] for loc in body["results"][0]["locations"]] == ["LYO01"]


def test_an_inactive_channel_promises_nothing(tenant, network):
    web, *_ = network
    web.active = False
    web.save()

    response = make_api_client(tenant, channel=web).get("/api/v1/availability/?skus=A")

    assert response.status_code == 409


def test_stores_keeps_the_nearest_locations_or_the_first_of_the_pool(tenant, network):
    web, wh, par, lyo, mrs = network
    product = factories.ProductFactory(tenant=tenant, sku="A")
    receive(tenant, product, par, 2)
    receive(tenant, product, mrs, 5)
    api = make_api_client(tenant, channel=web)

    nearest = api.get("/api/v1/availability/", {"skus": "A", "postal_code": "13001", "stores": 2}).json()
    first = api.get("/api/v1/availability/", {"skus": "A", "stores": 1}).json()
    every = api.get("/api/v1/availability/", {"skus": "A"}).json()
    none = api.get("/api/v1/availability/", {"skus": "A", "stores": 0}).json()

    assert [loc["location"] for loc in nearest["results"][0]["locations"]] == ["MRS01", "LYO01"]
    assert [loc["location"] for loc in first["results"][0]["locations"]] == ["PAR01"]
    assert [loc["location"] for loc in every["results"][0]["locations"]] == ["PAR01", "LYO01", "MRS01"]
    assert none["results"][0]["locations"] == []
    # The network quantity is the whole pool's whatever is listed.
    assert {body["results"][0]["available"] for body in (nearest, first, every, none)} == {7}


@pytest.mark.parametrize("stores", ["-1", "two", "1001"])
def test_a_bad_stores_limit_is_400_naming_it(tenant, network, stores):
    response = make_api_client(tenant, channel=network[0]).get("/api/v1/availability/", {"skus": "A", "stores": stores})

    assert response.status_code == 400
    assert "stores" in response.json()["errors"]


def test_the_stores_limit_is_documented(tenant):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/availability/"]["get"]["parameters"]}
    assert parameters["stores"]["schema"]["type"] == "integer"
    assert "nearest" in parameters["stores"]["description"]


@pytest.mark.parametrize(("lat", "lon"), [("nan", "2.3"), ("48.9", "inf"), ("-Infinity", "nan")])
def test_a_non_finite_position_is_a_400(tenant, network, lat, lon):
    from tests.conftest import make_api_client

    api = make_api_client(tenant)
    response = api.get("/api/v1/availability/", {"skus": "ANY", "lat": lat, "lon": lon})

    assert response.status_code == 400


def test_a_listed_locations_answer_has_exactly_its_declared_fields(tenant, network):
    from inventory.api.stock import LocationAvailabilityOut

    web, *_ = network
    product = factories.ProductFactory(tenant=tenant, sku="A")
    [figure] = channel_availability(tenant=tenant, channel=web, skus=[product.sku])

    answer = LocationAvailabilityOut(figure.locations[0]).data

    assert set(answer) == set(LocationAvailabilityOut().fields)
    assert answer == dict(answer, location="PAR01", pickup=True, available=0, distance_km=None, promise=None)
