"""A changed or removed role ends every session of that user at once: they sign in again under the new role."""

import pytest
from django.test import Client

from oms.actors import Actor
from oms.models import Membership, Role
from oms.services import remove_membership, set_membership
from tests import factories
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-pass-2026"


def person(tenant, email, role):
    user = factories.UserFactory(email=email)
    user.set_password(PASSWORD)
    user.save()
    set_membership(tenant=tenant, user=user, role=role, locations=[], actor=Actor.system("tests"))
    return user


def signed_in(email):
    client = Client()
    assert sign_in(client, email, PASSWORD)
    assert client.get("/").status_code == 200
    return client


def ended(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_changed_role_ends_every_session_of_that_user_and_no_one_elses(tenant):
    ann = person(tenant, "ann@acme.test", Role.ADMIN)
    bob = person(tenant, "bob@acme.test", Role.ADMIN)
    tablet, laptop, bobs = signed_in("ann@acme.test"), signed_in("ann@acme.test"), signed_in("bob@acme.test")

    set_membership(tenant=tenant, user=ann, role=Role.VIEWER, locations=[], actor=Actor.system("tests"))

    assert ended(tablet) and ended(laptop)
    assert not ended(bobs)
    assert sign_in(tablet, "ann@acme.test", PASSWORD)  # signing in again works, as a viewer now
    assert not ended(tablet)
    assert bob.pk


def test_the_api_refuses_the_ended_session_too(tenant):
    ann = person(tenant, "ann@acme.test", Role.ADMIN)
    client = signed_in("ann@acme.test")
    assert client.get("/api/v1/orders/").status_code == 200

    set_membership(tenant=tenant, user=ann, role=Role.VIEWER, locations=[], actor=Actor.system("tests"))

    assert client.get("/api/v1/orders/").status_code in (401, 403)


def test_changed_stores_of_a_clerk_end_their_sessions(tenant):
    paris = factories.LocationFactory(tenant=tenant, code="PAR01", kind="store")
    lyon = factories.LocationFactory(tenant=tenant, code="LYO01", kind="store")
    clerk = person(tenant, "clerk@acme.test", Role.STORE_CLERK)
    set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[paris], actor=Actor.system("tests"))
    client = signed_in("clerk@acme.test")

    set_membership(tenant=tenant, user=clerk, role=Role.STORE_CLERK, locations=[lyon], actor=Actor.system("tests"))

    assert ended(client)


def test_saving_the_same_role_again_keeps_the_session(tenant):
    ann = person(tenant, "ann@acme.test", Role.ADMIN)
    client = signed_in("ann@acme.test")
    set_membership(tenant=tenant, user=ann, role=Role.ADMIN, locations=[], actor=Actor.system("tests"))
    assert not ended(client)


def test_a_removed_membership_ends_the_sessions(tenant):
    ann = person(tenant, "ann@acme.test", Role.ADMIN)
    client = signed_in("ann@acme.test")
    remove_membership(membership=Membership.objects.for_tenant(tenant).get(user=ann), actor=Actor.system("tests"))
    assert ended(client)


def test_a_role_changed_in_the_admin_ends_the_sessions(tenant, signed_in_admin_client):
    ann = person(tenant, "ann@acme.test", Role.BACK_OFFICE)
    client = signed_in("ann@acme.test")
    membership = Membership.objects.for_tenant(tenant).get(user=ann)
    response = signed_in_admin_client.post(
        f"/admin/oms/membership/{membership.pk}/change/", {"role": Role.VIEWER, "locations": []}
    )
    assert response.status_code == 302
    assert ended(client)


@pytest.fixture
def signed_in_admin_client(tenant):
    person(tenant, "boss@acme.test", Role.ADMIN)
    return signed_in("boss@acme.test")
