"""Satisfaction responses: a customer's score (1 to 5) and comment about an order, sent by the shop through the API
or answered on the page a signed link opens, without an account.

Rules:
- one response per order, whichever way it comes: the (tenant, order) unique constraint decides between two sent
  at once, and the second is FeedbackExists (409 `feedback_exists`);
- only about something the customer has in hand: an order with units shipped, collected or sold in store (some
  line's `quantity_shipped` above zero); before that, OrderNotReceived (409 `order_not_received`);
- a link names its tenant and order, signed with the project's secret (django.core.signing, a salt of its own) and
  valid LINK_VALIDITY; the page that verifies it works inside the link's tenant (oms.rls).

Recording a response writes the order's timeline and emits `order.feedback_received` in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from oms.api.scope import Scope
from oms.db import violated_constraint
from oms.errors import Conflict, DomainError, NotFound, ValidationFailed
from oms.outbox import emit
from orders.models import (
    FEEDBACK_COMMENT_MAX_LENGTH,
    FEEDBACK_SCORES,
    EventKind,
    Feedback,
    FeedbackSource,
    Order,
    OrderLine,
)
from orders.selectors import orders_for
from orders.services.common import event_payload, write_event

LINK_SALT = "orders.feedback-link"
LINK_VALIDITY = timedelta(days=60)
SOURCE_WORDS = {FeedbackSource.API: "sent by the shop", FeedbackSource.LINK: "answered through the customer's link"}


class FeedbackExists(Conflict):
    code = "feedback_exists"
    title = "The order already has a satisfaction response"


class OrderNotReceived(Conflict):
    code = "order_not_received"
    title = "Nothing of the order has reached the customer yet"


class InvalidLink(NotFound):
    code = "invalid_feedback_link"
    title = "This feedback link is not valid"


class ExpiredLink(DomainError):
    status = 410
    code = "feedback_link_expired"
    title = "This feedback link has expired"


@dataclass(frozen=True)
class FeedbackLink:
    """What a verified link names."""

    tenant_id: int
    order_id: int


# --- links ----------------------------------------------------------------------------------------------------


def feedback_link(*, scope: Scope, order_id) -> tuple[str, datetime]:
    """The address the shop sends its customer to rate the order, and until when it opens (at least; the signature
    keeps the second it was made). Another tenant's (or, for a channel key, another channel's) order is NotFound."""
    order = _order(scope, order_id)
    issued = timezone.now().replace(microsecond=0)  # the signature's timestamp is this second or a later one
    token = signing.dumps([order.tenant_id, order.id], salt=LINK_SALT, compress=False)
    url = settings.OMS_PUBLIC_URL + reverse("feedback-page", kwargs={"token": token})
    return url, issued + LINK_VALIDITY


def read_link(token: str) -> FeedbackLink:
    """The tenant and order a link names: InvalidLink when it was not made here (tampered with, truncated, another
    salt), ExpiredLink past its validity."""
    try:
        value = signing.loads(token, salt=LINK_SALT, max_age=LINK_VALIDITY)
    except signing.SignatureExpired:
        raise ExpiredLink("Ask the shop for a new link.") from None
    except (signing.BadSignature, ValueError):
        raise InvalidLink() from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(part) is int for part in value)):
        raise InvalidLink()
    return FeedbackLink(tenant_id=value[0], order_id=value[1])


def linked_order(link: FeedbackLink) -> Order:
    """The order a verified link names, read in the link's tenant (the caller binds the row-level security frame to
    it): InvalidLink when the order or its tenant is gone or inactive."""
    order = (
        Order.objects.for_tenant(link.tenant_id)
        .select_related("tenant", "channel")
        .filter(id=link.order_id, tenant__active=True)
        .first()
    )
    if order is None:
        raise InvalidLink()
    return order


# --- responses ------------------------------------------------------------------------------------------------


def received(order: Order) -> bool:
    """Whether the customer has something of the order in hand: units shipped, collected or sold in store."""
    return OrderLine.objects.for_tenant(order.tenant_id).filter(order=order, quantity_shipped__gt=0).exists()


def record_feedback(*, scope: Scope, order_id, score: int, comment: str = "", source: str) -> Feedback:
    """Record the order's one satisfaction response (the module's rules), with its timeline entry and its
    `order.feedback_received` event."""
    comment = (comment or "").strip()
    _check(score, comment, source)
    with transaction.atomic():
        order = _order(scope, order_id)
        if not received(order):
            raise OrderNotReceived("The customer can rate the order once something of it has been shipped to them.")
        if Feedback.objects.for_tenant(order.tenant_id).filter(order=order).exists():
            raise _exists(order)
        feedback = Feedback(tenant_id=order.tenant_id, order=order, score=score, comment=comment, source=source)
        try:
            with transaction.atomic():
                feedback.save(force_insert=True)
        except IntegrityError as exc:
            if violated_constraint(exc) == "feedback_unique_order":  # another response committed meanwhile
                raise _exists(order) from None
            raise
        write_event(
            order,
            actor=scope.actor,
            kind=EventKind.FEEDBACK_RECEIVED,
            message=f"Score {score}/{FEEDBACK_SCORES[-1]}, {SOURCE_WORDS[source]}.",
        )
        emit(
            scope.tenant,
            "order.feedback_received",
            event_payload(
                order,
                feedback_id=feedback.id,
                score=score,
                comment=comment,
                source=source,
                created_at=feedback.created_at.isoformat(),
            ),
        )
    return feedback


def _order(scope: Scope, order_id) -> Order:
    try:
        return orders_for(scope=scope).select_related("channel").get(id=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None


def _exists(order: Order) -> FeedbackExists:
    return FeedbackExists(f"Order {order.number} already has a satisfaction response.", order=order.id)


def _check(score, comment: str, source: str) -> None:
    errors = {}
    if type(score) is not int or score not in FEEDBACK_SCORES:
        errors["score"] = [f"Give a whole number from {FEEDBACK_SCORES[0]} to {FEEDBACK_SCORES[-1]}."]
    if len(comment) > FEEDBACK_COMMENT_MAX_LENGTH:
        errors["comment"] = [f"At most {FEEDBACK_COMMENT_MAX_LENGTH} characters."]
    if source not in FeedbackSource.values:
        errors["source"] = [f"Unknown source {source!r}."]
    if errors:
        raise ValidationFailed(errors=errors)
