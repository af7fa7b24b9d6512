"""What an audit entry says to a person, in their language: one registry of every action the code records, each
with its readable name, the kind of object it concerns (to group the actions) and the sentence built from the
entry; the fields of its `changes` under human labels, their values formatted for the reader (dates in the
current time zone and language, booleans as yes or no).

An action missing from the registry still reads as a sentence (`FALLBACK`), never as a dump of its data; the test
suite walks every `action=` the code records and fails on one missing here."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from oms.models import Role

MAX_LIST_ITEMS = 10
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The kinds of object the actions concern, in the order the action filter shows them.
KINDS = {
    "account": _("Sign-in and user accounts"),
    "membership": _("Team members"),
    "customer": _("Customers"),
    "order": _("Orders"),
    "product": _("Products"),
    "location": _("Locations"),
    "channel": _("Sales channels"),
    "stock": _("Stock"),
    "count": _("Cycle counts"),
    "transfer": _("Transfers"),
    "routing": _("Routing"),
    "returns": _("Returns"),
    "api_key": _("API keys"),
    "webhook": _("Webhooks"),
    "tenant": _("Settings"),
    "demo": _("Demo"),
    "other": _("Other actions"),
}

# Fields of `changes`, as a person names them. A field missing here is shown by its name, underscores as spaces.
FIELD_LABELS = {
    "accepted": _("accepted rows"),
    "accepts_returns": _("accepts returns"),
    "active": _("active"),
    "address": _("address"),
    "adjusted": _("adjusted lines"),
    "allow_backorders": _("backorders allowed"),
    "as_of": _("as of"),
    "attributes": _("attributes"),
    "barcode": _("barcode"),
    "buffer": _("buffer"),
    "buffer_kind": _("buffer kind"),
    "channel": _("channel"),
    "counted": _("counted"),
    "created": _("created"),
    "cutoff_time": _("cut-off time"),
    "daily_capacity": _("daily capacity"),
    "description": _("description"),
    "destination": _("to"),
    "email": _("e-mail"),
    "events": _("events"),
    "fail_next": _("deliveries to refuse"),
    "from": pgettext_lazy("start of a period", "from"),
    "full_name": _("full name"),
    "handling_days": _("handling days"),
    "hold_kind": _("hold kind"),
    "holiday_subdivision": _("public holidays subdivision"),
    "invoice_per": _("one invoice per"),
    "invoice_prefix": _("invoice number prefix"),
    "is_active": _("active"),
    "is_staff": _("operator staff"),
    "is_superuser": _("operator"),
    "kind": _("kind"),
    "label": _("label"),
    "latitude": _("latitude"),
    "legal": _("legal mentions"),
    "lines": _("lines"),
    "locale": _("language"),
    "location": _("location"),
    "locations": _("locations"),
    "longitude": _("longitude"),
    "min_shelf_life_days": _("minimum shelf life (days)"),
    "mode": _("mode"),
    "name": _("name"),
    "note": _("note"),
    "opening_hours": _("opening hours"),
    "order_hold_rules": _("hold rules"),
    "order_number_prefix": _("order number prefix"),
    "orders": _("orders"),
    "pickup": _("pickup"),
    "pickup_hold_days": _("pickup hold (days)"),
    "reason": _("reason"),
    "rejected": _("rejected rows"),
    "reservation_ttl": _("reservation time"),
    "return_window_days": _("return window (days)"),
    "return_auto_approval": _("return auto-approval rules"),
    "returnable": _("returnable"),
    "label_en": _("English label"),
    "label_fr": _("French label"),
    "customer_pays_shipping": _("customer pays return shipping"),
    "position": _("position"),
    "role": _("role"),
    "rows": _("rows"),
    "safety_stock": _("safety stock"),
    "ships": _("ships"),
    "slug": _("slug"),
    "source": pgettext_lazy("origin of a transfer", "from"),
    "status": _("status"),
    "successor": _("new key"),
    "threshold": _("threshold"),
    "timezone": _("time zone"),
    "to": pgettext_lazy("end of a period", "to"),
    "tracks_lots": _("tracks lots"),
    "updated": _("updated"),
    "url": _("URL"),
    "valid_until": _("valid until"),
    "variance": _("variance"),
    "version": _("version"),
    "weight_grams": _("weight (g)"),
    "whole_order": _("whole order"),
    "default_currency": _("default currency"),
}


def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ")


def _seconds(value) -> str:
    return gettext("%(seconds)s s") % {"seconds": value} if isinstance(value, int) else format_value(value)


def _role(value) -> str:
    return str(Role(value).label) if value in Role.values else format_value(value)


# Values that read better with a unit or a name than as they are stored.
FIELD_FORMATS: dict[str, Callable] = {"reservation_ttl": _seconds, "role": _role}


def format_value(value) -> str:
    """A stored value as a person reads it: yes or no, a date in the current language and time zone, a list
    joined (at most MAX_LIST_ITEMS shown), a mapping as `label value` pairs, nothing as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, str):
        if _ISO_DATETIME.match(value) and (moment := parse_datetime(value)) is not None:
            return format_value(moment)
        if _ISO_DATE.match(value) and (day := parse_date(value)) is not None:
            return format_value(day)
        return value
    if isinstance(value, dict):
        if "sku" in value and len(value) > 1:  # a line: its SKU, then what happened to it
            rest = ", ".join(format_value(v) for k, v in value.items() if k not in ("sku", "id"))
            return f"{value['sku']}: {rest}"
        return "; ".join(f"{field_label(str(k))} {format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        shown = ", ".join(format_value(item) for item in value[:MAX_LIST_ITEMS])
        if len(value) > MAX_LIST_ITEMS:
            shown += " " + gettext("(and %(count)s more)") % {"count": len(value) - MAX_LIST_ITEMS}
        return shown
    return formats.localize(value)


def format_field(name: str, value) -> str:
    return FIELD_FORMATS.get(name, format_value)(value)


# --- how the details of an entry's `changes` read ----------------------------------------------------------


def diff_details(changes: dict) -> str:
    """`{field: [before, after]}` → `field before → after, ...`."""
    parts = []
    for name, pair in changes.items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            parts.append(f"{field_label(name)} {format_field(name, pair[0])} → {format_field(name, pair[1])}")
        else:
            parts.append(f"{field_label(name)} {format_field(name, pair)}")
    return ", ".join(parts)


def before_after_details(changes: dict) -> str:
    """`{"before": {...}, "after": {...}}` → `field before → after, ...` for the fields that differ (a field only
    on one side reads as that side's value)."""
    before, after = changes.get("before") or {}, changes.get("after") or {}
    if not after:
        return values_details(before)
    if not before:
        return values_details(after)
    names = [*before, *(name for name in after if name not in before)]
    return diff_details(
        {name: [before.get(name), after.get(name)] for name in names if before.get(name) != after.get(name)}
    )


def values_details(changes: dict) -> str:
    """`{field: value}` → `field value, ...` (empty values left out)."""
    return ", ".join(
        f"{field_label(name)} {format_field(name, value)}"
        for name, value in changes.items()
        if value not in (None, "", [], {})
    )


def no_details(changes: dict) -> str:
    return ""


@dataclass(frozen=True)
class Action:
    kind: str
    name: object  # the action's readable name, for the filter
    sentence: object  # a translatable template: %(actor)s, %(object)s, and what `extra` adds
    details: Callable[[dict], str] = no_details
    extra: Callable[[object], dict] | None = None  # entry → more placeholders of the sentence


def _api_key_label(entry) -> dict:
    return {"object": (entry.changes or {}).get("label") or entry.object_repr}


def _rotation(entry) -> dict:
    changes = entry.changes or {}
    return {**_api_key_label(entry), "until": format_value(changes.get("valid_until"))}


def _bulk(entry) -> dict:
    changes = entry.changes or {}
    return {"created": len(changes.get("created") or []), "updated": len(changes.get("updated") or [])}


ACTIONS: dict[str, Action] = {
    # accounts and sign-in
    "user.signed_in": Action("account", _("Signed in"), _("%(actor)s signed in")),
    "user.sign_in_failed": Action("account", _("Sign-in failed"), _("Failed sign-in as %(object)s"), values_details),
    "user.signed_out": Action("account", _("Signed out"), _("%(actor)s signed out")),
    "user.created": Action("account", _("User created"), _("%(actor)s created the user account %(object)s")),
    "user.changed": Action(
        "account", _("User changed"), _("%(actor)s changed the user account %(object)s"), diff_details
    ),
    "user.password_changed": Action(
        "account", _("Password changed"), _("%(actor)s changed the password of %(object)s")
    ),
    # team
    "membership.created": Action(
        "membership", _("Member added"), _("%(actor)s added %(object)s to the team"), before_after_details
    ),
    "membership.changed": Action(
        "membership", _("Role changed"), _("%(actor)s changed the role of %(object)s"), before_after_details
    ),
    "membership.deleted": Action(
        "membership", _("Member removed"), _("%(actor)s removed %(object)s from the team"), before_after_details
    ),
    "membership.invited": Action(
        "membership", _("Member invited"), _("%(actor)s invited %(object)s to join the team"), values_details
    ),
    "membership.invitation_accepted": Action(
        "membership", _("Invitation accepted"), _("%(object)s accepted the invitation to join the team")
    ),
    "membership.invitation_revoked": Action(
        "membership", _("Invitation revoked"), _("%(actor)s revoked the invitation sent to %(object)s")
    ),
    # customers
    "customer.exported": Action(
        "customer", _("Customer data exported"), _("%(actor)s exported the data of customer %(object)s")
    ),
    "customer.erased": Action(
        "customer", _("Customer data erased"), _("%(actor)s erased the personal data of customer %(object)s")
    ),
    # orders
    "order.cancelled": Action("order", _("Order cancelled"), _("%(actor)s cancelled order %(object)s"), values_details),
    "order.held": Action("order", _("Order put on hold"), _("%(actor)s put order %(object)s on hold"), values_details),
    "order.hold_released": Action(
        "order", _("Order hold released"), _("%(actor)s released the hold on order %(object)s"), values_details
    ),
    # returns
    "return_reason.created": Action(
        "returns", _("Return reason created"), _("%(actor)s created return reason %(object)s"), values_details
    ),
    "return_reason.changed": Action(
        "returns", _("Return reason changed"), _("%(actor)s changed return reason %(object)s"), diff_details
    ),
    # catalog and network
    "product.created": Action(
        "product", _("Product created"), _("%(actor)s created product %(object)s"), values_details
    ),
    "product.changed": Action("product", _("Product changed"), _("%(actor)s changed product %(object)s"), diff_details),
    "product.bulk_upserted": Action(
        "product",
        _("Products imported"),
        _("%(actor)s created %(created)s and updated %(updated)s products in one batch"),
        extra=_bulk,
    ),
    "location.created": Action(
        "location", _("Location created"), _("%(actor)s created location %(object)s"), values_details
    ),
    "location.changed": Action(
        "location", _("Location changed"), _("%(actor)s changed location %(object)s"), diff_details
    ),
    "channel.created": Action(
        "channel", _("Channel created"), _("%(actor)s created channel %(object)s"), values_details
    ),
    "channel.changed": Action("channel", _("Channel changed"), _("%(actor)s changed channel %(object)s"), diff_details),
    # stock
    "stock.adjusted": Action(
        "stock", _("Stock adjusted"), _("%(actor)s adjusted the stock of %(object)s"), values_details
    ),
    "stock.safety_stock_changed": Action(
        "stock", _("Safety stock changed"), _("%(actor)s changed the safety stock of %(object)s"), diff_details
    ),
    "stock.bin_changed": Action(
        "stock", _("Bin changed"), _("%(actor)s changed where %(object)s is shelved"), diff_details
    ),
    "inventory.adjustments": Action(
        "stock", _("Stock adjustments received"), _("%(actor)s sent stock adjustments %(object)s"), values_details
    ),
    "inventory.snapshot": Action(
        "stock", _("Stock snapshot received"), _("%(actor)s sent a stock snapshot %(object)s"), values_details
    ),
    "inventory.import_uploaded": Action(
        "stock", _("Stock file uploaded"), _("%(actor)s uploaded a stock file"), values_details
    ),
    "inventory.alert_rule_saved": Action(
        "stock", _("Low-stock alert saved"), _("%(actor)s saved the low-stock alert %(object)s"), values_details
    ),
    "inventory.alert_rule_deleted": Action(
        "stock", _("Low-stock alert deleted"), _("%(actor)s deleted the low-stock alert %(object)s")
    ),
    # counts and transfers
    "inventory.count_started": Action(
        "count", _("Count started"), _("%(actor)s started count %(object)s"), values_details
    ),
    "inventory.count_recorded": Action(
        "count", _("Count quantities recorded"), _("%(actor)s recorded quantities on count %(object)s"), values_details
    ),
    "inventory.count_completed": Action(
        "count", _("Count completed"), _("%(actor)s completed count %(object)s"), values_details
    ),
    "inventory.count_cancelled": Action("count", _("Count cancelled"), _("%(actor)s cancelled count %(object)s")),
    "inventory.transfer_created": Action(
        "transfer", _("Transfer created"), _("%(actor)s created transfer %(object)s"), values_details
    ),
    "inventory.transfer_in_transit": Action(
        "transfer", _("Transfer shipped"), _("%(actor)s shipped transfer %(object)s"), diff_details
    ),
    "inventory.transfer_received": Action(
        "transfer", _("Transfer received"), _("%(actor)s received transfer %(object)s"), diff_details
    ),
    "inventory.transfer_cancelled": Action(
        "transfer", _("Transfer cancelled"), _("%(actor)s cancelled transfer %(object)s"), diff_details
    ),
    # routing
    "routing_policy.saved": Action(
        "routing", _("Routing policy saved"), _("%(actor)s saved the routing policy"), diff_details
    ),
    "routing_simulation.started": Action(
        "routing", _("Routing simulation started"), _("%(actor)s started a routing simulation"), values_details
    ),
    # API keys and webhooks
    "api_key.created": Action(
        "api_key", _("API key created"), _("%(actor)s created API key «%(object)s»"), values_details, _api_key_label
    ),
    "api_key.restored": Action(
        "api_key", _("API key restored"), _("%(actor)s restored API key «%(object)s»"), values_details, _api_key_label
    ),
    "api_key.revoked": Action("api_key", _("API key revoked"), _("%(actor)s revoked API key «%(object)s»")),
    "api_key.rotated": Action(
        "api_key",
        _("API key rotated"),
        _("%(actor)s rotated API key «%(object)s»; the old key stays valid until %(until)s"),
        extra=_rotation,
    ),
    "webhook.created": Action(
        "webhook", _("Webhook created"), _("%(actor)s created the webhook subscription %(object)s"), values_details
    ),
    "webhook.updated": Action(
        "webhook", _("Webhook changed"), _("%(actor)s changed the webhook subscription %(object)s"), values_details
    ),
    "webhook.changed": Action(
        "webhook",
        _("Webhook changed in the administration"),
        _("%(actor)s changed the webhook subscription %(object)s in the administration"),
        values_details,
    ),
    "webhook.deleted": Action(
        "webhook", _("Webhook deleted"), _("%(actor)s deleted the webhook subscription %(object)s"), values_details
    ),
    "webhook.redelivered": Action(
        "webhook", _("Webhook delivered again"), _("%(actor)s asked for %(object)s to be delivered again")
    ),
    # tenant
    "tenant.changed": Action(
        "tenant", _("Settings changed"), _("%(actor)s changed the settings of %(object)s"), diff_details
    ),
    "tenant.order_settings_changed": Action(
        "tenant", _("Order settings changed"), _("%(actor)s changed the order settings"), before_after_details
    ),
    # demo
    "demo_receiver.refusals_set": Action(
        "demo",
        _("Demo receiver refusals set"),
        _("%(actor)s set the demo webhook receiver to refuse deliveries"),
        values_details,
    ),
}

FALLBACK = _("%(actor)s did %(action)s on %(object)s")
FALLBACK_WITHOUT_OBJECT = _("%(actor)s did %(action)s")


def action_name(action: str) -> str:
    known = ACTIONS.get(action)
    return str(known.name) if known else action


def action_kind(action: str) -> str:
    known = ACTIONS.get(action)
    return known.kind if known else "other"


API_KEY_ACTOR_PREFIX = "api-key:"


def actor_name(entry) -> str:
    """Who acted, as a person knows them: a user by their name (their e-mail without one), an API key by its
    label, the system by what ran."""
    user = getattr(entry, "user", None) if entry.user_id else None
    if user is not None:
        return user.full_name or user.email
    if entry.actor_label.startswith(API_KEY_ACTOR_PREFIX):
        return gettext("API key «%(label)s»") % {"label": entry.actor_label[len(API_KEY_ACTOR_PREFIX) :]}
    return entry.actor_label or gettext("someone")


def sentence(entry) -> str:
    """The entry as one sentence in the active language (dates in the current time zone)."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    known = ACTIONS.get(entry.action)
    values = {"actor": actor_name(entry), "object": entry.object_repr or entry.object_id, "action": entry.action}
    if known is None:
        template = FALLBACK if values["object"] else FALLBACK_WITHOUT_OBJECT
        text, details = str(template) % values, values_details(changes)
    else:
        if known.extra is not None:
            values.update(known.extra(entry))
        text, details = str(known.sentence) % values, known.details(changes)
    if not details:
        return text
    # Outside an f-string, where makemessages can find it: French puts a no-break space before the colon.
    colon = pgettext("before the details of an audit entry", ": ")
    return f"{text}{colon}{details}"
