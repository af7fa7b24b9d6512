"""Invitations: an administrator invites by e-mail, the person accepts; nobody joins a tenant without consent."""

import re
import smtplib
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client
from django.utils import timezone

from oms import invitations
from oms.actors import Actor
from oms.models import AuditEntry, Invitation, Membership, Role, User
from oms.services import hash_secret, set_membership
from tests import factories
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
NEW_PASSWORD = "a-long-enough-pass-2026"
SYSTEM = Actor.system("tests")
LINK = re.compile(r"http://[^\s\"<]+/invitations/([A-Za-z0-9_-]+)/")


def member(tenant, role, **fields):
    user = factories.UserFactory(**fields)
    set_membership(tenant=tenant, user=user, role=role, actor=SYSTEM)
    return user


def signed_in(user) -> Client:
    client = Client()
    assert sign_in(client, user.email, PASSWORD)
    client.user = user
    return client


@pytest.fixture
def admin(tenant):
    return signed_in(member(tenant, Role.ADMIN, email="boss@acme.test", full_name="Ada Boss"))


@pytest.fixture
def store(tenant):
    return factories.LocationFactory(tenant=tenant, code="PAR01", name="Paris Opéra", kind="store")


def send(client, email, role=Role.VIEWER, stores=()):
    return client.post("/settings/invitations/", {"email": email, "role": role, "stores": [s.id for s in stores]})


def token_in(message) -> str:
    return LINK.search(message.body).group(1)


def issue(tenant, email, role=Role.VIEWER, stores=()) -> str:
    return invitations.invite(tenant=tenant, email=email, role=role, stores=list(stores), actor=SYSTEM).token


# --- inviting ----------------------------------------------------------------------------------------------


def test_inviting_mails_a_text_and_html_link_to_the_accept_page(admin, tenant, store, mailoutbox):
    response = send(admin, "Clerk@Example.com", Role.STORE_CLERK, [store])

    assert response.status_code == 302 and response["Location"] == "/settings/invitations/"
    [message] = mailoutbox
    assert message.to == ["clerk@example.com"]
    assert "Acme" in message.subject
    assert "Ada Boss" in message.body
    token = token_in(message)
    assert message.body.count(f"{settings.OMS_PUBLIC_URL}/invitations/{token}/") == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{settings.OMS_PUBLIC_URL}/invitations/{token}/"' in html
    invitation = Invitation.objects.for_tenant(tenant).get(email="clerk@example.com")
    assert invitation.role == Role.STORE_CLERK and list(invitation.locations.all()) == [store]
    assert invitation.invited_by == admin.user
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    page = Client().get(f"/invitations/{token}/")
    assert page.status_code == 200 and page.context["state"] == "create"


def test_the_invitation_is_valid_for_the_configured_days(admin, tenant, settings, mailoutbox):
    settings.OMS_INVITATION_DAYS = 2
    send(admin, "soon@example.com")
    invitation = Invitation.objects.for_tenant(tenant).get(email="soon@example.com")
    assert invitation.expires_at - invitation.created_at == timedelta(days=2)


def test_the_email_speaks_the_inviters_language(admin, mailoutbox):
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    send(admin, "french@example.com")
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    send(admin, "english@example.com")

    french, english = (message.alternatives[0][0] for message in mailoutbox)
    assert '<html lang="fr">' in french
    assert '<html lang="en">' in english


def test_stores_are_kept_for_store_clerks_only_and_must_be_the_tenants(admin, tenant, other_tenant, store, mailoutbox):
    send(admin, "viewer@example.com", Role.VIEWER, [store])
    assert list(Invitation.objects.for_tenant(tenant).get(email="viewer@example.com").locations.all()) == []

    theirs = factories.LocationFactory(tenant=other_tenant, code="GLOBEX-PAR", kind="store")
    response = send(admin, "clerk@example.com", Role.STORE_CLERK, [theirs])
    assert response.status_code == 200 and "stores" in response.context["form"].errors
    assert not Invitation.objects.for_tenant(tenant).filter(email="clerk@example.com").exists()
    assert [m.to for m in mailoutbox] == [["viewer@example.com"]]


def test_the_answer_is_the_same_for_an_address_with_an_account_and_one_without(admin, other_tenant, mailoutbox):
    member(other_tenant, Role.ADMIN, email="known@example.com")

    def answer(email):
        response = send(admin, email)
        page = admin.get(response["Location"])
        notice = [str(m) for m in page.context["messages"]]
        return response.status_code, response["Location"], [n.replace(email, "<e-mail>") for n in notice]

    assert answer("known@example.com") == answer("unknown@example.com")
    known, unknown = mailoutbox
    assert known.subject == unknown.subject
    assert LINK.sub("<link>", known.body) == LINK.sub("<link>", unknown.body)


def test_inviting_someone_again_replaces_the_open_invitation(admin, tenant, mailoutbox):
    send(admin, "twice@example.com", Role.VIEWER)
    send(admin, "twice@example.com", Role.MANAGER)

    first, second = (token_in(message) for message in mailoutbox)
    open_ones = Invitation.objects.for_tenant(tenant).filter(email="twice@example.com", revoked_at__isnull=True)
    assert [i.role for i in open_ones] == [Role.MANAGER]
    assert Client().get(f"/invitations/{first}/").status_code == 410
    assert Client().get(f"/invitations/{second}/").status_code == 200


def test_inviting_a_member_is_a_clear_form_error(admin, tenant, mailoutbox):
    member(tenant, Role.VIEWER, email="already@example.com")
    response = send(admin, "ALREADY@example.com")
    assert response.status_code == 200
    assert "already a member" in str(response.context["form"].errors["email"])
    assert mailoutbox == []
    assert not Invitation.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize("length", [255, 320])
def test_an_address_longer_than_254_characters_is_a_form_error(admin, tenant, mailoutbox, length):
    email = long_email(length)
    response = send(admin, email)
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not Invitation.objects.for_tenant(tenant).exists() and mailoutbox == []


def test_an_address_of_254_characters_is_invited(admin, tenant, mailoutbox):
    email = long_email(254)
    assert send(admin, email).status_code == 302
    assert Invitation.objects.for_tenant(tenant).filter(email=email).exists()


def long_email(length: int) -> str:
    """A well-formed address of exactly `length` characters (labels of at most 63)."""
    local = "a" * 64
    remaining = length - len(local) - 1 - len(".test")
    labels = []
    while remaining > 0:
        size = min(63, remaining)
        if remaining - size == 1:  # never leave a lone dot with no label after it
            size -= 1
        labels.append("b" * size)
        remaining -= size + 1
    email = f"{local}@{'.'.join(labels)}.test"
    assert len(email) == length
    return email


def test_a_mail_server_that_refuses_leaves_the_invitation_to_be_sent_again(admin, tenant, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    response = send(admin, "later@example.com")
    page = admin.get(response["Location"])
    assert "could not be sent" in " ".join(str(m) for m in page.context["messages"])
    assert Invitation.objects.for_tenant(tenant).filter(email="later@example.com").exists()


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


# --- accepting -----------------------------------------------------------------------------------------


def test_a_signed_in_user_with_the_invited_address_accepts_with_the_role_and_stores(admin, tenant, store, mailoutbox):
    person = member(factories.TenantFactory(slug="initech"), Role.ADMIN, email="clerk@example.com")
    send(admin, "CLERK@example.com", Role.STORE_CLERK, [store])
    link = f"/invitations/{token_in(mailoutbox[0])}/"
    client = signed_in(person)

    shown = client.get(link)
    assert shown.status_code == 200 and shown.context["state"] == "confirm"
    assert not Membership.objects.for_tenant(tenant).filter(user=person).exists()  # opening it accepts nothing

    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == "/"
    membership = Membership.objects.for_tenant(tenant).get(user=person)
    assert membership.role == Role.STORE_CLERK and list(membership.locations.all()) == [store]
    invitation = Invitation.objects.for_tenant(tenant).get(email="clerk@example.com")
    assert invitation.accepted_by == person and invitation.accepted_at is not None
    home = client.get("/")
    assert home.context["current_tenant"] == tenant  # straight into the tenant just joined


def test_a_person_without_an_account_creates_it_on_the_accept_page_and_is_signed_in(admin, tenant, mailoutbox):
    send(admin, "newcomer@example.com", Role.MANAGER)
    link = f"/invitations/{token_in(mailoutbox[0])}/"
    visitor = Client()

    weak = visitor.post(link, {"full_name": "Nina New", "password": "123", "password_again": "123"})
    assert weak.status_code == 200 and "password" in weak.context["form"].errors
    assert not User.objects.filter(email="newcomer@example.com").exists()

    response = visitor.post(link, {"full_name": "Nina New", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(email="newcomer@example.com")
    assert user.full_name == "Nina New" and user.check_password(NEW_PASSWORD)
    assert visitor.session["_auth_user_id"] == str(user.pk)
    assert Membership.objects.for_tenant(tenant).get(user=user).role == Role.MANAGER
    assert visitor.get("/").status_code == 200
    assert sign_in(Client(), "newcomer@example.com", NEW_PASSWORD)


def test_a_visitor_whose_address_has_an_account_signs_in_first(admin, tenant, other_tenant, mailoutbox):
    person = member(other_tenant, Role.VIEWER, email="known@example.com")
    send(admin, "known@example.com")
    link = f"/invitations/{token_in(mailoutbox[0])}/"
    visitor = Client()

    page = visitor.get(link)
    assert page.context["state"] == "sign_in"
    assert f'href="/login/?next={link}"' in page.content.decode()
    hijack = visitor.post(link, {"full_name": "Mallory", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert hijack.context["state"] == "sign_in"
    person.refresh_from_db()
    assert person.check_password(PASSWORD) and not Membership.objects.for_tenant(tenant).filter(user=person).exists()

    assert sign_in(visitor, "known@example.com", PASSWORD)
    assert visitor.post(link).status_code == 302
    assert Membership.objects.for_tenant(tenant).filter(user=person, role=Role.VIEWER).exists()


def test_another_signed_in_account_is_refused(admin, tenant, other_tenant, mailoutbox):
    send(admin, "invited@example.com")
    link = f"/invitations/{token_in(mailoutbox[0])}/"
    someone_else = signed_in(member(other_tenant, Role.ADMIN, email="someone.else@example.com"))

    for response in (someone_else.get(link), someone_else.post(link)):
        assert response.status_code == 403 and response.context["state"] == "wrong_account"
    assert not Membership.objects.for_tenant(tenant).filter(user=someone_else.user).exists()
    assert Invitation.objects.for_tenant(tenant).get().accepted_at is None
    with pytest.raises(invitations.InvitationUnusable) as refused:
        invitations.accept(token=token_in(mailoutbox[0]), user=someone_else.user)
    assert refused.value.reason == "wrong_account"


def _expire(invitation):
    Invitation.objects.for_tenant(invitation.tenant).filter(id=invitation.id).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


def _revoke(invitation):
    invitations.revoke(invitation=invitation, actor=SYSTEM)


def _use(invitation):
    Invitation.objects.for_tenant(invitation.tenant).filter(id=invitation.id).update(accepted_at=timezone.now())


@pytest.mark.parametrize(
    ("spoil", "says"),
    [(_expire, "has expired"), (_revoke, "was withdrawn"), (_use, "already accepted")],
    ids=["expired", "revoked", "used"],
)
def test_an_expired_revoked_or_used_invitation_is_a_clear_page_and_adds_nobody(tenant, other_tenant, spoil, says):
    person = member(other_tenant, Role.VIEWER, email="late@example.com")
    token = issue(tenant, "late@example.com")
    spoil(Invitation.objects.for_tenant(tenant).get())
    visitor, client = Client(), signed_in(person)

    for response in (visitor.get(f"/invitations/{token}/"), client.get(f"/invitations/{token}/")):
        assert response.status_code == 410 and says in response.content.decode()
    accepted = client.post(f"/invitations/{token}/")
    created = visitor.post(
        f"/invitations/{token}/", {"full_name": "X", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert accepted.status_code == created.status_code == 410
    assert not Membership.objects.for_tenant(tenant).exists()


def test_an_unknown_token_is_a_404_page():
    for token in ("no-such-token", "x" * 200):
        assert Client().get(f"/invitations/{token}/").status_code == 404
    with pytest.raises(invitations.NotFound):
        invitations.accept(token="no-such-token", user=factories.UserFactory())


def test_accepting_never_changes_the_role_of_someone_already_a_member(tenant):
    person = factories.UserFactory(email="both@example.com")
    token = issue(tenant, "both@example.com", Role.ADMIN)
    set_membership(tenant=tenant, user=person, role=Role.VIEWER, actor=SYSTEM)  # added meanwhile by an operator

    response = signed_in(person).post(f"/invitations/{token}/")

    assert response.status_code == 409
    assert Membership.objects.for_tenant(tenant).get(user=person).role == Role.VIEWER


def test_the_address_matches_whatever_its_case(tenant):
    person = factories.UserFactory(email="mixed.case@example.com")
    token = issue(tenant, "  Mixed.CASE@Example.com ")
    membership = invitations.accept(token=token, user=person)
    assert membership.user == person and membership.tenant == tenant


# --- managing the invitations ---------------------------------------------------------------------------


def test_the_page_lists_open_invitations_only_with_send_again_and_revoke(admin, tenant, mailoutbox):
    issue(tenant, "open@example.com")
    token = issue(tenant, "taken@example.com")
    invitations.accept(token=token, user=factories.UserFactory(email="taken@example.com"))

    page = admin.get("/settings/invitations/")

    html = page.content.decode()
    assert page.status_code == 200 and "open@example.com" in html and "taken@example.com" not in html
    invitation = Invitation.objects.for_tenant(tenant).get(email="open@example.com")
    assert f'action="/settings/invitations/{invitation.id}/resend/"' in html
    assert f'action="/settings/invitations/{invitation.id}/revoke/"' in html
    assert "<script>" not in html and "onsubmit=" not in html and "onclick=" not in html


def test_revoking_stops_the_link(admin, tenant):
    token = issue(tenant, "revoked@example.com")
    invitation = Invitation.objects.for_tenant(tenant).get()

    assert admin.post(f"/settings/invitations/{invitation.id}/revoke/").status_code == 302

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Client().get(f"/invitations/{token}/").status_code == 410


def test_sending_again_mails_a_new_link_and_the_old_one_stops(admin, tenant, store, mailoutbox):
    old = issue(tenant, "again@example.com", Role.STORE_CLERK, [store])
    invitation = Invitation.objects.for_tenant(tenant).get()
    mailoutbox.clear()

    assert admin.post(f"/settings/invitations/{invitation.id}/resend/").status_code == 302

    [message] = mailoutbox
    new = token_in(message)
    assert new != old
    assert Client().get(f"/invitations/{old}/").status_code == 410
    renewed = Invitation.objects.for_tenant(tenant).get(revoked_at__isnull=True)
    assert renewed.role == Role.STORE_CLERK and list(renewed.locations.all()) == [store]


@pytest.mark.parametrize("role", [Role.BACK_OFFICE, Role.MANAGER, Role.STORE_CLERK, Role.VIEWER])
def test_only_administrators_invite(tenant, role, mailoutbox):
    issue(tenant, "pending@example.com")
    invitation = Invitation.objects.for_tenant(tenant).get()
    mailoutbox.clear()
    client = signed_in(member(tenant, role))

    assert client.get("/settings/invitations/").status_code == 403
    assert send(client, "sneaky@example.com").status_code == 403
    assert client.post(f"/settings/invitations/{invitation.id}/resend/").status_code == 403
    assert client.post(f"/settings/invitations/{invitation.id}/revoke/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.is_open and mailoutbox == []
    assert list(Invitation.objects.for_tenant(tenant).values_list("email", flat=True)) == ["pending@example.com"]


def test_a_visitor_is_sent_to_sign_in(tenant):
    response = Client().get("/settings/invitations/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_another_tenant_neither_sees_nor_revokes_nor_resends_an_invitation(tenant, other_tenant, mailoutbox):
    issue(tenant, "ours@example.com")
    invitation = Invitation.objects.for_tenant(tenant).get()
    mailoutbox.clear()
    theirs = signed_in(member(other_tenant, Role.ADMIN))

    assert "ours@example.com" not in theirs.get("/settings/invitations/").content.decode()
    assert theirs.post(f"/settings/invitations/{invitation.id}/revoke/").status_code == 404
    assert theirs.post(f"/settings/invitations/{invitation.id}/resend/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_open and mailoutbox == []


# --- what is stored and recorded ------------------------------------------------------------------------


def test_the_token_is_stored_hashed_and_never_recorded(admin, tenant, mailoutbox):
    send(admin, "hashed@example.com")
    token = token_in(mailoutbox[0])
    invitation = Invitation.objects.for_tenant(tenant).get()
    invitations.revoke(invitation=invitation, actor=SYSTEM)

    assert invitation.token_hash == hash_secret(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(i)::text FROM oms_invitation i")
        rows = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT row_to_json(a)::text FROM oms_auditentry a")
        audit_rows = [row[0] for row in cursor.fetchall()]
    assert rows and audit_rows
    assert not [row for row in rows + audit_rows if token in row]


def test_invitation_accept_and_revoke_are_audited(admin, tenant, store, mailoutbox):
    send(admin, "audited@example.com", Role.STORE_CLERK, [store])
    send(admin, "withdrawn@example.com")
    withdrawn = Invitation.objects.for_tenant(tenant).get(email="withdrawn@example.com")
    admin.post(f"/settings/invitations/{withdrawn.id}/revoke/")
    person = factories.UserFactory(email="audited@example.com")
    signed_in(person).post(f"/invitations/{token_in(mailoutbox[0])}/")

    entries = {
        e.action: e
        for e in AuditEntry.objects.for_tenant(tenant)
        .filter(action__startswith="membership.")
        .exclude(actor_label="tests")
    }
    invited = AuditEntry.objects.for_tenant(tenant).filter(action="membership.invited").order_by("id").first()
    assert invited.actor_label == "boss@acme.test" and invited.object_repr == "audited@example.com"
    assert invited.changes["role"] == Role.STORE_CLERK and invited.changes["locations"] == ["PAR01"]
    assert entries["membership.invitation_revoked"].actor_label == "boss@acme.test"
    assert entries["membership.invitation_revoked"].object_repr == "withdrawn@example.com"
    accepted = entries["membership.invitation_accepted"]
    assert accepted.actor_label == "audited@example.com" and accepted.user == person
    assert entries["membership.created"].actor_label == "audited@example.com"


# --- the admin's memberships ----------------------------------------------------------------------------


def test_a_tenant_admin_is_sent_from_the_memberships_to_the_invitations(admin):
    listing = admin.get("/admin/oms/membership/")
    html = listing.content.decode()
    assert 'href="/settings/invitations/"' in html
    assert "/admin/oms/membership/add/" not in html
    assert admin.get("/admin/oms/membership/add/").status_code == 403
    assert admin.post("/admin/oms/membership/add/", {"email": "x@example.com", "role": Role.VIEWER}).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_request_log_never_shows_the_token(tenant, caplog):
    token = issue(tenant, "logged@example.com")
    with caplog.at_level("INFO", logger="oms.request"):
        Client().get(f"/invitations/{token}/")
    [line] = [record for record in caplog.records if record.name == "oms.request"]
    assert line.path == "/invitations/<token>/" and line.status == 200
    assert token not in caplog.text
