"""`manage.py seed_demo`: the demo tenant, one user per role, the apps' demo data, the subscription to the demo's
webhook receiver and the demo's fixed web shop API key."""

import sys
import types
from io import StringIO

import pytest
from django.core.management import call_command

from oms import demo
from oms.actors import Actor
from oms.management.commands import seed_demo
from oms.models import ApiKey, Membership, Role, Tenant, WebhookSubscription
from oms.services import authenticate_api_key, revoke_api_key
from tests import factories
from tests.signin import sign_in


def run() -> list[str]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue().strip().splitlines()


def key_on_last_line(lines: list[str]) -> str:
    return lines[-1].rsplit(" ", 1)[-1]


@pytest.fixture
def platform_only(monkeypatch):
    """The platform part alone: the apps' demo data takes seconds and is exercised once, below."""
    monkeypatch.setattr(seed_demo, "CONTRIBUTORS", ())


@pytest.mark.django_db
def test_seed_demo_creates_the_tenant_and_one_user_per_role(client, platform_only):
    lines = run()
    tenant = Tenant.objects.get(slug="demo")
    assert (tenant.name, tenant.default_currency, tenant.timezone) == ("Maison Demo", "EUR", "Europe/Paris")
    roles = dict(Membership.objects.for_tenant(tenant).values_list("user__email", "role"))
    assert roles == {
        "admin@demo.test": Role.ADMIN,
        "backoffice@demo.test": Role.BACK_OFFICE,
        "clerk@demo.test": Role.STORE_CLERK,
        "manager@demo.test": Role.MANAGER,
        "viewer@demo.test": Role.VIEWER,
    }
    for email in roles:
        assert sign_in(client, email, "demo-password-2026"), email
        assert client.get("/").status_code == 200
        client.logout()
    assert any("demo-password-2026" in line and "admin@demo.test" in line for line in lines)


@pytest.mark.django_db
def test_seed_demo_prints_a_working_api_key_on_its_last_line(platform_only):
    lines = run()
    key = authenticate_api_key(key_on_last_line(lines))
    assert key is not None and key.tenant.slug == "demo"
    assert lines[-1].startswith("API key")


@pytest.mark.django_db
def test_seed_demo_with_every_apps_demo_data_runs_twice_and_says_so(client):
    first = run()
    second = run()
    assert "Tenant demo already exists" in "\n".join(second)
    assert Tenant.objects.filter(slug="demo").count() == 1
    tenant = Tenant.objects.get(slug="demo")
    assert Membership.objects.for_tenant(tenant).count() == 5
    # The fixed demo key, printed by both runs, works: one active demo key, bound to the web shop.
    assert key_on_last_line(first) == key_on_last_line(second) == demo.API_KEY
    key = authenticate_api_key(demo.API_KEY)
    assert key is not None and key.channel.code == "WEB"
    assert ApiKey.objects.for_tenant(tenant).filter(revoked_at__isnull=True).count() == 1
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1
    assert sign_in(client, "clerk@demo.test", "demo-password-2026")


@pytest.mark.django_db
def test_seed_demo_keeps_the_fixed_demo_key_and_brings_it_back_when_revoked(platform_only):
    run()
    tenant = Tenant.objects.get(slug="demo")
    key = ApiKey.objects.for_tenant(tenant).get()
    assert (key.label, key.prefix) == ("demo-web", "demo")
    assert key.hashed_secret != demo.API_KEY and demo.API_KEY not in key.hashed_secret  # stored hashed only
    revoke_api_key(tenant=tenant, key_id=key.id, actor=Actor.system("tests"))
    assert authenticate_api_key(demo.API_KEY) is None

    lines = run()

    assert key_on_last_line(lines) == demo.API_KEY
    assert authenticate_api_key(demo.API_KEY).id == key.id
    assert ApiKey.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_the_demo_subscribes_to_its_receiver_at_the_public_url_and_follows_it(settings, platform_only):
    settings.OMS_DEMO = True
    settings.OMS_PUBLIC_URL = "http://127.0.0.1:8123"
    run()
    tenant = Tenant.objects.get(slug="demo")
    subscription = WebhookSubscription.objects.for_tenant(tenant).get()
    assert (subscription.url, subscription.events, subscription.active) == (
        "http://127.0.0.1:8123/demo/webhooks/demo/receive/",
        ["*"],
        True,
    )
    secret = subscription.secret

    settings.OMS_PUBLIC_URL = "http://127.0.0.1:9000"
    run()

    subscription.refresh_from_db()
    assert subscription.url == "http://127.0.0.1:9000/demo/webhooks/demo/receive/"
    assert subscription.secret == secret
    assert WebhookSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.django_db
def test_outside_the_demo_the_receiver_subscription_is_paused(settings, platform_only):
    settings.OMS_DEMO = True
    run()
    settings.OMS_DEMO = False

    lines = run()

    subscription = WebhookSubscription.objects.for_tenant(Tenant.objects.get(slug="demo")).get()
    assert subscription.active is False
    assert any("paused outside the demo" in line for line in lines)


@pytest.mark.django_db
def test_seed_demo_restores_a_changed_demo_password(client, platform_only):
    run()
    from oms.models import User

    admin = User.objects.get(email="admin@demo.test")
    admin.set_password("something-else-entirely")
    admin.save()
    run()
    assert sign_in(client, "admin@demo.test", "demo-password-2026")


@pytest.mark.django_db
def test_apps_contribute_in_order_and_the_key_binds_to_the_web_channel(monkeypatch):
    calls = []

    def contributor(name, action=None):
        module = types.ModuleType(name)

        def seed(tenant, stdout):
            calls.append(name)
            stdout.write(f"  {name} seeded")
            if action:
                action(tenant)

        module.seed_demo = seed
        return module

    def make_stores(tenant):
        factories.LocationFactory(tenant=tenant, code="WH1", kind="warehouse")
        factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")

    def make_web(tenant):
        factories.ChannelFactory(tenant=tenant, code="WEB", kind="web")

    for name in seed_demo.CONTRIBUTORS:
        action = {"inventory.demo": make_stores, "channels.demo": make_web}.get(name)
        monkeypatch.setitem(sys.modules, name, contributor(name, action))
    lines = run()
    assert calls == list(seed_demo.CONTRIBUTORS)
    assert "  channels.demo seeded" in lines
    key = authenticate_api_key(key_on_last_line(lines))
    assert key.channel is not None and key.channel.code == "WEB"
    assert lines[-1].startswith("API key (channel WEB): ")
    tenant = Tenant.objects.get(slug="demo")
    clerk = Membership.objects.for_tenant(tenant).get(user__email="clerk@demo.test")
    assert list(clerk.locations.values_list("code", flat=True)) == ["PAR01"]


def test_missing_contributors_are_skipped_but_broken_ones_are_not(tmp_path, monkeypatch):
    assert seed_demo.load_contributor("oms.no_such_demo_module") is None
    (tmp_path / "fake_app_demo.py").write_text("import a_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        seed_demo.load_contributor("fake_app_demo")
    sys.modules.pop("fake_app_demo", None)
