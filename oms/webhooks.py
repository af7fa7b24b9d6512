"""Webhook subscriptions and signed deliveries.

A delivery POSTs the event as JSON. Headers: `OMS-Event` (topic), `OMS-Event-Id` (stable across retries,
for de-duplication), `OMS-Timestamp` (unix seconds) and `OMS-Signature: t=<timestamp>,v1=<hex>` where
hex = HMAC-SHA256(secret, "<timestamp>.<raw body>"). A receiver recomputes it over the raw bytes and
rejects timestamps older than a few minutes.
"""
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms import audit
from oms.actors import Actor
from oms.errors import NotFound, ValidationFailed
from oms.events import KNOWN_EVENTS
from oms.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

USER_AGENT = "OMS-Webhooks/1.0"


def _validate(url: str, events) -> list[str]:
    errors = {}
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = ["Use an absolute http:// or https:// URL."]
    elif parts.username or parts.password:
        errors["url"] = ["Credentials in the URL are not allowed; verify the signature instead."]
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors["events"] = ["Give a non-empty list of event names."]
    else:
        unknown = sorted(set(events) - set(KNOWN_EVENTS) - {"*"})
        if unknown:
            errors["events"] = [f"Unknown events: {', '.join(unknown)}. Known: {', '.join(KNOWN_EVENTS)}."]
    if errors:
        raise ValidationFailed(errors=errors)
    return sorted(set(events))


def create_subscription(*, tenant, actor: Actor, url: str, events: list[str], description: str = "",
                        active: bool = True) -> WebhookSubscription:
    """Validates the URL's form and scheme only: no network call at creation time."""
    events = _validate(url, events)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            tenant=tenant, url=url, events=events, description=description, active=active,
            secret=f"whsec_{secrets.token_urlsafe(32)}")
        audit.record(tenant=tenant, actor=actor, action="webhook.created", obj=subscription,
                     changes={"url": url, "events": events})
    return subscription


def delete_subscription(*, tenant, actor: Actor, subscription_id: int) -> None:
    with transaction.atomic():
        subscription = WebhookSubscription.objects.for_tenant(tenant).filter(id=subscription_id).first()
        if subscription is None:
            raise NotFound("No such webhook subscription.")
        audit.record(tenant=tenant, actor=actor, action="webhook.deleted", obj=subscription)
        subscription.delete()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does; used by our tests and documented for integrators."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), fields.get("v1", ""))


def event_body(event) -> bytes:
    return json.dumps({"id": str(event.event_id), "type": event.topic, "created_at": event.created_at.isoformat(),
                       "tenant": event.tenant.slug, "data": event.payload},
                      separators=(",", ":"), sort_keys=True).encode()


class RefusedTarget(Exception):
    pass


def _check_target(url: str) -> None:
    """Refuse private, loopback, link-local and reserved addresses unless OMS_WEBHOOK_ALLOW_PRIVATE is set."""
    if settings.OMS_WEBHOOK_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise RefusedTarget(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified):
            raise RefusedTarget(f"{parts.hostname} resolves to a non-public address ({address})")


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at 6 h."""
    return min(30 * 2 ** (attempt - 1), 6 * 3600)


def attempt_delivery(delivery_id: int) -> int | None:
    """Try one delivery. Returns the seconds until the next try, or None when there is nothing more to do."""
    delivery = (WebhookDelivery.all_tenants.select_related("subscription", "event", "event__tenant")
                .filter(id=delivery_id).first())
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    subscription, event = delivery.subscription, delivery.event
    number = delivery.attempts + 1
    body = event_body(event)
    timestamp = int(time.time())
    status_code, error, excerpt = None, "", ""
    started = time.perf_counter()
    try:
        _check_target(subscription.url)
        request = urllib.request.Request(subscription.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "OMS-Event": event.topic, "OMS-Event-Id": str(event.event_id), "OMS-Timestamp": str(timestamp),
            "OMS-Delivery-Attempt": str(number),
            "OMS-Signature": f"t={timestamp},v1={sign(subscription.secret, timestamp, body)}",
        })
        with _no_redirects().open(request, timeout=settings.OMS_WEBHOOK_TIMEOUT) as response:
            status_code = response.status
            excerpt = response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except RefusedTarget as exc:
        error = f"refused: {exc}"
    except Exception as exc:  # network errors of every kind are a failed attempt, retried later
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.perf_counter() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookDelivery.all_tenants.select_for_update().get(id=delivery.id)
        if locked.status != WebhookDelivery.Status.PENDING:
            return None
        WebhookAttempt.objects.create(tenant_id=locked.tenant_id, delivery=locked, number=number, at=now,
                                      status_code=status_code, error=error[:500], duration_ms=duration,
                                      response_excerpt=excerpt[:500])
        locked.attempts = number
        locked.last_status_code = status_code
        locked.last_error = error[:500]
        if succeeded:
            locked.status, locked.delivered_at = WebhookDelivery.Status.SUCCEEDED, now
            wait = None
        elif number >= settings.OMS_WEBHOOK_MAX_ATTEMPTS:
            locked.status = WebhookDelivery.Status.FAILED
            wait = None
        else:
            wait = backoff_seconds(number)
            locked.next_attempt_at = now + timedelta(seconds=wait)
        locked.save()
    return wait


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point at an internal address: treat it as the receiver's answer, not follow it."""

    def redirect_request(self, *args, **kwargs):
        return None


def _no_redirects():
    return urllib.request.build_opener(_NoRedirect)


def redeliver(*, tenant, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Back-office: try a failed delivery again from scratch."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.for_tenant(tenant).select_for_update().filter(id=delivery_id).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now()
        delivery.save(update_fields=["status", "next_attempt_at"])
        audit.record(tenant=tenant, actor=actor, action="webhook.redelivered", obj=delivery,
                     object_repr=f"{delivery.event.topic} → {delivery.subscription.url}"[:200])
        from oms.outbox import _enqueue_delivery

        transaction.on_commit(lambda: _enqueue_delivery(delivery.id))
    return delivery
