"""The password policy (AUTH_PASSWORD_VALIDATORS): at least 12 characters, not a common password, not all digits,
not close to the e-mail or the name; enforced on every path that sets a password: the create_user command (typed
or prompted), the admin's new member form, the admin's user creation and password forms, and one's own password
change in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from oms.actors import Actor
from oms.errors import ValidationFailed
from oms.management.commands import create_user as create_user_command
from oms.models import Membership, Role
from oms.services import create_user, set_membership
from tests import factories

pytestmark = pytest.mark.django_db

User = get_user_model()
GOOD = "tall-ladder-over-the-river"
# Each breaks one rule, for the user ada.lovelace@acme.test named "Augusta Ada King".
BAD = {
    "too short": "k7#pLq2!wZ",
    "common": "password1234",
    "all digits": "480151623429",
    "like the e-mail": "ada.lovelace@acme",
    "like the name": "augustaadaking",
}


@pytest.mark.parametrize("password", BAD.values(), ids=BAD.keys())
def test_create_user_refuses_a_password_that_breaks_a_rule(password):
    with pytest.raises(ValidationFailed) as refused:
        create_user(email="ada.lovelace@acme.test", password=password, full_name="Augusta Ada King")

    assert list(refused.value.extra["errors"]) == ["password"]
    assert not User.objects.exists()


def test_create_user_takes_a_password_that_keeps_every_rule_and_lets_an_existing_user_keep_theirs():
    user, created = create_user(email="ada.lovelace@acme.test", password=GOOD, full_name="Augusta Ada King")
    assert created and user.check_password(GOOD)

    again, created = create_user(email="ada.lovelace@acme.test", password="short")

    assert again == user and not created and again.check_password(GOOD)


def test_the_create_user_command_refuses_a_weak_password_and_creates_nobody(tenant):
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command(
            "create_user", "--tenant", "acme", "--email", "ann@acme.test", "--role", "admin", "--password", "short-pw"
        )

    assert not User.objects.exists() and not Membership.objects.for_tenant(tenant).exists()


def test_the_create_user_command_checks_a_prompted_password_too(tenant, monkeypatch):
    monkeypatch.setattr(create_user_command.Command, "stdin_isatty", staticmethod(lambda: True))
    monkeypatch.setattr(create_user_command.getpass, "getpass", lambda prompt: "123456789012")

    with pytest.raises(CommandError, match="entirely numeric"):
        call_command("create_user", "--tenant", "acme", "--email", "ann@acme.test", "--role", "admin")

    assert not User.objects.exists()


@pytest.fixture
def admin_client(client, tenant):
    user = factories.UserFactory(email="boss@acme.test")
    set_membership(tenant=tenant, user=user, role=Role.ADMIN, actor=Actor.system("tests"))
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def operator_client(client):
    client.force_login(User.objects.create_superuser(email="ops@example.com", password=GOOD))
    return client


def test_the_operators_new_member_form_refuses_a_weak_password(client, tenant):
    # Members join by invitation; only an operator working in the tenant still adds one directly.
    operator = factories.UserFactory(email="ops@acme.test", is_superuser=True, is_staff=True)
    set_membership(tenant=tenant, user=operator, role=Role.ADMIN, actor=Actor.system("tests"))
    client.force_login(operator)
    response = client.post(
        "/admin/oms/membership/add/", {"email": "new@acme.test", "password": "short-pw", "role": Role.VIEWER}
    )

    assert response.status_code == 200
    assert "at least 12 characters" in str(response.context["adminform"].form.errors["password"])
    assert not User.objects.filter(email="new@acme.test").exists()


def test_the_admins_user_creation_form_refuses_a_weak_password(operator_client):
    weak = {"email": "new@acme.test", "password1": "password1234", "password2": "password1234"}
    good = {"email": "new@acme.test", "password1": GOOD, "password2": GOOD}

    refused = operator_client.post("/admin/oms/user/add/", weak)
    created = operator_client.post("/admin/oms/user/add/", good)

    assert refused.status_code == 200 and "too common" in str(refused.context["adminform"].form.errors)
    assert created.status_code == 302 and User.objects.get(email="new@acme.test").check_password(GOOD)


def test_the_admins_set_password_form_refuses_a_weak_password(operator_client):
    user = factories.UserFactory(email="ada.lovelace@acme.test")

    response = operator_client.post(
        f"/admin/oms/user/{user.id}/password/",
        {"password1": "ada.lovelace@acme", "password2": "ada.lovelace@acme", "usable_password": "true"},
    )

    assert response.status_code == 200 and "too similar" in str(response.context["form"].errors)
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery")


def test_changing_ones_own_password_in_the_admin_keeps_the_rules(admin_client):
    weak = {"old_password": "correct-horse-battery", "new_password1": "k7#pLq2!wZ", "new_password2": "k7#pLq2!wZ"}
    good = {"old_password": "correct-horse-battery", "new_password1": GOOD, "new_password2": GOOD}

    refused = admin_client.post("/admin/password_change/", weak)
    admin_client.user.refresh_from_db()
    assert refused.status_code == 200 and "at least 12 characters" in str(refused.context["form"].errors)
    assert admin_client.user.check_password("correct-horse-battery")

    changed = admin_client.post("/admin/password_change/", good)
    admin_client.user.refresh_from_db()
    assert changed.status_code == 302 and admin_client.user.check_password(GOOD)
