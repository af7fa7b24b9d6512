"""The demo's webhook receiver: what an integrator's endpoint does, inside the app, so that a demo user sees signed
deliveries arrive, and failures and retries happen when they ask the receiver to refuse some.

seed_demo subscribes the demo tenant to every event at `receiver_path(slug)` on OMS_PUBLIC_URL. The receiver
keeps every POST (tenant-owned rows), checks its signature as an integrator would (oms.webhooks.verify, with the
secret of the tenant's subscriptions to this address), and answers 200, or 503 while the tenant has refusals
pending. It exists in the demo only (OMS_DEMO); elsewhere its pages are 404s.
"""

from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F

from oms import audit, webhooks
from oms.actors import Actor
from oms.demo import receiver_path
from oms.errors import ValidationFailed
from oms.models import DemoReceivedWebhook, DemoReceiver, Tenant, WebhookSubscription

BODY_LIMIT = 64 * 1024  # characters kept of a body: the demo shows deliveries, it does not archive them
MAX_REFUSALS = 100
PAGE_SIZE = 100


def receive(*, tenant: Tenant, headers, body: bytes) -> DemoReceivedWebhook:
    """Record one delivery and decide the answer: 503 while refusals are pending (one is used up), else 200."""
    path = receiver_path(tenant.slug)
    secrets = [
        subscription.secret
        for subscription in WebhookSubscription.objects.for_tenant(tenant)
        if urlsplit(subscription.url).path == path
    ]
    signature = headers.get("OMS-Signature", "")
    verified = bool(signature) and any(webhooks.verify(secret, signature, body) for secret in secrets)
    try:
        attempt = int(headers.get("OMS-Delivery-Attempt", ""))
    except ValueError:
        attempt = None
    with transaction.atomic():
        refused = DemoReceiver.objects.for_tenant(tenant).filter(fail_next__gt=0).update(fail_next=F("fail_next") - 1)
        # PostgreSQL text cannot hold NUL: a body carrying one is shown with a replacement character instead.
        text = body.decode("utf-8", "replace").replace("\x00", "\ufffd")[:BODY_LIMIT]
        return DemoReceivedWebhook.objects.create(
            tenant=tenant,
            topic=_header(headers, "OMS-Event", 80),
            event_id=_header(headers, "OMS-Event-Id", 64),
            attempt=attempt if attempt is not None and 0 <= attempt < 2**31 else None,
            signature_verified=verified,
            answered=503 if refused else 200,
            body=text,
        )


def refuse_next(*, tenant: Tenant, actor: Actor, count: int) -> DemoReceiver:
    """Make the receiver answer 503 to the tenant's next `count` deliveries (0 stops refusing)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_REFUSALS:
        raise ValidationFailed(errors={"count": [f"Give a number from 0 to {MAX_REFUSALS}."]})
    with transaction.atomic():
        state, _created = DemoReceiver.objects.update_or_create(tenant=tenant, defaults={"fail_next": count})
        audit.record(
            tenant=tenant,
            actor=actor,
            action="demo_receiver.refusals_set",
            obj=state,
            object_repr="demo webhook receiver",
            changes={"fail_next": count},
        )
    return state


def pending_refusals(*, tenant: Tenant) -> int:
    return DemoReceiver.objects.for_tenant(tenant).values_list("fail_next", flat=True).first() or 0


def received_list(*, tenant: Tenant):
    """The latest deliveries the receiver took for the tenant, newest first."""
    return DemoReceivedWebhook.objects.for_tenant(tenant).order_by("-received_at", "-id")[:PAGE_SIZE]


def received_count(*, tenant: Tenant) -> int:
    return DemoReceivedWebhook.objects.for_tenant(tenant).count()


def _header(headers, name: str, limit: int) -> str:
    return headers.get(name, "").replace("\x00", "")[:limit]
