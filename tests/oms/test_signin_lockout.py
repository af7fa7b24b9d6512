"""Repeated failed sign-ins lock the e-mail from that address (django-axes), on the pages and the admin alike."""

import pytest
from django.core.management import call_command

from oms.actors import Actor
from oms.services import set_membership
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def member(tenant, settings):
    settings.AXES_FAILURE_LIMIT = 5
    user = factories.UserFactory(email="ann@acme.test")
    user.set_password(PASSWORD)
    user.save()
    set_membership(tenant=tenant, user=user, role="admin", locations=[], actor=Actor.system("tests"))
    return user


def sign_in(client, email, password, address="203.0.113.7", **headers):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=address, **headers)


def test_five_failed_sign_ins_lock_the_account_from_that_address_even_with_the_right_password(client, member):
    for _ in range(4):
        assert sign_in(client, "ann@acme.test", "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, "ann@acme.test", "wrong")
    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()

    refused = sign_in(client, "ann@acme.test", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_speaks_french_to_a_french_reader(client, member):
    for _ in range(5):
        sign_in(client, "ann@acme.test", "wrong", HTTP_ACCEPT_LANGUAGE="fr")
    page = sign_in(client, "ann@acme.test", PASSWORD, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 429
    assert "Connexion bloquée" in page.content.decode()


def test_variants_of_the_e_mail_count_as_one(client, member):
    for email in ("ann@acme.test", "ANN@acme.test", " Ann@Acme.Test ", "ann@ACME.test", "Ann@acme.test"):
        sign_in(client, email, "wrong")
    assert sign_in(client, "ann@acme.test", PASSWORD).status_code == 429


def test_another_address_is_not_locked_out_by_someone_elses_failures(client, member):
    for _ in range(5):
        sign_in(client, "ann@acme.test", "wrong", address="198.51.100.9")
    assert sign_in(client, "ann@acme.test", PASSWORD, address="203.0.113.7").status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, member):
    for _ in range(4):
        sign_in(client, "ann@acme.test", "wrong")
    assert sign_in(client, "ann@acme.test", PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        sign_in(client, "ann@acme.test", "wrong")
    assert sign_in(client, "ann@acme.test", PASSWORD).status_code == 302


def test_an_administrator_unlocks_the_account_at_once(client, member):
    for _ in range(5):
        sign_in(client, "ann@acme.test", "wrong")
    assert sign_in(client, "ann@acme.test", PASSWORD).status_code == 429
    call_command("axes_reset_username", "ann@acme.test")
    assert sign_in(client, "ann@acme.test", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_locked_out_too(client, member):
    for _ in range(5):
        client.post("/admin/login/", {"username": "ann@acme.test", "password": "wrong"}, REMOTE_ADDR="203.0.113.7")
    response = client.post(
        "/admin/login/", {"username": "ann@acme.test", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(client, member, settings):
    settings.OMS_BEHIND_PROXY = True
    for spoofed in range(5):
        # The client's own X-Forwarded-For entries change each time; the proxy's appended entry does not.
        sign_in(client, "ann@acme.test", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{spoofed}, 203.0.113.7")
    locked = sign_in(client, "ann@acme.test", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    assert locked.status_code == 429
