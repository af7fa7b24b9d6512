"""API keys: rotation with an overlap (old and new secrets both work until a set time), revocation at once, the last
use recorded, and secrets never written to the logs."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from oms import services
from oms.actors import Actor
from oms.models import ApiKey, AuditEntry

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def _client(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_rotated_key_works_beside_its_successor_until_its_time_then_only_the_successor(tenant):
    old = services.create_api_key(tenant=tenant, label="ERP", actor=ACTOR, throttle_rate="500/s")

    new = services.rotate_api_key(tenant=tenant, key_id=old.api_key.id, actor=ACTOR, overlap=timedelta(hours=1))

    assert new.api_key.label == "ERP" and new.api_key.throttle_rate == "500/s" and new.secret != old.secret
    assert _client(old.secret).get("/api/v1/webhooks/").status_code == 200
    assert _client(new.secret).get("/api/v1/webhooks/").status_code == 200
    ApiKey.all_tenants.filter(id=old.api_key.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    from oms.api.authentication import forget_api_keys

    forget_api_keys()
    assert _client(old.secret).get("/api/v1/webhooks/").status_code == 401
    assert _client(new.secret).get("/api/v1/webhooks/").status_code == 200
    entry = AuditEntry.objects.for_tenant(tenant).get(action="api_key.rotated")
    assert entry.changes["successor"] == new.api_key.prefix


def test_an_overlap_of_zero_stops_the_old_secret_at_once(tenant):
    old = services.create_api_key(tenant=tenant, label="WMS", actor=ACTOR)
    assert _client(old.secret).get("/api/v1/webhooks/").status_code == 200  # remembered by this process

    services.rotate_api_key(tenant=tenant, key_id=old.api_key.id, actor=ACTOR, overlap=timedelta(0))

    assert _client(old.secret).get("/api/v1/webhooks/").status_code == 401


def test_a_revoked_or_expired_key_is_not_rotated_and_overlaps_are_bounded(tenant):
    from oms.errors import Conflict, ValidationFailed

    key = services.create_api_key(tenant=tenant, label="Old", actor=ACTOR).api_key
    with pytest.raises(ValidationFailed):
        services.rotate_api_key(tenant=tenant, key_id=key.id, actor=ACTOR, overlap=timedelta(days=31))
    services.revoke_api_key(tenant=tenant, key_id=key.id, actor=ACTOR)
    with pytest.raises(Conflict):
        services.rotate_api_key(tenant=tenant, key_id=key.id, actor=ACTOR, overlap=timedelta(hours=1))


def test_rotate_api_key_command_prints_the_new_secret_once(tenant):
    old = services.create_api_key(tenant=tenant, label="Carrier hub", actor=ACTOR)
    out = StringIO()

    call_command(
        "rotate_api_key", "--tenant", tenant.slug, "--label", "Carrier hub", "--overlap-hours", "2", stdout=out
    )

    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("oms_") and secret != old.secret
    assert _client(secret).get("/api/v1/webhooks/").status_code == 200
    assert _client(old.secret).get("/api/v1/webhooks/").status_code == 200


def test_the_api_keys_page_rotates_a_key_and_shows_the_new_secret_once(user_client, tenant):
    old = services.create_api_key(tenant=tenant, label="Shop", actor=ACTOR)
    admin = user_client("admin")

    answer = admin.post("/settings/api-keys/", {"rotate": old.api_key.id, "overlap_hours": "24"})

    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    secret = answer.context["issued"].secret
    assert secret in answer.content.decode()
    assert _client(secret).get("/api/v1/webhooks/").status_code == 200
    assert secret not in admin.get("/settings/api-keys/").content.decode()


def test_secrets_never_reach_the_logs(tenant, caplog):
    issued = services.create_api_key(tenant=tenant, label="Logged?", actor=ACTOR)
    caplog.set_level(logging.DEBUG)

    _client(issued.secret).get("/api/v1/webhooks/")
    _client(issued.secret).post("/api/v1/orders/", {"lines": "x"}, format="json")
    _client(issued.secret + "x").get("/api/v1/webhooks/")  # an unknown secret is not logged either

    text = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert issued.secret not in text
    assert issued.secret.split("_", 2)[2] not in text
