"""The weekly digest: a member switches it on from the dashboard (in the page's language) and off again; on Monday
the subscribed managers and admins receive the last seven days' tiles, the dashboard's figures, in their language,
once a week however often the task runs; nobody else does."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail

from oms.actors import Actor
from oms.models import Role
from oms.services import set_membership
from reporting import aggregation, digest, tasks
from reporting.models import DigestSubscription
from tests import factories
from tests.reporting.builder import D, build

pytestmark = pytest.mark.django_db

# A Wednesday: the digest covers D-6 to D, the seven days before it, with O5 (D-1) and the four orders of D.
TODAY = D + timedelta(days=1)


@pytest.fixture
def data(tenant):
    data = build(tenant)
    aggregation.rebuild(tenant=tenant, first=D - timedelta(days=14), last=D + timedelta(days=3))
    return data


def member(tenant, role, *, weekly=True, language="en"):
    user = factories.UserFactory()
    set_membership(tenant=tenant, user=user, role=role, actor=Actor.system("tests"))
    if weekly is not None:
        digest.subscribe(tenant=tenant, user=user, weekly=weekly, language=language)
    return user


def test_the_dashboard_switches_the_digest_on_in_the_pages_language_and_off(user_client, tenant):
    client = user_client(Role.MANAGER)

    page = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Recevoir le résumé hebdomadaire" in page
    answer = client.post(
        "/reports/digest/", {"weekly": "1", "next": "/reports/?granularity=week"}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert answer.status_code == 302 and answer["Location"] == "/reports/?granularity=week"
    subscription = DigestSubscription.objects.for_tenant(tenant).get(user=client.user)
    assert (subscription.weekly, subscription.language) == (True, "fr")
    assert "Arrêter le résumé hebdomadaire" in client.get("/reports/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    client.post("/reports/digest/", {"weekly": "0", "next": "https://elsewhere.example/"})
    subscription.refresh_from_db()
    assert subscription.weekly is False
    assert DigestSubscription.objects.for_tenant(tenant).count() == 1


@pytest.mark.parametrize("role", [Role.BACK_OFFICE, Role.VIEWER, Role.STORE_CLERK])
def test_only_managers_and_admins_subscribe(role, user_client, tenant):
    client = user_client(role)

    assert client.post("/reports/digest/", {"weekly": "1"}).status_code == 403
    assert not DigestSubscription.objects.for_tenant(tenant).exists()


def test_the_subscribed_managers_and_admins_receive_the_weeks_figures_in_their_language(tenant, data):
    english = member(tenant, Role.MANAGER, language="en")
    french = member(tenant, Role.ADMIN, language="fr")
    member(tenant, Role.MANAGER, weekly=False)
    member(tenant, Role.MANAGER, weekly=None)
    demoted = member(tenant, Role.MANAGER)
    set_membership(tenant=tenant, user=demoted, role=Role.VIEWER, actor=Actor.system("tests"))

    assert digest.send_weekly_digests(tenant=tenant, today=TODAY) == 2

    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {english.email, french.email}
    en, fr = sent[english.email], sent[french.email]
    assert en.subject == "Acme: the week of March 4, 2026 to March 10, 2026 in figures"
    assert "Orders placed: 5 (—)" in en.body  # nothing the week before: no change to tell
    assert "Order value: €100.00 (—)" in en.body
    assert "On time: 66.7% (—)" in en.body
    assert "/reports/?from=2026-03-04&to=2026-03-10" in en.body
    assert fr.subject == "Acme : la semaine du 4 mars 2026 au 10 mars 2026 en chiffres"
    assert "Valeur des commandes : 100,00\xa0€ (—)" in fr.body
    html, kind = fr.alternatives[0]
    assert kind == "text/html" and '<html lang="fr">' in html and "100,00\xa0€" in html


def test_a_week_is_sent_once_however_often_the_task_runs(tenant, data):
    member(tenant, Role.MANAGER)

    assert digest.send_weekly_digests(tenant=tenant, today=TODAY) == 1
    assert digest.send_weekly_digests(tenant=tenant, today=TODAY) == 0
    assert digest.send_weekly_digests(tenant=tenant, today=TODAY + timedelta(days=4)) == 0  # still that week
    assert len(mail.outbox) == 1

    assert digest.send_weekly_digests(tenant=tenant, today=TODAY + timedelta(days=5)) == 1  # the next Monday
    assert len(mail.outbox) == 2


def test_a_mail_the_server_refuses_is_sent_on_the_next_run(tenant, data, monkeypatch):
    user = member(tenant, Role.MANAGER)

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(digest, "send_mail", refuse)
    assert digest.send_weekly_digests(tenant=tenant, today=TODAY) == 0
    assert DigestSubscription.objects.for_tenant(tenant).get(user=user).last_week is None
    monkeypatch.undo()

    assert digest.send_weekly_digests(tenant=tenant, today=TODAY) == 1
    assert mail.outbox[0].to == [user.email]


def test_the_task_sends_every_tenants_digests_and_is_on_mondays_beat(tenant, other_tenant, data, settings):
    member(tenant, Role.MANAGER)
    member(other_tenant, Role.ADMIN, language="fr")

    assert tasks.send_weekly_digests() == 2
    assert tasks.send_weekly_digests() == 0

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "reporting.send_weekly_digests")
    assert (entry["schedule"].day_of_week, entry["schedule"].hour, entry["schedule"].minute) == ({1}, {7}, {0})
