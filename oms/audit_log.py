"""Reading the audit trail: one tenant's entries as the audit page and its CSV export filter them, the choices of
those filters (only what the tenant's trail holds), each entry put in words, and the export itself, streamed."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext

from oms import rls
from oms.audit_sentences import (
    API_KEY_ACTOR_PREFIX,
    KINDS,
    action_kind,
    action_name,
    actor_name,
    sentence,
)
from oms.models import AuditEntry, Tenant
from oms.spreadsheets import safe_cell
from oms.timezones import zone

EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asks for; empty means everything. Dates are whole days in the tenant's time zone, both
    included. `actor` is `user:<id>`, `key:<id>` or `label:<text>` (the system, a refused sign-in)."""

    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    text: str = ""


def _start_of(day: date, tenant: Tenant) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone(tenant.timezone))


def _actor_condition(actor: str) -> Q | None:
    kind, _sep, value = actor.partition(":")
    if kind == "user" and value.isdigit():
        return Q(user_id=int(value))
    if kind == "key" and value.isdigit():
        return Q(api_key_id=int(value))
    if kind == "label" and value:
        return Q(actor_label=value, user__isnull=True, api_key__isnull=True)
    return None


def valid_actor(actor: str) -> bool:
    return _actor_condition(actor) is not None


def audit_entries(*, tenant: Tenant, filters: AuditFilter):
    """The tenant's entries that match, newest first."""
    entries = AuditEntry.objects.for_tenant(tenant).select_related("user")
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from, tenant))
    if filters.date_to:
        entries = entries.filter(at__lt=_start_of(filters.date_to + timedelta(days=1), tenant))
    if filters.actor and (condition := _actor_condition(filters.actor)) is not None:
        entries = entries.filter(condition)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.text:
        text = filters.text
        # The readable action names in the reader's language are searched too ("cancelled", "annulé").
        named = [action for action in _known_actions(tenant) if text.lower() in action_name(action).lower()]
        entries = entries.filter(
            Q(object_repr__icontains=text)
            | Q(actor_label__icontains=text)
            | Q(object_id=text)
            | Q(action__icontains=text)
            | Q(action__in=named)
            | Q(request_id=text)
        )
    return entries.order_by("-at", "-id")


def _known_actions(tenant: Tenant) -> list[str]:
    return list(AuditEntry.objects.for_tenant(tenant).order_by("action").values_list("action", flat=True).distinct())


def action_choices(*, tenant: Tenant, selected: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The actions the tenant's trail holds (and the one selected), by readable name, grouped by the kind of
    object (KINDS order)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    known = _known_actions(tenant)
    for action in [*known, *([selected] if selected and selected not in known else [])]:
        groups.setdefault(action_kind(action), []).append((action, action_name(action)))
    return [
        (str(label), sorted(groups[kind], key=lambda choice: choice[1].lower()))
        for kind, label in KINDS.items()
        if kind in groups
    ]


def actor_choices(*, tenant: Tenant) -> list[tuple[str, str]]:
    """Everyone who appears in the tenant's trail: users, API keys, and the others by their label."""
    seen = (
        AuditEntry.objects.for_tenant(tenant).order_by().values_list("user_id", "api_key_id", "actor_label").distinct()
    )
    users, keys, others = {}, {}, set()
    for user_id, key_id, label in seen:
        if user_id:
            users[user_id] = label
        elif key_id:
            keys[key_id] = label
        else:
            others.add(label)
    names = {user.id: user.full_name or user.email for user in get_user_model().objects.filter(id__in=list(users))}
    choices = [(f"user:{user_id}", names.get(user_id, label)) for user_id, label in users.items()]
    choices += [
        (f"key:{key_id}", gettext("API key «%(label)s»") % {"label": label.removeprefix(API_KEY_ACTOR_PREFIX)})
        for key_id, label in keys.items()
    ]
    choices += [(f"label:{label}", label) for label in others]
    return sorted(choices, key=lambda choice: choice[1].lower())


def object_type_choices(*, tenant: Tenant, selected: str = "") -> list[tuple[str, str]]:
    """The kinds of object the tenant's trail names (and the one selected), by their model's name in the reader's
    language."""
    types = set(
        AuditEntry.objects.for_tenant(tenant).exclude(object_type="").order_by().values_list("object_type", flat=True)
    )
    types.update([selected] if selected else [])
    return sorted(((name, object_type_name(name)) for name in types), key=lambda choice: choice[1].lower())


def object_type_name(object_type: str) -> str:
    try:
        return str(capfirst(apps.get_model(object_type)._meta.verbose_name))
    except (LookupError, ValueError):
        return object_type


@dataclass(frozen=True)
class Line:
    """An entry as the page shows it."""

    entry: AuditEntry
    actor: str
    action: str
    sentence: str


def lines(entries, *, tenant: Tenant) -> list[Line]:
    """The entries in words, dates in the tenant's time zone."""
    with timezone.override(zone(tenant.timezone)):
        return [Line(entry, actor_name(entry), action_name(entry.action), sentence(entry)) for entry in entries]


def export_header() -> list[str]:
    return [
        gettext("When"),
        gettext("Who"),
        gettext("Action code"),
        gettext("What happened"),
        gettext("Object type"),
        gettext("Object id"),
        pgettext("column header", "IP address"),
        gettext("Request id"),
    ]


def export_csv(*, tenant: Tenant, filters: AuditFilter, language: str, chunk: int = EXPORT_CHUNK) -> Iterator[str]:
    """The matching entries as CSV, newest first, in `language`, times in ISO 8601 with the tenant's offset; every
    cell made safe for a spreadsheet. Streamed after the request's row-level security frame has closed: each chunk
    is read in a frame of the tenant's own, and nothing is yielded while a frame is open."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    tz = zone(tenant.timezone)
    with translation.override(language):
        writer.writerow(export_header())
    yield "\ufeff" + flush()  # the byte-order mark makes spreadsheets read the file as UTF-8
    after = None
    while True:
        with rls.tenant(tenant.id):
            entries = audit_entries(tenant=tenant, filters=filters)
            if after is not None:
                entries = entries.filter(Q(at__lt=after[0]) | Q(at=after[0], id__lt=after[1]))
            batch = list(entries[:chunk])
            with translation.override(language), timezone.override(tz):
                for entry in batch:
                    writer.writerow(
                        safe_cell(value)
                        for value in (
                            timezone.localtime(entry.at, tz).isoformat(timespec="seconds"),
                            entry.actor_label,
                            entry.action,
                            sentence(entry),
                            entry.object_type,
                            entry.object_id,
                            entry.ip or "",
                            entry.request_id,
                        )
                    )
        if batch:
            yield flush()
        if len(batch) < chunk:
            return
        after = (batch[-1].at, batch[-1].id)
