"""The weekly digest: the members who asked for it receive, on Monday morning, the tiles of the last seven days
(the tenant's days, the same figures as the dashboard's, against the seven days before), by e-mail, in the language
they chose it in. Each member receives a week's digest once, however often the task runs."""

import logging
import smtplib
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext

from oms.models import Membership
from oms.permissions import page_roles
from reporting import dashboard, selectors
from reporting.aggregation import today_for
from reporting.models import DigestSubscription

log = logging.getLogger(__name__)
DAYS = 7


def is_subscribed(*, tenant, user) -> bool:
    return DigestSubscription.objects.for_tenant(tenant).filter(user=user, weekly=True).exists()


def subscribe(*, tenant, user, weekly: bool, language: str) -> DigestSubscription:
    """Start (or stop) the member's weekly digest, to be written in `language`."""
    subscription, _created = DigestSubscription.objects.for_tenant(tenant).update_or_create(
        tenant=tenant, user=user, defaults={"weekly": weekly, "language": language}
    )
    return subscription


def week_of(day: date) -> date:
    """The Monday of the week of `day`: what a digest is sent once for."""
    return day - timedelta(days=day.weekday())


def _readers(tenant) -> set[int]:
    """The tenant's members who may read the KPIs today: a member whose role changed since no longer receives it."""
    return set(
        Membership.objects.for_tenant(tenant)
        .filter(role__in=page_roles("kpis"), user__is_active=True)
        .values_list("user_id", flat=True)
    )


def send_weekly_digests(*, tenant, today: date | None = None) -> int:
    """Mail this week's digest to each subscribed member of `tenant` who has not had it; the number mailed.

    A subscription is claimed (its week written) before its mail leaves, in one conditional update: two runs at
    once send it once. A mail the server refuses gives the claim back, for the next run to try again."""
    today = today or today_for(tenant)
    week = week_of(today)
    due = (
        DigestSubscription.objects.for_tenant(tenant)
        .filter(weekly=True, user_id__in=_readers(tenant))
        .filter(Q(last_week__isnull=True) | Q(last_week__lt=week))
        .select_related("user")
    )
    subscriptions = list(due)
    if not subscriptions:
        return 0
    last, first = today - timedelta(days=1), today - timedelta(days=DAYS)
    span = selectors.Range(first=first, last=last)
    report = selectors.kpi_report(tenant=tenant, scope=span)
    compared_first, compared_last = dashboard.compared_range(first, last, "previous")
    compared = selectors.kpi_report(tenant=tenant, scope=selectors.Range(first=compared_first, last=compared_last))
    sent = 0
    for subscription in subscriptions:
        before = subscription.last_week
        with transaction.atomic():
            claimed = (
                DigestSubscription.objects.for_tenant(tenant)
                .filter(id=subscription.id, weekly=True)
                .filter(Q(last_week__isnull=True) | Q(last_week__lt=week))
                .update(last_week=week)
            )
        if not claimed:
            continue
        subject, text, html = render_digest(
            tenant=tenant, language=subscription.language, span=span, report=report, compared=compared
        )
        try:
            send_mail(subject, text, None, [subscription.user.email], html_message=html)
        except (smtplib.SMTPException, OSError):
            log.exception("the weekly digest of subscription %s could not be mailed", subscription.id)
            DigestSubscription.objects.for_tenant(tenant).filter(id=subscription.id, last_week=week).update(
                last_week=before
            )
            continue
        sent += 1
    return sent


def render_digest(*, tenant, language: str, span: selectors.Range, report: dict, compared: dict):
    """(subject, text, HTML) of the digest in `language`."""
    with translation.override(language or settings.LANGUAGE_CODE):
        period = {
            "first": date_format(span.first, "DATE_FORMAT"),
            "last": date_format(span.last, "DATE_FORMAT"),
        }
        query = urlencode({"from": span.first.isoformat(), "to": span.last.isoformat()})
        context = {
            "tenant": tenant,
            "period": period,
            "tiles": dashboard.tiles(report, compared, tenant.default_currency),
            "link": f"{settings.OMS_PUBLIC_URL}{reverse('reports')}?{query}",
        }
        subject = gettext("%(tenant)s: the week of %(first)s to %(last)s in figures") % {
            "tenant": tenant.name,
            **period,
        }
        text = render_to_string("reporting/email/digest.txt", context)
        html = render_to_string("reporting/email/digest.html", context)
    return subject, text, html
