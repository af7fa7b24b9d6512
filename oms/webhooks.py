"""Webhook subscriptions and signed deliveries.

A delivery POSTs the event as JSON. Headers: `OMS-Event` (topic), `OMS-Event-Id` (stable across retries,
for de-duplication), `OMS-Timestamp` (unix seconds) and `OMS-Signature: t=<timestamp>,v1=<hex>` where
hex = HMAC-SHA256(secret, "<timestamp>.<raw body>"). A receiver recomputes it over the raw bytes and
rejects timestamps older than a few minutes.

A subscription created with a channel's API key is bound to that channel: that key (and only the tenant's
unbound callers besides it) sees and changes it, and it receives only the events whose payload names that
channel (`"channel": "<code>"`, as every order event does). Events that name no channel (stock, transfers,
counts, alerts...) are never delivered to a channel-bound subscription; subscribe with an unbound key to get them.
"""

import hashlib
import hmac
import http.client
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
from oms.models import Tenant, WebhookAttempt, WebhookDelivery, WebhookSubscription
from oms.outbox import enqueue_delivery

USER_AGENT = "OMS-Webhooks/1.0"


def _validate(url: str, events) -> list[str]:
    errors = {}
    url_error = _url_error(url)
    if url_error:
        errors["url"] = [url_error]
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors["events"] = ["Give a non-empty list of event names."]
    else:
        unknown = sorted(set(events) - set(KNOWN_EVENTS) - {"*"})
        if unknown:
            errors["events"] = [
                f"Unknown events: {', '.join(unknown)}. Known: {', '.join(KNOWN_EVENTS)}, or * for all."
            ]
    if errors:
        raise ValidationFailed(errors=errors)
    return sorted(set(events))


def _url_error(url) -> str:
    """The form and scheme only; where the URL points is checked at delivery time (see _guarded_connect)."""
    if not isinstance(url, str) or not url or len(url) > 1000 or any(c.isspace() or ord(c) < 32 for c in url):
        return "Use an absolute http:// or https:// URL."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "Use an absolute http:// or https:// URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an absolute http:// or https:// URL."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "Credentials in the URL are not allowed; verify the signature instead."
    if parts.fragment:
        return "A URL fragment (#...) is never sent; remove it."
    return ""


def create_subscription(
    *, tenant, actor: Actor, url: str, events: list[str], description: str = "", active: bool = True, channel=None
) -> WebhookSubscription:
    """Validates the URL's form and scheme only: no network call at creation time. `channel`: the channel of
    the API key that creates it (the subscription then hears that channel's events only)."""
    events = _validate(url, events)
    if channel is not None and channel.tenant_id != tenant.id:
        raise NotFound("No such channel.")
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            tenant=tenant,
            url=url,
            events=events,
            description=description,
            active=active,
            channel=channel,
            secret=f"whsec_{secrets.token_urlsafe(32)}",
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.created",
            obj=subscription,
            changes={"url": url, "events": events, "channel": getattr(channel, "code", None)},
        )
    return subscription


UPDATABLE_FIELDS = ("url", "events", "description", "active")


def update_subscription(
    *, tenant, actor: Actor, subscription_id: int, changes: dict, channel=None
) -> WebhookSubscription:
    """Change `url`, `events`, `description` or `active`, validated as on creation; the secret and the channel
    stay. Pausing keeps pending deliveries waiting; switching back on lets them go."""
    changes = {k: v for k, v in changes.items() if k in UPDATABLE_FIELDS}
    with transaction.atomic():
        subscription = _scoped(tenant, channel).select_for_update().filter(id=subscription_id).first()
        if subscription is None:
            raise NotFound("No such webhook subscription.")
        if "url" in changes or "events" in changes:
            events = _validate(changes.get("url", subscription.url), changes.get("events", subscription.events))
            if "events" in changes:
                changes["events"] = events
        if "description" in changes:
            description = changes["description"]
            if not isinstance(description, str) or len(description) > 200:
                raise ValidationFailed(errors={"description": ["Use at most 200 characters."]})
        if "active" in changes and not isinstance(changes["active"], bool):
            raise ValidationFailed(errors={"active": ["Use true or false."]})
        changed = {k: v for k, v in changes.items() if getattr(subscription, k) != v}
        if changed:
            for name, value in changed.items():
                setattr(subscription, name, value)
            subscription.save(update_fields=list(changed))
            audit.record(tenant=tenant, actor=actor, action="webhook.updated", obj=subscription, changes=changed)
    return subscription


def delete_subscription(*, tenant: Tenant, actor: Actor, subscription_id: int, channel=None) -> None:
    with transaction.atomic():
        subscription = _scoped(tenant, channel).select_for_update().filter(id=subscription_id).first()
        if subscription is None:
            raise NotFound("No such webhook subscription.")
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.deleted",
            obj=subscription,
            changes={"url": subscription.url, "events": subscription.events},
        )
        subscription.delete()


def _scoped(tenant, channel):
    """The tenant's subscriptions; for a channel-bound caller, that channel's only (others are not found)."""
    queryset = WebhookSubscription.objects.for_tenant(tenant)
    return queryset.filter(channel=channel) if channel is not None else queryset


def subscription_list(*, tenant: Tenant, channel=None):
    return _scoped(tenant, channel).select_related("channel").order_by("-id")


def subscription_detail(*, tenant: Tenant, subscription_id: int, channel=None) -> WebhookSubscription:
    subscription = _scoped(tenant, channel).select_related("channel").filter(id=subscription_id).first()
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def delivery_list(*, tenant: Tenant, subscription_id: int, channel=None):
    """A subscription's deliveries with their attempts, newest first; another tenant's id is NotFound."""
    subscription = subscription_detail(tenant=tenant, subscription_id=subscription_id, channel=channel)
    return (
        WebhookDelivery.objects.for_tenant(tenant)
        .filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-id")
    )


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
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.topic,
            "created_at": event.created_at.isoformat(),
            "tenant": event.tenant.slug,
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


class RefusedTarget(Exception):
    pass


# IPv6 forms that carry an IPv4 address: the IPv4 address is where the packets end up (through a NAT64 gateway, a
# 6to4 relay, or the host's own IPv4 stack), so it must be public too.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local translation, never public
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the address, and any IPv4 address an IPv6 one wraps, is on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        inner = _embedded_ipv4(address)
        if inner is not None:
            return _is_public(inner) and (address.ipv4_mapped is not None or address.is_global)
    return address.is_global and not address.is_multicast


def _guarded_connect(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):
    """Resolve once, refuse non-public addresses (unless OMS_WEBHOOK_ALLOW_PRIVATE), connect to the checked address.

    Checking and connecting with the same resolution leaves no window for DNS rebinding; the Host header and
    the TLS server name still use the URL's host name.
    """
    host, port = address[0], address[1]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedTarget(f"cannot resolve {host}: {exc}") from None
    if not settings.OMS_WEBHOOK_ALLOW_PRIVATE:
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if not _is_public(ip):
                raise RefusedTarget(f"{host} resolves to a non-public address ({ip})")
    last_error = None
    for family, socktype, proto, _, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last_error = exc
            sock.close()
    raise last_error or OSError(f"cannot connect to {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point at an internal address: it is the receiver's answer (a failure), never followed."""

    def redirect_request(self, *args, **kwargs):
        return None


def _opener():
    # No proxy from the environment: the address check must apply to the receiver itself.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _GuardedHTTPHandler, _GuardedHTTPSHandler, _NoRedirect
    )


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at 6 h."""
    return min(30 * 2 ** (attempt - 1), 6 * 3600)


def attempt_delivery(delivery_id: int) -> int | None:
    """Try one delivery. Returns the seconds until the next try, or None when there is nothing more to do."""
    delivery = (
        WebhookDelivery.all_tenants.select_related("subscription", "event", "event__tenant")
        .filter(id=delivery_id)
        .first()
    )
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    if not delivery.subscription.active:
        return None  # paused: the delivery waits, and goes out if the subscription is switched on again
    if delivery.next_attempt_at > timezone.now() + timedelta(seconds=5):
        return None  # an early duplicate message: the scheduled try (or the delivery sweep) does it on time
    subscription, event = delivery.subscription, delivery.event
    body = event_body(event)
    timestamp = int(time.time())
    status_code, error, excerpt = None, "", ""
    started = time.perf_counter()
    try:
        request = urllib.request.Request(
            subscription.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "OMS-Event": event.topic,
                "OMS-Event-Id": str(event.event_id),
                "OMS-Timestamp": str(timestamp),
                "OMS-Delivery-Attempt": str(delivery.attempts + 1),
                "OMS-Signature": f"t={timestamp},v1={sign(subscription.secret, timestamp, body)}",
            },
        )
        with _opener().open(request, timeout=settings.OMS_WEBHOOK_TIMEOUT) as response:
            status_code = response.status
            excerpt = response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        error = f"HTTP {exc.code}" + (" (redirects are not followed)" if 300 <= exc.code < 400 else "")
        try:
            excerpt = exc.read(500).decode("utf-8", "replace")
        except Exception:  # the error body is informative only
            excerpt = ""
        finally:
            exc.close()
    except RefusedTarget as exc:
        error = f"refused: {exc}"
    except Exception as exc:  # network errors of every kind are a failed attempt, retried later
        reason = getattr(exc, "reason", None)
        error = f"refused: {reason}" if isinstance(reason, RefusedTarget) else f"{type(exc).__name__}: {exc}"
    duration = int((time.perf_counter() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookDelivery.all_tenants.select_for_update().get(id=delivery.id)
        if locked.status != WebhookDelivery.Status.PENDING:
            return None
        # The log numbers every try ever made; `attempts` counts towards the limit and restarts on redelivery.
        number = WebhookAttempt.objects.for_tenant(locked.tenant_id).filter(delivery=locked).count() + 1
        WebhookAttempt.objects.create(
            tenant_id=locked.tenant_id,
            delivery=locked,
            number=number,
            at=now,
            status_code=status_code,
            error=error[:500],
            duration_ms=duration,
            response_excerpt=excerpt[:500],
        )
        locked.attempts += 1
        locked.last_status_code = status_code
        locked.last_error = error[:500]
        if succeeded:
            locked.status, locked.delivered_at = WebhookDelivery.Status.SUCCEEDED, now
            wait = None
        elif locked.attempts >= settings.OMS_WEBHOOK_MAX_ATTEMPTS:
            locked.status = WebhookDelivery.Status.FAILED
            wait = None
        else:
            wait = backoff_seconds(locked.attempts)
            locked.next_attempt_at = now + timedelta(seconds=wait)
        locked.save(
            update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"]
        )
    return wait


def redeliver(*, tenant: Tenant, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Back-office: send a delivery again with a fresh budget of attempts (its attempt log is kept)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.for_tenant(tenant)
            .select_for_update(of=("self",))
            .select_related("event", "subscription")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound("No such delivery.")
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now()
        delivery.attempts = 0
        delivery.save(update_fields=["status", "next_attempt_at", "attempts"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.redelivered",
            obj=delivery,
            object_repr=f"{delivery.event.topic} → {delivery.subscription.url}"[:200],
        )
        transaction.on_commit(lambda: enqueue_delivery(delivery.id), robust=True)
    return delivery
