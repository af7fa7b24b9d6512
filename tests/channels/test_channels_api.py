"""Channels API: sourcing pool in priority order, buffers, validation, bound keys, tenants."""

import pytest

from channels.models import ChannelLocation
from oms.models import AuditEntry
from tests import factories
from tests.conftest import make_api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def locations(tenant):
    return [factories.LocationFactory(tenant=tenant, code=code) for code in ("WH1", "WH2", "PAR01")]


def test_create_a_channel_with_its_pool_in_priority_order(api, tenant, locations):
    response = api.post(
        "/api/v1/channels/",
        {
            "code": "WEB",
            "name": "Boutique en ligne",
            "kind": "web",
            "locations": ["WH2", "WH1", "PAR01"],
            "buffer": 2,
            "reservation_ttl": 600,
            "allow_backorders": True,
        },
        format="json",
    )

    assert response.status_code == 201
    body = api.get("/api/v1/channels/WEB/").json()
    assert {
        k: body[k]
        for k in (
            "code",
            "name",
            "kind",
            "active",
            "locations",
            "buffer",
            "buffer_kind",
            "reservation_ttl",
            "allow_backorders",
            "min_shelf_life_days",
        )
    } == {
        "code": "WEB",
        "name": "Boutique en ligne",
        "kind": "web",
        "active": True,
        "locations": ["WH2", "WH1", "PAR01"],
        "buffer": 2,
        "buffer_kind": "units",
        "reservation_ttl": 600,
        "allow_backorders": True,
        "min_shelf_life_days": 0,
    }
    assert AuditEntry.objects.for_tenant(tenant).filter(action="channel.created").exists()


def test_patch_replaces_the_pool_and_audits_it(api, tenant, locations):
    api.post(
        "/api/v1/channels/",
        {"code": "CC", "name": "Click", "kind": "click_collect", "locations": ["PAR01"]},
        format="json",
    )

    response = api.patch(
        "/api/v1/channels/CC/", {"locations": ["WH1", "PAR01"], "buffer": 10, "buffer_kind": "percent"}, format="json"
    )

    assert response.json()["locations"] == ["WH1", "PAR01"]
    assert list(
        ChannelLocation.objects.for_tenant(tenant).order_by("priority").values_list("location__code", flat=True)
    ) == ["WH1", "PAR01"]
    change = AuditEntry.objects.for_tenant(tenant).get(action="channel.changed").changes
    assert change["locations"] == [["PAR01"], ["WH1", "PAR01"]]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "telepathy"}, "kind"),
        ({"locations": ["WH1", "MOON"]}, "locations"),
        ({"locations": ["WH1", "WH1"]}, "locations"),
        ({"buffer": 150, "buffer_kind": "percent"}, "buffer"),
        ({"buffer": -1}, "buffer"),
        ({"buffer_kind": "kilos"}, "buffer_kind"),
        ({"reservation_ttl": 10**9}, "reservation_ttl"),
        ({"code": ""}, "code"),
    ],
)
def test_invalid_channels_are_400_naming_the_field(api, locations, body, field):
    response = api.post("/api/v1/channels/", {"code": "WEB", "name": "Web", "kind": "web", **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_pool_cannot_name_another_tenants_location(api, other_tenant, locations):
    factories.LocationFactory(tenant=other_tenant, code="THEIRS")

    response = api.post(
        "/api/v1/channels/", {"code": "WEB", "name": "Web", "kind": "web", "locations": ["THEIRS"]}, format="json"
    )

    assert response.status_code == 400
    assert "locations" in response.json()["errors"]


def test_a_duplicate_code_is_a_conflict(api, tenant):
    factories.ChannelFactory(tenant=tenant, code="WEB")

    response = api.post("/api/v1/channels/", {"code": "WEB", "name": "W", "kind": "web"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["status"], body["channel"]) == ("conflict", 409, "WEB")


def test_another_tenants_channels_are_invisible(api, other_tenant):
    factories.ChannelFactory(tenant=other_tenant, code="THEIRS")

    assert api.get("/api/v1/channels/THEIRS/").status_code == 404
    assert api.patch("/api/v1/channels/THEIRS/", {"name": "Mine"}, format="json").status_code == 404
    assert api.get("/api/v1/channels/").json()["results"] == []


def test_a_channel_key_sees_only_its_channel_and_changes_nothing(tenant):
    web = factories.ChannelFactory(tenant=tenant, code="WEB")
    factories.ChannelFactory(tenant=tenant, code="MKT")
    shop = make_api_client(tenant, channel=web)

    assert [c["code"] for c in shop.get("/api/v1/channels/").json()["results"]] == ["WEB"]
    assert shop.get("/api/v1/channels/MKT/").status_code == 404
    assert shop.patch("/api/v1/channels/WEB/", {"buffer": 0}, format="json").status_code == 403
    assert shop.post("/api/v1/channels/", {"code": "X", "name": "X", "kind": "web"}, format="json").status_code == 403


def test_list_filters_by_kind(api, tenant):
    factories.ChannelFactory(tenant=tenant, code="WEB", kind="web")
    factories.ChannelFactory(tenant=tenant, code="MKT", kind="marketplace")

    assert [c["code"] for c in api.get("/api/v1/channels/?kind=marketplace").json()["results"]] == ["MKT"]
    assert api.get("/api/v1/channels/?kind=fax").status_code == 400


def test_viewers_read_channels_but_only_staff_change_them(tenant, user_client):
    factories.ChannelFactory(tenant=tenant, code="WEB")
    viewer = user_client("viewer")

    assert viewer.get("/api/v1/channels/WEB/").status_code == 200
    assert viewer.patch("/api/v1/channels/WEB/", {"buffer": 3}, content_type="application/json").status_code == 403
