"""Network API: locations by code, capabilities, validation, clerks and tenants."""

import pytest

from oms.models import AuditEntry
from tests import factories
from tests.conftest import make_api_client

pytestmark = pytest.mark.django_db

PARIS = {
    "code": "PAR01",
    "name": "Paris Rivoli",
    "kind": "store",
    "address": {"line1": "75 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"},
    "latitude": 48.8606,
    "longitude": 2.3466,
    "timezone": "Europe/Paris",
    "ships": False,
    "pickup": True,
    "accepts_returns": True,
    "daily_capacity": 120,
    "cutoff_time": "16:30",
    "opening_hours": {"mon": [["09:00", "20:00"]], "sat": [["10:00", "19:00"]]},
}


def test_create_and_read_a_location_by_code(api, tenant):
    created = api.post("/api/v1/locations/", PARIS, format="json")

    assert created.status_code == 201
    body = api.get("/api/v1/locations/PAR01/").json()
    assert {k: body[k] for k in PARIS} == PARIS
    assert AuditEntry.objects.for_tenant(tenant).filter(action="location.created").exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"kind": "castle"}, "kind"),
        ({"code": "PAR 01"}, "code"),
        ({"latitude": 91, "longitude": 2}, "latitude"),
        ({"latitude": "nan", "longitude": 2}, "latitude"),
        ({"latitude": 48.8, "longitude": "-Infinity"}, "longitude"),
        ({"latitude": 48.8, "longitude": None}, "longitude"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"timezone": "Europe"}, "timezone"),
        ({"timezone": "Europe/"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"cutoff_time": "25:00"}, "cutoff_time"),
        ({"opening_hours": {"mon": [["19:00", "09:00"]]}}, "opening_hours"),
        ({"opening_hours": {"someday": []}}, "opening_hours.someday"),
        ({"opening_hours": {"mon": [["9h", "19:00"]]}}, "opening_hours.mon[0][0]"),
        ({"opening_hours": {"mon": [["09:00"]]}}, "opening_hours.mon[0]"),
        ({"opening_hours": {"mon": "09:00-19:00"}}, "opening_hours.mon"),
        ({"opening_hours": ["mon"]}, "opening_hours"),
        ({"kind": "dropship", "pickup": True}, "pickup"),
        ({"daily_capacity": -5}, "daily_capacity"),
        ({"address": {"city": ["x"], "postal_code": "75001"}}, "address.city"),
        ({"address": {"postal_code": {"a": 1}}}, "address.postal_code"),
        ({"address": {"country": 5}}, "address.country"),
        ({"address": {"line1": "x" * 201}}, "address.line1"),
        ({"address": {"line1": "1 rue", "floor": 3}}, "address.floor"),
        ({"address": "75 rue de Rivoli"}, "address"),
    ],
)
def test_invalid_locations_are_400_naming_the_field(api, changes, field):
    response = api.post("/api/v1/locations/", {**PARIS, **changes}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors


def test_a_duplicate_code_is_a_conflict(api, tenant):
    factories.LocationFactory(tenant=tenant, code="PAR01")

    response = api.post("/api/v1/locations/", PARIS, format="json")

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["status"], body["location"]) == ("conflict", 409, "PAR01")
    assert body["type"].endswith("/conflict")


def test_patch_changes_capabilities_and_keeps_the_code(api, tenant):
    factories.LocationFactory(tenant=tenant, code="WH1", pickup=False)

    response = api.patch("/api/v1/locations/WH1/", {"pickup": True, "cutoff_time": "15:00"}, format="json")

    assert response.status_code == 200
    assert (response.json()["code"], response.json()["pickup"], response.json()["cutoff_time"]) == (
        "WH1",
        True,
        "15:00",
    )
    assert AuditEntry.objects.for_tenant(tenant).get(action="location.changed").changes["pickup"] == [False, True]


def test_list_filters_by_kind_and_capability(api, tenant):
    factories.LocationFactory(tenant=tenant, code="WH1", kind="warehouse")
    factories.LocationFactory(tenant=tenant, code="PAR01", kind="store", pickup=True)

    assert [loc["code"] for loc in api.get("/api/v1/locations/?kind=store").json()["results"]] == ["PAR01"]
    assert [loc["code"] for loc in api.get("/api/v1/locations/?pickup=true").json()["results"]] == ["PAR01"]
    assert api.get("/api/v1/locations/?kind=castle").status_code == 400


def test_another_tenants_locations_are_invisible(api, other_tenant):
    factories.LocationFactory(tenant=other_tenant, code="THEIRS")

    assert api.get("/api/v1/locations/THEIRS/").status_code == 404
    assert api.patch("/api/v1/locations/THEIRS/", {"name": "Mine"}, format="json").status_code == 404
    assert api.get("/api/v1/locations/").json()["results"] == []


def test_a_store_clerk_sees_only_their_stores(tenant, user_client):
    lyon = factories.LocationFactory(tenant=tenant, code="LYO01", kind="store")
    factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    clerk = user_client("store_clerk", locations=[lyon])

    assert [loc["code"] for loc in clerk.get("/api/v1/locations/").json()["results"]] == ["LYO01"]
    assert clerk.get("/api/v1/locations/PAR01/").status_code == 404
    assert clerk.patch("/api/v1/locations/LYO01/", {"name": "Mine"}, content_type="application/json").status_code == 403


def test_a_channel_key_cannot_change_the_network(tenant):
    factories.LocationFactory(tenant=tenant, code="WH1")
    shop = make_api_client(tenant, channel=factories.ChannelFactory(tenant=tenant))

    assert shop.get("/api/v1/locations/WH1/").status_code == 200
    assert shop.post("/api/v1/locations/", PARIS, format="json").status_code == 403
    assert shop.patch("/api/v1/locations/WH1/", {"name": "X"}, format="json").status_code == 403


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_a_patch_with_a_non_finite_coordinate_is_a_400_and_changes_nothing(api, tenant, value):
    api.post("/api/v1/locations/", PARIS, format="json")

    response = api.patch(f"/api/v1/locations/{PARIS['code']}/", {"latitude": value, "longitude": 2.0}, format="json")

    assert response.status_code == 400 and "latitude" in response.json()["errors"]
    assert api.get(f"/api/v1/locations/{PARIS['code']}/").json()["latitude"] == PARIS["latitude"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN"])
def test_the_location_service_refuses_a_non_finite_coordinate_from_any_caller(tenant, value):
    from inventory.services import create_location
    from oms.actors import Actor
    from oms.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        create_location(
            tenant=tenant,
            actor=Actor.system("tests"),
            code="NAN01",
            name="Nowhere",
            kind="store",
            latitude=value,
            longitude=2.0,
        )

    assert "latitude" in refused.value.extra["errors"]
