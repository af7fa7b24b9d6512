"""Platform pages through the Django test client: sign-in, home, navigation, tenant switcher, language,
audit trail, API keys, webhooks, error pages, and who may open what."""

import re

import pytest
from django.urls import NoReverseMatch, reverse

from oms import permissions
from oms.actors import Actor
from oms.middleware import SESSION_TENANT_KEY
from oms.models import ApiKey, Role, WebhookDelivery, WebhookSubscription
from oms.services import authenticate_api_key, create_api_key, set_membership
from oms.views import _HOME_TILES, register_home_tile
from tests import factories

PASSWORD = "correct-horse-battery"
SYSTEM = Actor.system("tests")

# Every platform page and the roles that may open it.
PAGES = {
    "home": set(Role.values),
    "audit-log": {Role.ADMIN},
    "api-keys": {Role.ADMIN},
    "webhooks": {Role.ADMIN, Role.BACK_OFFICE},
}


def member(tenant, role, email=None):
    user = factories.UserFactory(**({"email": email} if email else {}))
    set_membership(tenant=tenant, user=user, role=role, actor=SYSTEM)
    return user


def nav_links(html: str) -> set[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    return set(re.findall(r'href="([^"]+)"', nav.group(0))) if nav else set()


# --- sign-in and sign-out ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_asks_for_email_and_password(client):
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="email"' in html and 'type="password"' in html


def test_sign_in_by_email_and_password_leads_to_home(client, tenant):
    member(tenant, Role.BACK_OFFICE, email="anna@acme.test")
    response = client.post("/login/", {"username": "anna@acme.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome to Acme" in home.content.decode()


def test_sign_in_ignores_the_case_of_the_email(client, tenant):
    member(tenant, Role.VIEWER, email="bob@acme.test")
    response = client.post("/login/", {"username": "Bob@ACME.test", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, tenant):
    member(tenant, Role.ADMIN, email="carl@acme.test")
    response = client.post("/login/", {"username": "carl@acme.test", "password": "not-the-password"})
    assert response.status_code == 200
    assert "Unknown e-mail address or wrong password." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert client.get("/").status_code == 302


def test_sign_in_follows_a_safe_next_only(client, tenant):
    member(tenant, Role.ADMIN, email="dora@acme.test")
    response = client.post("/login/?next=/audit/", {"username": "dora@acme.test", "password": PASSWORD})
    assert response.url == "/audit/"
    client.logout()
    response = client.post("/login/?next=https://evil.example/", {"username": "dora@acme.test", "password": PASSWORD})
    assert response.url == "/"


@pytest.mark.django_db
def test_user_without_any_tenant_gets_a_clear_page(client):
    factories.UserFactory(email="lonely@example.com")
    client.post("/login/", {"username": "lonely@example.com", "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your account has no tenant" in html
    assert "lonely@example.com" in html
    assert 'action="/logout/"' in html


def test_user_of_an_inactive_tenant_only_gets_the_no_tenant_page(client, tenant):
    user = member(tenant, Role.ADMIN)
    tenant.active = False
    tenant.save(update_fields=["active"])
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "Your account has no tenant" in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(client, tenant):
    client.force_login(member(tenant, Role.VIEWER))
    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get("/").status_code == 302


def test_signed_in_user_visiting_login_goes_home(client, tenant):
    client.force_login(member(tenant, Role.VIEWER))
    response = client.get("/login/")
    assert response.status_code == 302 and response.url == "/"


# --- home and navigation -------------------------------------------------------------------------------


def test_home_shows_the_tiles_that_apps_register(user_client):
    def tile(request):
        return {"title": "Orders to ship", "value": 42, "url": "/orders/"}

    def hidden(request):
        return None

    register_home_tile(tile, order=1)
    register_home_tile(hidden, order=2)
    try:
        html = user_client(Role.MANAGER).get("/").content.decode()
    finally:
        _HOME_TILES[:] = [entry for entry in _HOME_TILES if entry[1] not in (tile, hidden)]
    assert re.search(
        r'class="tile"[^>]*href="/orders/"><span class="tile-value">42</span>'
        r'<span class="tile-title">Orders to ship</span>',
        html,
    )


def test_home_tiles_for_administrators_count_this_tenants_active_keys(user_client, tenant, other_tenant):
    create_api_key(tenant=tenant, label="shop", actor=SYSTEM)
    revoked = create_api_key(tenant=tenant, label="old", actor=SYSTEM).api_key
    ApiKey.objects.for_tenant(tenant).filter(id=revoked.id).update(revoked_at="2026-01-01T00:00:00Z")
    create_api_key(tenant=other_tenant, label="theirs", actor=SYSTEM)
    html = user_client(Role.ADMIN).get("/").content.decode()
    assert re.search(r'<span class="tile-value">1</span><span class="tile-title">Active API keys</span>', html)


def test_home_tiles_hide_platform_figures_from_store_clerks(user_client):
    html = user_client(Role.STORE_CLERK).get("/").content.decode()
    assert "Active API keys" not in html and "Failed webhook deliveries" not in html


@pytest.mark.parametrize("role", Role.values)
def test_each_role_sees_exactly_its_navigation(user_client, role):
    html = user_client(role).get("/").content.decode()
    expected = set()
    for item in permissions._NAV:
        if role in item.roles:
            try:
                expected.add(reverse(item.url_name))
            except NoReverseMatch:
                pass
    assert nav_links(html) == expected


@pytest.mark.parametrize("role", Role.values)
def test_platform_navigation_per_role(user_client, role):
    links = nav_links(user_client(role).get("/").content.decode())
    assert ("/audit/" in links) == (role == Role.ADMIN)
    assert ("/settings/api-keys/" in links) == (role == Role.ADMIN)
    assert ("/settings/webhooks/" in links) == (role in (Role.ADMIN, Role.BACK_OFFICE))
    assert ("/admin/" in links) == (role in (Role.ADMIN, Role.BACK_OFFICE))
    assert "/" in links


@pytest.mark.parametrize("role", Role.values)
def test_every_navigation_link_opens_for_its_role(user_client, role):
    client = user_client(role)
    for url in nav_links(client.get("/").content.decode()):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_anonymous_pages_show_no_navigation(client):
    assert nav_links(client.get("/login/").content.decode()) == set()


# --- who may open which page ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("url_name", sorted(PAGES))
@pytest.mark.parametrize("role", Role.values)
def test_each_page_opens_for_its_roles_and_refuses_the_others(user_client, url_name, role):
    response = user_client(role).get(reverse(url_name))
    if role in PAGES[url_name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Access denied" in response.content.decode()


@pytest.mark.parametrize("url_name", ["api-keys", "webhooks"])
@pytest.mark.parametrize("role", [Role.STORE_CLERK, Role.MANAGER, Role.VIEWER])
def test_posts_are_refused_to_roles_without_access(user_client, tenant, url_name, role):
    key = create_api_key(tenant=tenant, label="keep", actor=SYSTEM).api_key
    response = user_client(role).post(reverse(url_name), {"revoke": key.id, "label": "new"})
    assert response.status_code == 403
    assert ApiKey.objects.for_tenant(tenant).get(id=key.id).revoked_at is None
    assert ApiKey.objects.for_tenant(tenant).count() == 1


# --- tenant switcher -----------------------------------------------------------------------------------


def test_user_with_several_memberships_switches_tenant(client, tenant, other_tenant):
    user = member(tenant, Role.ADMIN)
    set_membership(tenant=other_tenant, user=user, role=Role.VIEWER, actor=SYSTEM)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'id="tenant-switcher"' in html
    first = client.get("/").wsgi_request.tenant

    target = other_tenant if first == tenant else tenant
    response = client.post("/tenant/switch/", {"tenant": target.id, "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    after = client.get("/")
    assert after.wsgi_request.tenant == target
    assert f"Welcome to {target.name}" in after.content.decode()
    assert after.wsgi_request.membership.tenant_id == target.id


def test_switching_to_a_tenant_one_is_not_a_member_of_is_refused(client, tenant, other_tenant):
    user = member(tenant, Role.ADMIN)
    client.force_login(user)
    response = client.post("/tenant/switch/", {"tenant": other_tenant.id})
    assert response.status_code == 403
    assert client.session[SESSION_TENANT_KEY] == tenant.id
    assert client.get("/").wsgi_request.tenant == tenant
    assert client.post("/tenant/switch/", {"tenant": "not-a-number"}).status_code == 403


def test_tenant_switch_ignores_an_offsite_next(client, tenant, other_tenant):
    user = member(tenant, Role.ADMIN)
    set_membership(tenant=other_tenant, user=user, role=Role.ADMIN, actor=SYSTEM)
    client.force_login(user)
    response = client.post("/tenant/switch/", {"tenant": other_tenant.id, "next": "https://evil.example/"})
    assert response.url == "/"


@pytest.mark.django_db
def test_tenant_switch_needs_a_signed_in_user(client, tenant):
    response = client.post("/tenant/switch/", {"tenant": tenant.id})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get("/tenant/switch/").status_code == 405


def test_single_membership_shows_the_tenant_name_without_a_switcher(user_client):
    html = user_client(Role.VIEWER).get("/").content.decode()
    assert 'id="tenant-switcher"' not in html
    assert '<span class="tenant-name">Acme</span>' in html


# --- language ------------------------------------------------------------------------------------------


def test_switching_to_french_renders_pages_in_french(user_client):
    client = user_client(Role.ADMIN)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="fr">' in html
    assert "Bienvenue chez Acme" in html
    assert "Journal d’audit" in html and "Se déconnecter" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Welcome to Acme" in client.get("/").content.decode()


# --- audit trail ---------------------------------------------------------------------------------------


def test_audit_trail_lists_this_tenants_entries_only(user_client, tenant, other_tenant):
    factories.AuditEntryFactory(tenant=tenant, action="order.cancelled", object_repr="O-000001")
    factories.AuditEntryFactory(tenant=other_tenant, action="order.cancelled", object_repr="O-SECRET")
    html = user_client(Role.ADMIN).get("/audit/").content.decode()
    assert "O-000001" in html
    assert "O-SECRET" not in html


def test_audit_trail_filters_by_text_and_action(user_client, tenant):
    factories.AuditEntryFactory(tenant=tenant, action="order.cancelled", object_repr="O-000001", actor_label="ann")
    factories.AuditEntryFactory(tenant=tenant, action="stock.adjusted", object_repr="SKU-RED", actor_label="bob")
    factories.AuditEntryFactory(tenant=tenant, action="order.cancelled", object_repr="O-000002", actor_label="bob")
    client = user_client(Role.ADMIN)

    by_text = client.get("/audit/", {"q": "bob"})
    assert [e.object_repr for e in by_text.context["page"]] == ["O-000002", "SKU-RED"]
    by_action = client.get("/audit/", {"action": "order.cancelled"})
    assert [e.object_repr for e in by_action.context["page"]] == ["O-000002", "O-000001"]
    both = client.get("/audit/", {"q": "bob", "action": "order.cancelled"})
    assert [e.object_repr for e in both.context["page"]] == ["O-000002"]
    offered = [action for _group, choices in both.context["actions"] for action, _name in choices]
    assert "stock.adjusted" in offered


def test_audit_trail_paginates_and_keeps_the_filters(user_client, tenant):
    for n in range(55):
        factories.AuditEntryFactory(tenant=tenant, action="thing.done", object_repr=f"obj-{n:02d}")
    factories.AuditEntryFactory(tenant=tenant, action="other.thing", object_repr="elsewhere")
    client = user_client(Role.ADMIN)
    first = client.get("/audit/", {"action": "thing.done"})
    assert len(first.context["page"].object_list) == 50
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?action=thing.done&amp;page=2"' in html
    second = client.get("/audit/", {"action": "thing.done", "page": 2})
    assert [e.object_repr for e in second.context["page"]] == [f"obj-{n:02d}" for n in range(4, -1, -1)]
    assert client.get("/audit/", {"page": "999"}).status_code == 200


def test_audit_trail_records_changes_made_on_the_pages(user_client, tenant):
    client = user_client(Role.ADMIN)
    client.post("/settings/api-keys/", {"label": "erp"})
    page = client.get("/audit/", {"action": "api_key.created"}).context["page"]
    assert [(e.actor_label, e.object_repr.split(" ")[0]) for e in page] == [(client.user.email, "erp")]


# --- API keys ------------------------------------------------------------------------------------------


def test_admin_creates_a_key_and_sees_the_secret_once(user_client, tenant):
    client = user_client(Role.ADMIN)
    response = client.post("/settings/api-keys/", {"label": "erp", "throttle_rate": "500/s"})
    assert response.status_code == 200
    secret = re.search(r'<pre class="secret" id="issued-secret">([^<]+)</pre>', response.content.decode()).group(1)
    key = authenticate_api_key(secret)
    assert key is not None and key.tenant == tenant and key.label == "erp" and key.throttle_rate == "500/s"
    assert response["Cache-Control"] == "no-store"
    again = client.get("/settings/api-keys/").content.decode()
    assert secret not in again
    assert "erp" in again and key.prefix in again


def test_admin_binds_a_key_to_one_of_the_tenants_channels(user_client, tenant, other_tenant):
    web = factories.ChannelFactory(tenant=tenant, code="WEB")
    theirs = factories.ChannelFactory(tenant=other_tenant, code="THEIRS")
    client = user_client(Role.ADMIN)
    form = client.get("/settings/api-keys/").context["form"]
    assert list(form.fields["channel"].queryset) == [web]
    response = client.post("/settings/api-keys/", {"label": "shop", "channel": web.id})
    assert response.context["issued"].api_key.channel == web
    refused = client.post("/settings/api-keys/", {"label": "sneaky", "channel": theirs.id})
    assert refused.context["issued"] is None and "channel" in refused.context["form"].errors
    assert not ApiKey.objects.for_tenant(tenant).filter(label="sneaky").exists()


def test_duplicate_key_label_is_a_form_error(user_client, tenant):
    create_api_key(tenant=tenant, label="erp", actor=SYSTEM)
    response = user_client(Role.ADMIN).post("/settings/api-keys/", {"label": "erp"})
    assert response.status_code == 200
    assert response.context["form"].errors["label"] == ["A key with this label already exists."]
    assert response.context["issued"] is None


def test_bad_throttle_rate_is_a_form_error(user_client, tenant):
    response = user_client(Role.ADMIN).post("/settings/api-keys/", {"label": "x", "throttle_rate": "fast"})
    assert "throttle_rate" in response.context["form"].errors
    assert not ApiKey.objects.for_tenant(tenant).exists()


def test_admin_revokes_a_key(user_client, tenant):
    issued = create_api_key(tenant=tenant, label="shop", actor=SYSTEM)
    client = user_client(Role.ADMIN)
    response = client.post("/settings/api-keys/", {"revoke": issued.api_key.id}, follow=True)
    assert "The key “shop” was revoked." in response.content.decode()
    assert ApiKey.objects.for_tenant(tenant).get(id=issued.api_key.id).revoked_at is not None
    assert authenticate_api_key(issued.secret) is None


def test_revoking_another_tenants_key_does_nothing(user_client, tenant, other_tenant):
    theirs = create_api_key(tenant=other_tenant, label="theirs", actor=SYSTEM)
    response = user_client(Role.ADMIN).post("/settings/api-keys/", {"revoke": theirs.api_key.id}, follow=True)
    assert "No such key." in response.content.decode()
    assert authenticate_api_key(theirs.secret) is not None
    assert "theirs" not in response.content.decode().split("<table", 1)[1]


# --- webhooks ------------------------------------------------------------------------------------------


def _delivery(tenant, url, status=WebhookDelivery.Status.FAILED):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant, url=url)
    from oms.models import OutboxEvent

    event = OutboxEvent.objects.create(tenant=tenant, topic="order.placed", payload={})
    return WebhookDelivery.objects.create(
        tenant=tenant, subscription=subscription, event=event, status=status, attempts=3, last_status_code=502
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BACK_OFFICE])
def test_staff_see_this_tenants_subscriptions_and_deliveries(user_client, tenant, other_tenant, role):
    _delivery(tenant, "https://shop.example/hooks")
    _delivery(other_tenant, "https://other.example/secret-hook")
    html = user_client(role).get("/settings/webhooks/").content.decode()
    assert "https://shop.example/hooks" in html and "502" in html
    assert "other.example" not in html


def test_failed_deliveries_show_on_the_staff_home(user_client, tenant):
    _delivery(tenant, "https://shop.example/hooks")
    html = user_client(Role.BACK_OFFICE).get("/").content.decode()
    assert re.search(
        r'tile-danger"[^>]*><span class="tile-value">1</span>'
        r'<span class="tile-title">Failed webhook deliveries</span>',
        html,
    )


def test_admin_deletes_a_subscription(user_client, tenant):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)
    client = user_client(Role.ADMIN)
    response = client.post("/settings/webhooks/", {"delete": subscription.id}, follow=True)
    assert "The subscription was deleted." in response.content.decode()
    assert not WebhookSubscription.objects.for_tenant(tenant).exists()


def test_admin_cannot_delete_another_tenants_subscription(user_client, other_tenant):
    theirs = factories.WebhookSubscriptionFactory(tenant=other_tenant)
    response = user_client(Role.ADMIN).post("/settings/webhooks/", {"delete": theirs.id}, follow=True)
    assert "No such subscription." in response.content.decode()
    assert WebhookSubscription.objects.for_tenant(other_tenant).filter(id=theirs.id).exists()


def test_back_office_cannot_delete_subscriptions(user_client, tenant):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)
    client = user_client(Role.BACK_OFFICE)
    assert 'name="delete"' not in client.get("/settings/webhooks/").content.decode()
    assert client.post("/settings/webhooks/", {"delete": subscription.id}).status_code == 403
    assert WebhookSubscription.objects.for_tenant(tenant).exists()


# --- error pages ---------------------------------------------------------------------------------------


def test_not_found_page_uses_the_layout(user_client):
    response = user_client(Role.VIEWER).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="topbar"' in html and 'class="mainnav"' in html


@pytest.mark.django_db
def test_not_found_page_renders_for_anonymous_visitors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_forbidden_page_uses_the_layout(user_client):
    response = user_client(Role.VIEWER).get("/audit/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Access denied" in html and 'class="topbar"' in html and "Sign out" in html


def test_server_error_page_uses_the_layout(rf, tenant):
    from django.contrib.auth.models import AnonymousUser

    from oms.views import server_error

    request = rf.get("/")
    request.user = AnonymousUser()
    response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
