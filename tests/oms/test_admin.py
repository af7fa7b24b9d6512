"""The Django admin, restricted to the signed-in user's tenant."""

import pytest

from oms.actors import Actor
from oms.models import ApiKey, AuditEntry, Membership, Role, User, WebhookSubscription
from oms.services import create_api_key, set_membership
from tests import factories
from tests.oms.test_invitations import long_email
from tests.signin import sign_in

PASSWORD = "correct-horse-battery"
SYSTEM = Actor.system("tests")


def member(tenant, role, **user_fields):
    user = factories.UserFactory(**user_fields)
    set_membership(tenant=tenant, user=user, role=role, actor=SYSTEM)
    return user


@pytest.fixture
def signed_in(client, tenant):
    def sign_in(role):
        user = member(tenant, role)
        client.force_login(user)
        client.user = user
        return client

    return sign_in


@pytest.fixture
def operator(client, tenant):
    """An operator of the installation (superuser) working in `tenant`: the one who still adds members directly."""
    user = member(tenant, Role.ADMIN, is_superuser=True, is_staff=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def theirs(other_tenant):
    """Rows of another tenant that must never show."""
    user = member(other_tenant, Role.ADMIN, email="secret-admin@globex.test")
    return {
        "membership": Membership.objects.for_tenant(other_tenant).get(user=user),
        "key": create_api_key(tenant=other_tenant, label="globex-erp", actor=SYSTEM).api_key,
        "subscription": factories.WebhookSubscriptionFactory(tenant=other_tenant, url="https://globex.test/hook"),
        "audit": factories.AuditEntryFactory(tenant=other_tenant, object_repr="globex-secret-object"),
        "location": factories.LocationFactory(tenant=other_tenant, code="GLOBEX-WH"),
        "channel": factories.ChannelFactory(tenant=other_tenant, code="GLOBEX-WEB"),
    }


# --- who may enter -------------------------------------------------------------------------------------


def test_tenant_admin_who_is_not_staff_reaches_the_admin_index(signed_in):
    client = signed_in(Role.ADMIN)
    assert not client.user.is_staff and not client.user.is_superuser
    response = client.get("/admin/")
    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert {"Membership", "ApiKey", "AuditEntry", "WebhookSubscription", "WebhookDelivery"} <= models
    assert not {"Tenant", "User"} & models
    assert '<span id="admin-tenant">· Acme</span>' in response.content.decode()


def test_back_office_reaches_the_admin_but_not_the_audit_trail(signed_in):
    client = signed_in(Role.BACK_OFFICE)
    response = client.get("/admin/")
    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert "Membership" in models and "AuditEntry" not in models
    assert client.get("/admin/oms/auditentry/").status_code == 403


@pytest.mark.parametrize("role", [Role.STORE_CLERK, Role.MANAGER, Role.VIEWER])
def test_other_roles_cannot_reach_the_admin(signed_in, theirs, role):
    client = signed_in(role)
    for url in ("/admin/", "/admin/oms/membership/", f"/admin/oms/membership/{theirs['membership'].id}/change/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), url
    page = client.get("/admin/oms/membership/", follow=True)
    html = page.content.decode()
    assert "not authorized" in html
    assert "secret-admin@globex.test" not in html


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get("/admin/oms/membership/")
    assert response.status_code == 302
    assert response.url == "/admin/login/?next=/admin/oms/membership/"


def test_admin_login_page_accepts_a_tenant_admin(client, tenant):
    member(tenant, Role.ADMIN, email="boss@acme.test")
    assert client.get("/admin/login/").status_code == 200
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss@acme.test", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("role", [Role.STORE_CLERK, Role.VIEWER])
def test_admin_login_page_refuses_roles_without_access(client, tenant, role):
    member(tenant, role, email="clerk@acme.test")
    response = client.post("/admin/login/", {"username": "clerk@acme.test", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    assert "administrator or back-office account" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_admin_login_works_in_the_tenant_where_the_user_is_staff(client, tenant, other_tenant):
    # "Acme" sorts first, so the viewer membership would be the default tenant.
    user = member(tenant, Role.VIEWER, email="two-hats@example.com")
    set_membership(tenant=other_tenant, user=user, role=Role.ADMIN, actor=SYSTEM)
    client.post("/admin/login/", {"username": "two-hats@example.com", "password": PASSWORD, "next": "/admin/"})
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.wsgi_request.tenant == other_tenant


def test_superuser_sees_every_tenant(client, tenant, other_tenant, theirs):
    member(tenant, Role.VIEWER, email="acme-viewer@acme.test")
    operator = User.objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(operator)
    html = client.get("/admin/oms/membership/").content.decode()
    assert "acme-viewer@acme.test" in html and "secret-admin@globex.test" in html
    assert client.get("/admin/oms/tenant/").status_code == 200
    assert client.get("/admin/oms/user/").status_code == 200
    assert client.get(f"/admin/oms/apikey/{theirs['key'].id}/change/").status_code == 200


def test_tenants_and_users_are_for_superusers_only(signed_in):
    client = signed_in(Role.ADMIN)
    assert client.get("/admin/oms/tenant/").status_code == 403
    assert client.get("/admin/oms/user/").status_code == 403


# --- tenant scoping ------------------------------------------------------------------------------------


def test_lists_show_this_tenants_rows_only(signed_in, tenant, theirs):
    client = signed_in(Role.ADMIN)
    create_api_key(tenant=tenant, label="acme-erp", actor=SYSTEM)
    factories.AuditEntryFactory(tenant=tenant, object_repr="acme-object")
    pages = {
        "/admin/oms/membership/": (client.user.email, "secret-admin@globex.test"),
        "/admin/oms/apikey/": ("acme-erp", "globex-erp"),
        "/admin/oms/auditentry/": ("acme-object", "globex-secret-object"),
        "/admin/oms/webhooksubscription/": (None, "globex.test/hook"),
    }
    for url, (mine, foreign) in pages.items():
        html = client.get(url).content.decode()
        if mine:
            assert mine in html, url
        assert foreign not in html, url


def test_search_does_not_reach_other_tenants(signed_in, theirs):
    client = signed_in(Role.ADMIN)
    response = client.get("/admin/oms/membership/", {"q": "secret-admin"})
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize(
    "model, key",
    [("membership", "membership"), ("apikey", "key"), ("webhooksubscription", "subscription"), ("auditentry", "audit")],
)
def test_another_tenants_object_cannot_be_opened_by_url(signed_in, theirs, model, key):
    client = signed_in(Role.ADMIN)
    obj = theirs[key]
    for action in ("change", "delete", "history"):
        response = client.get(f"/admin/oms/{model}/{obj.id}/{action}/")
        assert response.status_code in (302, 403, 404), (model, action)
        if response.status_code == 302:
            assert response.url == "/admin/", (model, action)
    response = client.post(f"/admin/oms/{model}/{obj.id}/delete/", {"post": "yes"})
    assert response.status_code in (302, 403, 404)
    assert type(obj).all_tenants.filter(id=obj.id).exists()


def test_another_tenants_object_is_never_shown_on_the_redirect(signed_in, theirs):
    client = signed_in(Role.ADMIN)
    html = client.get(f"/admin/oms/membership/{theirs['membership'].id}/change/", follow=True).content.decode()
    assert "secret-admin@globex.test" not in html
    assert "doesn’t exist" in html or "doesn't exist" in html


def test_relation_filters_list_this_tenants_rows_only(signed_in, tenant, theirs):
    web = factories.ChannelFactory(tenant=tenant, code="ACME-WEB")
    create_api_key(tenant=tenant, label="shop", channel=web, actor=SYSTEM)
    html = signed_in(Role.ADMIN).get("/admin/oms/apikey/").content.decode()
    assert "channel__id__exact=" in html and ">ACME-WEB<" in html
    assert "GLOBEX-WEB" not in html


# --- memberships: adding (operators only; tenant admins invite), changing, choices -----------------------


def test_a_tenant_admin_adds_nobody_directly(signed_in, tenant):
    client = signed_in(Role.ADMIN)
    assert client.get("/admin/oms/membership/add/").status_code == 403
    response = client.post(
        "/admin/oms/membership/add/",
        {"email": "someone@example.com", "password": "a-long-enough-pass-2026", "role": Role.ADMIN},
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="someone@example.com").exists()


def test_new_membership_gets_the_operators_tenant_and_is_audited(operator, tenant, other_tenant):
    client = operator
    store = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    response = client.post(
        "/admin/oms/membership/add/",
        {
            "email": "New.Clerk@Acme.test",
            "full_name": "New Clerk",
            "password": "a-long-enough-pass-2026",
            "role": Role.STORE_CLERK,
            "locations": [store.id],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = Membership.objects.for_tenant(tenant).get(user__email="new.clerk@acme.test")
    assert membership.role == Role.STORE_CLERK
    assert list(membership.locations.all()) == [store]
    assert not Membership.objects.for_tenant(other_tenant).filter(user__email="new.clerk@acme.test").exists()
    client.logout()
    assert sign_in(client, "new.clerk@acme.test", "a-long-enough-pass-2026")
    assert (
        AuditEntry.objects.for_tenant(tenant)
        .filter(action="membership.created", object_repr="new.clerk@acme.test")
        .exists()
    )


def test_a_store_clerks_stores_can_be_cleared_in_the_admin(signed_in, tenant):
    store = factories.LocationFactory(tenant=tenant, code="PAR02", kind="store")
    clerk = member(tenant, Role.STORE_CLERK, email="clerk.par02@acme.test")
    membership = Membership.objects.for_tenant(tenant).get(user=clerk)
    set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[store], actor=SYSTEM)

    response = signed_in(Role.ADMIN).post(f"/admin/oms/membership/{membership.pk}/change/", {"role": Role.STORE_CLERK})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(membership.locations.all()) == []
    entry = AuditEntry.objects.for_tenant(tenant).filter(action="membership.changed").latest("id")
    assert entry.changes["before"]["locations"] == ["PAR02"] and entry.changes["after"]["locations"] == []


def test_set_membership_without_locations_keeps_a_clerks_stores(tenant):
    store = factories.LocationFactory(tenant=tenant, code="PAR03", kind="store")
    clerk = member(tenant, Role.STORE_CLERK, email="clerk.par03@acme.test")
    set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[store], actor=SYSTEM)

    membership, _ = set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, actor=SYSTEM)

    assert list(membership.locations.all()) == [store]


def test_adding_an_existing_account_keeps_its_password(operator, tenant, other_tenant):
    existing = member(other_tenant, Role.VIEWER, email="shared@example.com")
    client = operator
    response = client.post(
        "/admin/oms/membership/add/",
        {"email": "shared@example.com", "password": "hijack-attempt-9", "role": Role.VIEWER},
    )
    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert Membership.objects.for_tenant(tenant).filter(user=existing, role=Role.VIEWER).exists()


def test_adding_a_member_twice_or_without_password_is_a_form_error(operator, tenant):
    client = operator
    again = client.post("/admin/oms/membership/add/", {"email": client.user.email, "role": Role.VIEWER})
    assert again.status_code == 200
    assert "already a member" in str(again.context["adminform"].form.errors["email"])
    no_password = client.post("/admin/oms/membership/add/", {"email": "fresh@acme.test", "role": Role.VIEWER})
    assert "password" in no_password.context["adminform"].form.errors
    assert not User.objects.filter(email="fresh@acme.test").exists()


def test_choices_offer_this_tenants_rows_only(signed_in, tenant, theirs):
    mine = factories.LocationFactory(tenant=tenant, code="ACME-PAR")
    client = signed_in(Role.ADMIN)
    target = Membership.objects.for_tenant(tenant).get(user=client.user)
    change_form = client.get(f"/admin/oms/membership/{target.id}/change/").context["adminform"].form
    assert list(change_form.fields["locations"].queryset) == [mine]


def test_the_operators_add_form_offers_the_tenants_locations_only(operator, tenant, theirs):
    mine = factories.LocationFactory(tenant=tenant, code="ACME-PAR")
    form = operator.get("/admin/oms/membership/add/").context["adminform"].form
    assert list(form.fields["locations"].queryset) == [mine]


@pytest.mark.parametrize("length", [201, 254])
def test_an_email_longer_than_the_audit_column_is_added_not_a_500(operator, tenant, length):
    """Accounts take 254 characters, the audit trail's object column 200: the entry names the start of the e-mail."""
    email = long_email(length)
    response = operator.post(
        "/admin/oms/membership/add/", {"email": email, "password": "a-long-enough-pass-2026", "role": Role.VIEWER}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Membership.objects.for_tenant(tenant).filter(user__email=email).exists()
    assert AuditEntry.objects.for_tenant(tenant).filter(action="membership.created", object_repr=email[:200]).exists()


def test_another_tenants_location_is_refused_on_post(operator, tenant, theirs):
    client = operator
    response = client.post(
        "/admin/oms/membership/add/",
        {
            "email": "clerk2@acme.test",
            "password": "a-long-enough-pass-2026",
            "role": Role.STORE_CLERK,
            "locations": [theirs["location"].id],
        },
    )
    assert response.status_code == 200
    assert "locations" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="clerk2@acme.test").exists()


def test_admin_changes_a_role_through_the_audited_service(signed_in, tenant):
    colleague = member(tenant, Role.VIEWER, email="colleague@acme.test")
    membership = Membership.objects.for_tenant(tenant).get(user=colleague)
    client = signed_in(Role.ADMIN)
    response = client.post(f"/admin/oms/membership/{membership.id}/change/", {"role": Role.MANAGER})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    entry = AuditEntry.objects.for_tenant(tenant).get(action="membership.changed")
    assert entry.actor_label == client.user.email
    assert entry.changes["after"]["role"] == Role.MANAGER


def test_admin_removes_a_member_but_not_themselves(signed_in, tenant):
    client = signed_in(Role.ADMIN)
    colleague = member(tenant, Role.VIEWER)
    theirs = Membership.objects.for_tenant(tenant).get(user=colleague)
    own = Membership.objects.for_tenant(tenant).get(user=client.user)
    assert client.post(f"/admin/oms/membership/{theirs.id}/delete/", {"post": "yes"}).status_code == 302
    assert not Membership.objects.for_tenant(tenant).filter(id=theirs.id).exists()
    assert AuditEntry.objects.for_tenant(tenant).filter(action="membership.deleted").exists()
    assert client.post(f"/admin/oms/membership/{own.id}/delete/", {"post": "yes"}).status_code == 403
    assert Membership.objects.for_tenant(tenant).filter(id=own.id).exists()


# --- back office: sees, never deletes ------------------------------------------------------------------


def test_back_office_sees_but_cannot_delete_or_manage_people(signed_in, tenant):
    colleague = member(tenant, Role.VIEWER)
    membership = Membership.objects.for_tenant(tenant).get(user=colleague)
    key = create_api_key(tenant=tenant, label="erp", actor=SYSTEM).api_key
    client = signed_in(Role.BACK_OFFICE)
    listing = client.get("/admin/oms/membership/")
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert client.get(f"/admin/oms/membership/{membership.id}/change/").status_code == 200
    assert client.post(f"/admin/oms/membership/{membership.id}/change/", {"role": Role.ADMIN}).status_code == 403
    assert client.post(f"/admin/oms/membership/{membership.id}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/oms/membership/add/").status_code == 403
    assert client.post(f"/admin/oms/apikey/{key.id}/delete/", {"post": "yes"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


# --- records are read-only -----------------------------------------------------------------------------


def test_api_keys_are_read_only_and_revoked_by_an_action(signed_in, tenant):
    key = create_api_key(tenant=tenant, label="erp", actor=SYSTEM).api_key
    client = signed_in(Role.ADMIN)
    page = client.get(f"/admin/oms/apikey/{key.id}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/oms/apikey/{key.id}/change/", {"label": "renamed"}).status_code == 403
    assert client.get("/admin/oms/apikey/add/").status_code == 403
    response = client.post("/admin/oms/apikey/", {"action": "revoke_keys", "_selected_action": [key.id]})
    assert response.status_code == 302
    key = ApiKey.objects.for_tenant(tenant).get(id=key.id)
    assert key.label == "erp" and key.revoked_at is not None
    assert AuditEntry.objects.for_tenant(tenant).filter(action="api_key.revoked", object_id=str(key.id)).exists()


def test_revoke_action_ignores_another_tenants_keys(signed_in, theirs):
    client = signed_in(Role.ADMIN)
    client.post("/admin/oms/apikey/", {"action": "revoke_keys", "_selected_action": [theirs["key"].id]})
    assert ApiKey.all_tenants.get(id=theirs["key"].id).revoked_at is None


def test_audit_entries_are_read_only(signed_in, tenant):
    entry = factories.AuditEntryFactory(tenant=tenant, object_repr="thing")
    client = signed_in(Role.ADMIN)
    assert client.get(f"/admin/oms/auditentry/{entry.id}/change/").status_code == 200
    assert client.post(f"/admin/oms/auditentry/{entry.id}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/oms/auditentry/{entry.id}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/oms/auditentry/add/").status_code == 403


def test_admin_pauses_and_deletes_a_webhook_subscription_with_an_audit_trail(signed_in, tenant):
    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)
    client = signed_in(Role.ADMIN)
    response = client.post(
        f"/admin/oms/webhooksubscription/{subscription.id}/change/", {"description": "paused during migration"}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.active is False and subscription.description == "paused during migration"
    assert AuditEntry.objects.for_tenant(tenant).filter(action="webhook.changed").exists()
    assert client.get("/admin/oms/webhooksubscription/add/").status_code == 403
    client.post(f"/admin/oms/webhooksubscription/{subscription.id}/delete/", {"post": "yes"})
    assert not WebhookSubscription.objects.for_tenant(tenant).exists()
    assert AuditEntry.objects.for_tenant(tenant).filter(action="webhook.deleted").exists()


def test_webhook_delivery_shows_its_attempts(signed_in, tenant):
    from oms.models import OutboxEvent, WebhookAttempt, WebhookDelivery

    subscription = factories.WebhookSubscriptionFactory(tenant=tenant)
    event = OutboxEvent.objects.create(tenant=tenant, topic="order.placed", payload={})
    delivery = WebhookDelivery.objects.create(tenant=tenant, subscription=subscription, event=event, attempts=1)
    WebhookAttempt.objects.create(tenant=tenant, delivery=delivery, number=1, status_code=503, error="Service down")
    html = signed_in(Role.BACK_OFFICE).get(f"/admin/oms/webhookdelivery/{delivery.id}/change/").content.decode()
    assert "Service down" in html and "503" in html


def test_a_customer_added_in_the_admin_needs_an_email_not_taken_in_this_tenant(signed_in, tenant, other_tenant):
    from orders.models import Customer

    factories.CustomerFactory(tenant=tenant, email="jane@example.com")
    factories.CustomerFactory(tenant=other_tenant, email="joe@example.com")
    client = signed_in(Role.ADMIN)
    url = "/admin/orders/customer/add/"

    blank = [client.post(url, {"email": "", "name": f"Nobody {n}"}) for n in range(2)]
    taken = client.post(url, {"email": "jane@example.com", "name": "Jane again"})
    free_here = client.post(url, {"email": "joe@example.com", "name": "Joe here"})

    assert [answer.status_code for answer in blank] == [200, 200]  # the form again, with its error
    assert "email" in blank[0].context["adminform"].form.errors
    assert taken.status_code == 200 and taken.context["adminform"].form.errors
    assert free_here.status_code == 302  # another tenant's customer takes nothing from this one
    assert sorted(Customer.objects.for_tenant(tenant).values_list("email", flat=True)) == [
        "jane@example.com",
        "joe@example.com",
    ]


@pytest.mark.parametrize("length", [255, 320])
def test_an_email_longer_than_an_account_can_hold_is_a_form_error_not_a_500(operator, tenant, length):
    client = operator
    email = "a" * (length - len("@acme.test") - 1) + "x@acme.test"
    assert len(email) == length

    response = client.post(
        "/admin/oms/membership/add/",
        {"email": email, "full_name": "Long", "password": "a-long-enough-pass-2026", "role": Role.VIEWER},
    )

    assert response.status_code == 200 and "email" in response.context["adminform"].form.errors
    assert not Membership.objects.for_tenant(tenant).filter(user__email=email).exists()
