"""Operator commands: create_tenant, create_api_key, create_user."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from oms.models import ApiKey, AuditEntry, Membership, Tenant
from tests import factories
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_tenant_creates_with_currency_and_timezone():
    output = run(
        "create_tenant", "acme", "--name", "Acme Retail", "--currency", "usd", "--timezone", "America/New_York"
    )

    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.default_currency, tenant.timezone) == ("Acme Retail", "USD", "America/New_York")
    assert "Created tenant acme" in output


def test_create_tenant_twice_says_it_exists_and_changes_nothing():
    run("create_tenant", "acme", "--name", "Acme")

    output = run("create_tenant", "acme", "--name", "Another name", "--currency", "GBP")

    assert "already exists" in output
    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.default_currency) == ("Acme", "EUR")
    assert Tenant.objects.filter(slug="acme").count() == 1


@pytest.mark.parametrize(
    "args, field",
    [
        (["Not A Slug", "--name", "X"], "slug"),
        (["acme", "--name", "X", "--currency", "EURO"], "currency"),
        (["acme", "--name", "X", "--timezone", "Mars/Olympus"], "timezone"),
    ],
)
def test_create_tenant_refuses_bad_input_with_a_command_error(args, field):
    with pytest.raises(CommandError, match=field):
        run("create_tenant", *args)
    assert not Tenant.objects.exists()


def test_create_api_key_prints_the_secret_last_and_it_authenticates(tenant):
    output = run("create_api_key", "--tenant", "acme", "--label", "erp")

    secret = output.strip().splitlines()[-1]
    key = ApiKey.objects.for_tenant(tenant).get(label="erp")
    assert secret.startswith(f"oms_{key.prefix}_")
    assert key.hashed_secret not in output
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/webhooks/").status_code == 200


def test_create_api_key_binds_the_key_to_a_channel(tenant):
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")

    run("create_api_key", "--tenant", "acme", "--channel", "WEB", "--label", "shop")

    assert ApiKey.objects.for_tenant(tenant).get(label="shop").channel == channel


def test_create_api_key_twice_is_a_clear_error_not_a_second_key(tenant):
    run("create_api_key", "--tenant", "acme", "--label", "erp")

    with pytest.raises(CommandError, match="already exists"):
        run("create_api_key", "--tenant", "acme", "--label", "erp")
    assert ApiKey.objects.for_tenant(tenant).count() == 1


def test_create_api_key_for_unknown_tenant_or_channel_is_a_command_error(tenant, other_tenant):
    factories.ChannelFactory(tenant=other_tenant, code="WEB")

    with pytest.raises(CommandError, match="nope"):
        run("create_api_key", "--tenant", "nope", "--label", "erp")
    with pytest.raises(CommandError, match="WEB"):
        run("create_api_key", "--tenant", "acme", "--channel", "WEB", "--label", "erp")
    assert not ApiKey.all_tenants.exists()


def test_create_api_key_refuses_a_malformed_throttle_rate(tenant):
    with pytest.raises(CommandError, match="throttle_rate"):
        run("create_api_key", "--tenant", "acme", "--label", "erp", "--throttle", "lots")


def test_create_user_creates_a_member_who_can_sign_in(tenant, client):
    output = run(
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "Ann@Example.com",
        "--role",
        "admin",
        "--password",
        "s3cret-passphrase",
    )

    user = get_user_model().objects.get(email="ann@example.com")
    assert user.check_password("s3cret-passphrase")
    assert Membership.objects.for_tenant(tenant).get(user=user).role == "admin"
    assert "Created user ann@example.com" in output
    assert sign_in(client, "ann@example.com", "s3cret-passphrase")


def test_create_user_binds_a_store_clerk_to_locations(tenant):
    factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    factories.LocationFactory(tenant=tenant, code="LYO01", kind="store")

    run(
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "clerk@example.com",
        "--role",
        "store_clerk",
        "--locations",
        "PAR01,LYO01",
        "--password",
        "tall-ladder-2026",
    )

    membership = Membership.objects.for_tenant(tenant).get(user__email="clerk@example.com")
    assert sorted(membership.locations.values_list("code", flat=True)) == ["LYO01", "PAR01"]

    # Run again without --locations: the clerk keeps the stores.
    run("create_user", "--tenant", "acme", "--email", "clerk@example.com", "--role", "store_clerk")
    assert sorted(membership.locations.values_list("code", flat=True)) == ["LYO01", "PAR01"]


def test_create_user_twice_says_the_user_exists(tenant):
    args = (
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "ann@example.com",
        "--role",
        "viewer",
        "--password",
        "tall-ladder-2026",
    )
    run(*args)

    output = run(*args)

    assert "already exists" in output
    assert get_user_model().objects.filter(email="ann@example.com").count() == 1
    assert Membership.objects.for_tenant(tenant).count() == 1


def test_create_user_adds_an_existing_user_to_another_tenant(tenant, other_tenant):
    run(
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "ann@example.com",
        "--role",
        "admin",
        "--password",
        "tall-ladder-2026",
    )

    output = run("create_user", "--tenant", "globex", "--email", "ann@example.com", "--role", "viewer")

    assert "added as viewer in globex" in output
    assert Membership.all_tenants.filter(user__email="ann@example.com").count() == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "acme", "--email", "a@example.com", "--role", "boss", "--password", "pw"], "role"),
        (["--tenant", "nope", "--email", "a@example.com", "--role", "admin", "--password", "pw"], "nope"),
        (
            [
                "--tenant",
                "acme",
                "--email",
                "a@example.com",
                "--role",
                "store_clerk",
                "--locations",
                "PAR01,XXX",
                "--password",
                "pw",
            ],
            "XXX",
        ),
        (["--tenant", "acme", "--email", "not-an-email", "--role", "admin", "--password", "pw"], "email"),
    ],
)
def test_create_user_refuses_bad_input_with_a_command_error(tenant, args, message):
    factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")

    with pytest.raises(CommandError, match=message):
        run("create_user", *args)
    assert not get_user_model().objects.exists()


def test_create_user_location_of_another_tenant_is_unknown(tenant, other_tenant):
    factories.LocationFactory(tenant=other_tenant, code="PAR01", kind="store")

    with pytest.raises(CommandError, match="PAR01"):
        run(
            "create_user",
            "--tenant",
            "acme",
            "--email",
            "a@example.com",
            "--role",
            "store_clerk",
            "--locations",
            "PAR01",
            "--password",
            "tall-ladder-2026",
        )


def test_commands_leave_an_audit_trail(tenant):
    run("create_api_key", "--tenant", "acme", "--label", "erp")
    run(
        "create_user",
        "--tenant",
        "acme",
        "--email",
        "ann@example.com",
        "--role",
        "admin",
        "--password",
        "tall-ladder-2026",
    )

    actions = dict(AuditEntry.objects.for_tenant(tenant).values_list("action", "actor_label"))
    assert actions == {
        "api_key.created": "manage.py create_api_key",
        "user.created": "manage.py create_user",
        "membership.created": "manage.py create_user",
    }
