"""A customer's personal data (GDPR): everything OMS holds about them as one document (right of access and
portability, art. 15 and 20), and its erasure by pseudonymisation (right to erasure, art. 17).

What the export covers, per customer of one tenant:
- `customer`: e-mail, name, phone, when they became a customer (and when and by whom they were erased);
- `orders`: number, channel, external reference, dates, status, delivery (method, address, pickup store, service
  level), amounts, promotions, payment status, hold, metadata, promised dates, lines with their reservations, the
  timeline (what happened, who, with the state before and after), and the fulfilment orders;
- `invoices`: invoices and credit notes of their orders: number, date, amounts, lines, seller and buyer as printed;
- `feedback`: their satisfaction responses (the order, the score, their comment, how and when it came);
- what the apps above orders register (`register_personal_data`): fulfilment adds `shipments` (carrier,
  tracking numbers and link, parcels, the carrier's tracking events);
- `reservations`: stock held for their order lines, and cart holds whose reference names them;
- `events`: the outbox events about their orders (the webhook payloads) with where they were delivered;
- `audit`: audit entries about them, their orders, or naming them, and the Django admin's log of their record;
- `stored_answers`: API answers kept for `Idempotency-Key` replays that name them (at least 24 hours).

Erasure replaces, in one transaction, the customer's name, e-mail and phone by a pseudonym (name "Erased customer
7F3A", e-mail `erased-<random>@invalid`, phone blank) and reduces every delivery address of their orders to its
country. Everywhere a copy of these landed (the places listed above, plus the demo's webhook inbox and webhook
attempts' answers), each free text and JSON value is rewritten: the e-mail becomes the pseudonymous e-mail, the
name the pseudonymous name, the phone and the address's personal lines (name, company, street lines, phone,
e-mail) `[erased]`, and an address held as a whole is reduced to its country. Only exact copies are found (a name
spelled otherwise in a free note is not), and values shorter than three characters are left alone.

What stays: orders, lines, amounts, statuses, reservations, stock movements and KPIs (nothing is deleted, only
text is rewritten), and the link from each order to the (now pseudonymous) customer. Invoices keep the buyer's
name and address as issued: French law (Code de commerce L123-22, CGI art. 242 nonies A) requires an issued
invoice to be kept unchanged, buyer identity included, for ten years; that legal obligation is a ground the GDPR
recognises (art. 17(3)(b)). The invoice is the only place the original identity remains.

A customer with an order still in progress (placed, on hold, backordered, allocated, partly fulfilled) cannot be
erased yet (409 `orders_in_progress`): the address is needed to deliver it. Erasing an erased customer changes
nothing and answers the same state. A later order with the customer's real e-mail creates a new customer
(intake never matches an erased one).
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from inventory.models import Reservation
from oms import audit
from oms.actors import Actor
from oms.errors import Conflict, NotFound
from oms.models import AuditEntry, DemoReceivedWebhook, IdempotencyKey, OutboxEvent, Tenant, WebhookAttempt
from orders import selectors
from orders.models import Customer, Feedback, Invoice, Order, OrderEvent, OrderStatus

ERASED = "[erased]"
# Shorter values would match inside unrelated words.
MIN_NEEDLE = 3
# The keys of a delivery address (orders.api.AddressIn) that identify a person; the rest (postal code, city,
# region, country, coordinates) is dropped from an address held as a whole, but not hunted in free text.
PERSONAL_ADDRESS_KEYS = ("name", "company", "line1", "line2", "phone", "email")
# Orders still to be delivered: their address is still necessary for the sale (art. 17(1)(a)), so erasure waits.
IN_PROGRESS = (
    OrderStatus.PLACED,
    OrderStatus.ON_HOLD,
    OrderStatus.BACKORDERED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_FULFILLED,
)


class OrdersInProgress(Conflict):
    code = "orders_in_progress"
    title = "The customer has orders in progress"


# --- scrubbing ------------------------------------------------------------------------------------------------


class Scrubber:
    """Rewrites the copies of one person's data: exact occurrences (case-insensitive) of each original value
    become its replacement, and an address held as a whole is reduced to its country."""

    def __init__(self, replacements: dict[str, str]):
        kept = {value.strip(): new for value, new in replacements.items() if len(value.strip()) >= MIN_NEEDLE}
        self.needles = sorted(kept, key=len, reverse=True)  # the longest first: an e-mail before the name in it
        self._new: dict[str, str] = {}
        for value, new in kept.items():  # the customer's own values come first and win over an address's
            self._new.setdefault(value.lower(), new)
        self._pattern = re.compile("|".join(re.escape(n) for n in self.needles), re.IGNORECASE) if kept else None

    def text(self, value: str) -> str:
        if not value or self._pattern is None:
            return value
        return self._pattern.sub(lambda match: self._new[match.group(0).lower()], value)

    def data(self, value):
        """A JSON value with every string scrubbed and every address-like object reduced to its country."""
        if isinstance(value, dict):
            if is_address(value):
                return reduced_address(value)
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def naming(self, queryset, *fields):
        """The rows whose `fields` (text or JSON) hold one of the needles: where copies may hide outside the
        customer's own rows."""
        if not self.needles:
            return queryset.none()
        queryset = queryset.annotate(**{f"_text_{name}": Cast(name, TextField()) for name in fields})
        condition = Q()
        for needle in self.needles:
            for name in fields:
                condition |= Q(**{f"_text_{name}__icontains": needle})
        return queryset.filter(condition)

    def rewrite(self, rows, *, text=(), data=()) -> int:
        """Scrub the rows' `text` and `data` fields in place; saves and counts the rows that changed."""
        changed = 0
        for row in rows:
            fields = []
            for name in text:
                new = self.text(getattr(row, name))
                if new != getattr(row, name):
                    setattr(row, name, new)
                    fields.append(name)
            for name in data:
                new = self.data(getattr(row, name))
                if new != getattr(row, name):
                    setattr(row, name, new)
                    fields.append(name)
            if fields:
                _manager(type(row)).filter(pk=row.pk).update(**{name: getattr(row, name) for name in fields})
                changed += 1
        return changed


def is_address(value: dict) -> bool:
    return "line1" in value or "postal_code" in value


def reduced_address(address: dict) -> dict:
    """What an erased customer's address keeps: the country (taxes and statistics need it, it names nobody)."""
    return {"country": address["country"]} if address.get("country") else {}


def _manager(model):
    """The model's unscoped manager: the rows handed to `rewrite` were already chosen within one tenant."""
    return getattr(model, "all_tenants", model._default_manager)


def addresses_in(value):
    """Every address-like object inside a JSON value (the old addresses a timeline or a stored answer keeps)."""
    if isinstance(value, dict):
        if is_address(value):
            yield value
        else:
            for item in value.values():
                yield from addresses_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from addresses_in(item)


# --- what the apps above orders keep ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalDataSource:
    """Personal data that an app above orders keeps about a customer's orders (orders may not import it).
    `export(tenant, order_ids)` answers its rows as JSON-ready data, under `name` in the export;
    `erase(tenant, order_ids, scrubber)` rewrites them with the scrubber and answers how many rows changed."""

    name: str
    export: Callable[[Tenant, list[int]], list]
    erase: Callable[[Tenant, list[int], Scrubber], int]


_SOURCES: dict[str, PersonalDataSource] = {}


def register_personal_data(source: PersonalDataSource) -> None:
    """Called from an app's AppConfig.ready()."""
    _SOURCES[source.name] = source


# --- reading -----------------------------------------------------------------------------------------------------


@dataclass
class Subject:
    """One customer of one tenant, their orders, and the scrubber that finds (and would erase) their data."""

    tenant: Tenant
    customer: Customer
    orders: list
    scrubber: Scrubber

    @property
    def order_ids(self) -> list[int]:
        return [order.id for order in self.orders]


def customer_of(*, tenant: Tenant, customer_id, lock: bool = False) -> Customer:
    """The tenant's customer; another tenant's (or an unknown) id is NotFound."""
    queryset = Customer.objects.for_tenant(tenant)
    if lock:
        # A plain FOR UPDATE (not oms.db.LOCK_ROW's FOR NO KEY UPDATE) on purpose: intake locks the customer it
        # matches FOR KEY SHARE (orders.sql), so an order being placed for this customer meanwhile either
        # commits first (and is seen below) or waits, then no longer matches the erased row.
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(id=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such customer.") from None


def _subject(tenant: Tenant, customer: Customer, pseudonyms: tuple[str, str] = ("", "")) -> Subject:
    orders = list(
        Order.objects.for_tenant(tenant).filter(customer=customer).select_related("channel", "pickup_location")
    )
    events = OrderEvent.objects.for_tenant(tenant).filter(order__in=orders)
    pseudonym_name, pseudonym_email = pseudonyms
    found = {customer.email: pseudonym_email, customer.name: pseudonym_name, customer.phone: ERASED}
    addresses = [order.shipping_address for order in orders if order.shipping_address]
    for event in events.only("before", "after"):
        addresses.extend(addresses_in([event.before, event.after]))
    for address in addresses:
        for key in PERSONAL_ADDRESS_KEYS:
            value = address.get(key)
            if isinstance(value, str):
                new = pseudonym_email if key == "email" else ERASED
                found.setdefault(value, new)
    return Subject(tenant=tenant, customer=customer, orders=orders, scrubber=Scrubber(found))


def _outbox_events(subject: Subject):
    """The outbox events about the customer's orders or naming them: the payloads webhooks carry."""
    events = OutboxEvent.objects.for_tenant(subject.tenant)
    ids = set(events.filter(payload__order_id__in=subject.order_ids).values_list("id", flat=True))
    ids |= set(subject.scrubber.naming(events, "payload").values_list("id", flat=True))
    return events.filter(id__in=ids).order_by("created_at", "id")


def _audit_entries(subject: Subject):
    entries = AuditEntry.objects.for_tenant(subject.tenant)
    about = Q(object_type=Customer._meta.label_lower, object_id=str(subject.customer.id)) | Q(
        object_type=Order._meta.label_lower, object_id__in=[str(i) for i in subject.order_ids]
    )
    ids = set(entries.filter(about).values_list("id", flat=True))
    ids |= set(subject.scrubber.naming(entries, "object_repr", "changes").values_list("id", flat=True))
    return entries.filter(id__in=ids).order_by("at", "id")


def _admin_log(subject: Subject):
    """The Django admin's log of the customer's record and orders. That table has no tenant: it is read by
    object only (ids are unique across tenants), never searched by value, which could reach another tenant's."""
    kinds = ContentType.objects.get_for_models(Customer, Order)
    return LogEntry.objects.filter(
        Q(content_type=kinds[Customer], object_id=str(subject.customer.id))
        | Q(content_type=kinds[Order], object_id__in=[str(i) for i in subject.order_ids])
    ).order_by("action_time", "id")


def _cart_holds(subject: Subject):
    """Stock held for their order lines, and cart holds (no order line yet) whose reference names them."""
    holds = Reservation.objects.for_tenant(subject.tenant)
    ids = set(holds.filter(order_line__order_id__in=subject.order_ids).values_list("id", flat=True))
    ids |= set(subject.scrubber.naming(holds, "reference").values_list("id", flat=True))
    return holds.filter(id__in=ids).select_related("stock_level__location", "stock_level__product").order_by("id")


def _stored_answers(subject: Subject):
    return subject.scrubber.naming(IdempotencyKey.objects.for_tenant(subject.tenant), "response_body").order_by(
        "created_at", "id"
    )


def _demo_inbox(subject: Subject, event_ids: list[str]):
    inbox = DemoReceivedWebhook.objects.for_tenant(subject.tenant)
    ids = set(inbox.filter(event_id__in=event_ids).values_list("id", flat=True))
    ids |= set(subject.scrubber.naming(inbox, "body").values_list("id", flat=True))
    return inbox.filter(id__in=ids)


# --- export ------------------------------------------------------------------------------------------------------


def export_customer(*, tenant: Tenant, customer_id, actor: Actor) -> dict:
    """Everything OMS holds about one customer of the tenant, as one JSON-ready document (the module's docstring
    lists it). The export is audited (`customer.exported`), naming the customer by id only."""
    customer = customer_of(tenant=tenant, customer_id=customer_id)
    subject = _subject(tenant, customer)
    orders = [selectors.hydrate(order) for order in subject.orders]
    invoices = (
        Invoice.objects.for_tenant(tenant)
        .filter(order_id__in=subject.order_ids)
        .select_related("order", "credited_invoice")
        .prefetch_related("lines")
        .order_by("sequence")
    )
    document = {
        "format": "oms.customer-export.v1",
        "exported_at": timezone.now(),
        "tenant": tenant.name,
        "customer": _customer_data(customer),
        "orders": [_order_data(order) for order in orders],
        "invoices": [_invoice_data(invoice) for invoice in invoices],
        "feedback": [_feedback_data(response) for response in _feedback(subject).select_related("order")],
        **{name: source.export(tenant, subject.order_ids) for name, source in sorted(_SOURCES.items())},
        "reservations": [_reservation_data(hold) for hold in _cart_holds(subject)],
        "events": [_event_data(event) for event in _outbox_events(subject).prefetch_related("deliveries")],
        "audit": [_audit_data(entry) for entry in _audit_entries(subject)],
        "admin_log": [_log_data(entry) for entry in _admin_log(subject)],
        "stored_answers": [_answer_data(answer) for answer in _stored_answers(subject)],
    }
    audit.record(
        tenant=tenant,
        actor=actor,
        action="customer.exported",
        object_type=Customer._meta.label_lower,
        object_id=str(customer.id),
        object_repr=audit_name(customer),
        changes={"orders": len(orders), "invoices": len(document["invoices"])},
    )
    return plain(document)


def export_filename(customer_id) -> str:
    """Names the customer by id only: the file name travels in logs and download folders."""
    return f"customer-{customer_id}-personal-data.json"


def audit_name(customer: Customer) -> str:
    """How the audit trail names a customer: never by a personal detail."""
    return customer.name if customer.erased_at else f"Customer #{customer.id}"


def plain(value):
    """JSON-ready: dates and times in ISO 8601, amounts as strings (never floats)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _customer_data(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "created_at": customer.created_at,
        "erased_at": customer.erased_at,
        "erased_by": customer.erased_by,
    }


def _order_data(order: Order) -> dict:
    location = order.pickup_location.code if order.pickup_location_id else None
    return {
        "id": order.id,
        "number": order.number,
        "channel": order.channel.code,
        "external_ref": order.external_ref,
        "status": order.status,
        "placed_at": order.placed_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "allocated_at": order.allocated_at,
        "completed_at": order.completed_at,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "tax_total": order.tax_total,
        "shipping_total": order.shipping_total,
        "shipping_tax": order.shipping_tax,
        "total": order.total,
        "promotions": order.promotions,
        "payment_status": order.payment_status,
        "hold": {"kind": order.hold_kind, "reason": order.hold_reason} if order.hold_kind else None,
        "metadata": order.metadata,
        "delivery": {
            "method": order.delivery_method,
            "address": order.shipping_address or None,
            "location": location,
            "service_level": order.service_level,
        },
        "promised_delivery": {"earliest": order.promised_delivery_earliest, "latest": order.promised_delivery_latest},
        "lines": [
            {
                "line_number": line.line_number,
                "sku": line.sku,
                "name": line.name,
                "status": line.status,
                "quantity": line.quantity,
                "quantity_shipped": line.quantity_shipped,
                "quantity_delivered": line.quantity_delivered,
                "quantity_cancelled": line.quantity_cancelled,
                "quantity_returned": line.quantity_returned,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax": line.tax,
                "tax_rate": line.tax_rate,
                "total": line.total,
            }
            for line in order.lines_list
        ],
        "timeline": [
            {
                "at": event.at,
                "by": event.actor_label,
                "kind": event.kind,
                "message": event.message,
                "before": event.before,
                "after": event.after,
            }
            for event in order.timeline_list
        ],
        "fulfillments": getattr(order, "fulfillment_list", []),
    }


def _feedback(subject: Subject):
    return (
        Feedback.objects.for_tenant(subject.tenant).filter(order_id__in=subject.order_ids).order_by("created_at", "id")
    )


def _feedback_data(response: Feedback) -> dict:
    return {
        "order_number": response.order.number,
        "score": response.score,
        "comment": response.comment,
        "source": response.source,
        "created_at": response.created_at,
    }


def _invoice_data(invoice: Invoice) -> dict:
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "order_number": invoice.order.number,
        "credited_invoice": invoice.credited_invoice.number if invoice.credited_invoice_id else None,
        "issued_at": invoice.issued_at,
        "currency": invoice.currency,
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "reference": invoice.reference,
        "subtotal": invoice.subtotal,
        "discount_total": invoice.discount_total,
        "tax_total": invoice.tax_total,
        "shipping_total": invoice.shipping_total,
        "total": invoice.total,
        "promotions": invoice.promotions,
        "lines": [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax_rate": line.tax_rate,
                "tax": line.tax,
                "total": line.total,
            }
            for line in invoice.lines.all()
        ],
    }


def _reservation_data(hold: Reservation) -> dict:
    return {
        "id": hold.id,
        "sku": hold.stock_level.product.sku,
        "location": hold.stock_level.location.code,
        "quantity": hold.quantity,
        "status": hold.status,
        "order_line": hold.order_line_id,
        "reference": hold.reference,
        "created_at": hold.created_at,
        "expires_at": hold.expires_at,
        "closed_at": hold.closed_at,
    }


def _event_data(event: OutboxEvent) -> dict:
    return {
        "event_id": str(event.event_id),
        "topic": event.topic,
        "created_at": event.created_at,
        "payload": event.payload,
        "deliveries": [
            {
                "subscription": delivery.subscription_id,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "delivered_at": delivery.delivered_at,
            }
            for delivery in event.deliveries.all()
        ],
    }


def _audit_data(entry: AuditEntry) -> dict:
    return {
        "at": entry.at,
        "actor": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object": entry.object_repr,
        "changes": entry.changes,
    }


def _log_data(entry: LogEntry) -> dict:
    return {
        "at": entry.action_time,
        "action": {1: "added", 2: "changed", 3: "deleted"}.get(entry.action_flag, str(entry.action_flag)),
        "object": entry.object_repr,
        "change": entry.get_change_message(),
    }


def _answer_data(answer: IdempotencyKey) -> dict:
    return {
        "method": answer.method,
        "path": answer.path,
        "created_at": answer.created_at,
        "status": answer.response_status,
        "body": answer.response_body,
    }


# --- erasure -----------------------------------------------------------------------------------------------------


def erase_customer(*, tenant: Tenant, customer_id, actor: Actor) -> Customer:
    """Pseudonymise the customer and every copy of their personal data, in one transaction (the module's docstring
    says where, and what stays: the invoices' buyer identity). Idempotent: an erased customer is answered as it
    is, unchanged. Refused (OrdersInProgress) while an order of theirs is still to be delivered."""
    with transaction.atomic():
        customer = customer_of(tenant=tenant, customer_id=customer_id, lock=True)
        if customer.erased_at is not None:
            return customer
        tag = secrets.token_hex(2).upper()
        pseudonym_name, pseudonym_email = f"Erased customer {tag}", f"erased-{secrets.token_hex(8)}@invalid"
        subject = _subject(tenant, customer, (pseudonym_name, pseudonym_email))
        busy = [order.number for order in subject.orders if order.status in IN_PROGRESS]
        if busy:
            raise OrdersInProgress(
                "The customer has orders still to be delivered: cancel or deliver them first.", orders=busy
            )
        rows = _erase_copies(subject)
        customer.name, customer.email, customer.phone = pseudonym_name, pseudonym_email, ""
        customer.erased_at, customer.erased_by = timezone.now(), actor.label[:200]
        customer.save(update_fields=["name", "email", "phone", "erased_at", "erased_by"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customer.erased",
            object_type=Customer._meta.label_lower,
            object_id=str(customer.id),
            object_repr=audit_name(customer),
            changes={"orders": len(subject.orders), "rows": rows},
        )
    return customer


def _erase_copies(subject: Subject) -> dict:
    """Rewrite every copy of the customer's data; answers the rows changed per place (no values)."""
    scrub, tenant = subject.scrubber, subject.tenant
    rows = {}
    orders = subject.orders
    for order in orders:
        order.shipping_address = reduced_address(order.shipping_address) if order.shipping_address else {}
    # Not save(): the order's version and updated_at stay, nothing about the sale changed.
    Order.all_tenants.bulk_update(orders, ["shipping_address"])
    scrub.rewrite(orders, text=("hold_reason",), data=("metadata",))
    rows["orders"] = len(orders)
    rows["timeline"] = scrub.rewrite(
        OrderEvent.objects.for_tenant(tenant).filter(order_id__in=subject.order_ids),
        text=("message",),
        data=("before", "after"),
    )
    rows["feedback"] = scrub.rewrite(_feedback(subject), text=("comment",))
    for name, source in sorted(_SOURCES.items()):
        rows[name] = source.erase(tenant, subject.order_ids, scrub)
    rows["reservations"] = scrub.rewrite(_cart_holds(subject), text=("reference",))
    events = list(_outbox_events(subject))
    rows["events"] = scrub.rewrite(events, data=("payload",))
    rows["webhook_attempts"] = scrub.rewrite(
        WebhookAttempt.objects.for_tenant(tenant).filter(delivery__event__in=events),
        text=("error", "response_excerpt"),
    )
    rows["demo_inbox"] = scrub.rewrite(_demo_inbox(subject, [str(event.event_id) for event in events]), text=("body",))
    rows["stored_answers"] = scrub.rewrite(_stored_answers(subject), data=("response_body",))
    rows["audit"] = scrub.rewrite(_audit_entries(subject), text=("object_repr",), data=("changes",))
    rows["admin_log"] = scrub.rewrite(_admin_log(subject), text=("object_repr", "change_message"))
    return rows
