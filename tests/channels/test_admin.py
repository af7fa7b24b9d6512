"""Channel admin: the pool is typed as codes and saved through the channel service."""

import pytest

from channels.services import channel_by_code, pool_codes
from oms.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_back_office_creates_a_channel_with_its_pool(tenant, user_client):
    for code in ("WH1", "PAR01"):
        factories.LocationFactory(tenant=tenant, code=code)
    staff = user_client("back_office")

    response = staff.post(
        "/admin/channels/channel/add/",
        {
            "code": "WEB",
            "name": "Web",
            "kind": "web",
            "active": "on",
            "pool": "PAR01, WH1",
            "buffer": "0",
            "buffer_kind": "units",
            "reservation_ttl": "900",
            "min_shelf_life_days": "0",
        },
    )

    assert response.status_code == 302
    assert pool_codes(channel_by_code(tenant=tenant, code="WEB")) == ["PAR01", "WH1"]
    assert AuditEntry.objects.for_tenant(tenant).filter(action="channel.created").exists()


def test_an_unknown_pool_location_is_refused(tenant, user_client):
    staff = user_client("back_office")
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")

    response = staff.post(
        f"/admin/channels/channel/{channel.id}/change/",
        {
            "name": "Web",
            "kind": "web",
            "active": "on",
            "pool": "MOON",
            "buffer": "0",
            "buffer_kind": "units",
            "reservation_ttl": "900",
            "min_shelf_life_days": "0",
        },
        follow=True,
    )

    assert b"Unknown location" in response.content
    assert pool_codes(channel_by_code(tenant=tenant, code="WEB")) == []
