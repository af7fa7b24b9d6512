"""Idempotent POSTs: `Idempotency-Key` replays the first answer to the same request, never creates twice.

1. The key is claimed in its own committed row (state in_flight) before any work starts; the unique
   constraint (tenant, owner, key) lets exactly one request win the claim.
2. The winner runs the operation and stores its answer in the same transaction as the operation's own
   writes: either both are committed or neither is (a crash leaves a stale claim, taken over later).
3. A duplicate with the same body waits for the answer and replays it, or answers 409 with Retry-After
   while the first is still running; a duplicate with another body answers 422.
Keys are scoped to the API key (or user) that sent them and purged after OMS_IDEMPOTENCY_TTL_HOURS.
"""

import hashlib
import json
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from oms import db
from oms.errors import IdempotencyInFlight, IdempotencyMismatch, ValidationFailed
from oms.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# A claim older than this whose owner never answered (process killed) may be taken over.
STALE_CLAIM_SECONDS = 120
_KEPT_HEADERS = ("Location", "ETag")


def _owner(request) -> str:
    api_key = getattr(request, "api_key", None)
    return f"key:{api_key.prefix}" if api_key is not None else f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    """The method, path and parsed body: the same JSON with other spacing or key order is the same request."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyKey, request) -> Response:
    body = record.response_body
    if isinstance(body, dict) and "request_id" in body:
        # A replayed problem names the request that received it, like every problem body.
        body = {**body, "request_id": getattr(request, "request_id", body["request_id"])}
    response = Response(body, status=record.response_status, headers={**record.response_headers, REPLAY_HEADER: "true"})
    if record.response_status >= 400:
        response.content_type = "application/problem+json"
    return response


def _insert_claim(*, tenant, owner, key, request, fingerprint) -> IdempotencyKey | None:
    """The new in-flight claim, committed at once; None when the key is already claimed."""
    now = timezone.now()
    record = IdempotencyKey(
        tenant=tenant,
        owner=owner,
        key=key,
        method=request.method,
        path=request.path[:500],
        request_hash=fingerprint,
        state=IdempotencyKey.State.IN_FLIGHT,
        created_at=now,
    )
    # Outside a transaction the claim is one autocommitted statement (no BEGIN and COMMIT round trips) whose
    # commit need not wait for the disk: a claim lost in a crash only means that a retry claims the key again
    # and does the work, which is what a claim lost before its commit means too. The setting is local to the
    # statement's own transaction; inside a caller's transaction it is left alone (it would apply to the
    # caller's commit).
    row_id = db.claim_idempotency_key(record, synchronous_commit=connection.in_atomic_block)
    if row_id is None:
        return None
    record.id = row_id
    record._state.adding = False
    return record


def _claim(*, tenant, owner, key, request, fingerprint) -> tuple[IdempotencyKey | None, bool]:
    """(record, won): won is True when this request must do the work. The claim is committed at once (its own
    transaction) so that concurrent duplicates see it; record is None when the key was just given back."""
    record = _insert_claim(tenant=tenant, owner=owner, key=key, request=request, fingerprint=fingerprint)
    if record is not None:
        return record, True
    record = IdempotencyKey.objects.for_tenant(tenant).filter(owner=owner, key=key).first()
    if record is None:
        return None, False
    stale_before = timezone.now() - timedelta(seconds=STALE_CLAIM_SECONDS)
    if (
        record.state == IdempotencyKey.State.IN_FLIGHT
        and record.created_at < stale_before
        and record.request_hash == fingerprint
    ):
        # Take over an abandoned claim; only one taker can move created_at forward.
        taken = (
            IdempotencyKey.objects.for_tenant(tenant)
            .filter(
                id=record.id,
                state=IdempotencyKey.State.IN_FLIGHT,
                created_at=record.created_at,
            )
            .update(created_at=timezone.now())
        )
        if taken:
            record.refresh_from_db()
            return record, True
    return record, False


def _await_answer(record: IdempotencyKey) -> IdempotencyKey | None:
    """The record once answered, or as it stands after OMS_IDEMPOTENCY_WAIT_SECONDS; None if given back."""
    deadline = time.monotonic() + settings.OMS_IDEMPOTENCY_WAIT_SECONDS
    while record.state == IdempotencyKey.State.IN_FLIGHT and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            record.refresh_from_db()
        except IdempotencyKey.DoesNotExist:
            return None
    return record


class _Unsuccessful(Exception):
    """Raised inside the atomic block so that a 5xx answer keeps none of the handler's writes."""

    def __init__(self, response):
        self.response = response


class _Refused(Exception):
    """Carries the handler's exception out of the atomic block, so that none of its writes is kept."""

    def __init__(self, exc):
        self.exc = exc


def idempotent(handler):
    """Decorator for an APIView's post(): honours the Idempotency-Key header.

    Client errors (4xx) are answers like any other and are replayed; a server error (5xx or an unexpected
    exception) keeps nothing and gives the key back, so that a retry does the work.
    """

    @wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255:
            raise ValidationFailed(errors={HEADER: ["Use a non-empty key of at most 255 characters."]})
        tenant, owner, fingerprint = request.tenant, _owner(request), _fingerprint(request)
        for _attempt in range(3):
            record, won = _claim(tenant=tenant, owner=owner, key=key, request=request, fingerprint=fingerprint)
            if won:
                return _run(view, request, handler, args, kwargs, tenant=tenant, record=record)
            if record is None:
                continue  # the first request failed and gave the key back: claim it again
            if record.request_hash != fingerprint:
                raise IdempotencyMismatch("This Idempotency-Key was first used with another request body.")
            record = _await_answer(record)
            if record is None:
                continue
            if record.state == IdempotencyKey.State.DONE:
                return _replay(record, request)
            break
        raise IdempotencyInFlight(
            "The first request with this key is still being processed; retry shortly.", retry_after=1
        )

    wrapped.idempotent = True  # read by the OpenAPI schema (oms/api/schema.py) to document the header
    return wrapped


def _run(view, request, handler, args, kwargs, *, tenant, record):
    try:
        with transaction.atomic():
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:
                raise _Refused(exc) from exc
            if response.status_code >= 500:
                raise _Unsuccessful(response)
            _store_answer(tenant, record, response)
            return response
    except _Refused as refused:
        # Domain and input errors become their problem answer, stored like a success once the handler's
        # writes are rolled back (its own short transaction: a duplicate waits for it like for any answer).
        try:
            response = view.handle_exception(refused.exc)
            if response.status_code >= 500:
                raise _Unsuccessful(response)
            _store_answer(tenant, record, response)
        except _Unsuccessful as failure:
            _give_back(tenant, record)
            return failure.response
        except BaseException:
            _give_back(tenant, record)
            raise
        return response
    except _Unsuccessful as failure:
        _give_back(tenant, record)
        return failure.response
    except BaseException:
        # Nothing was committed: give the key back so that a retry can do the work.
        _give_back(tenant, record)
        raise


def _store_answer(tenant, record, response) -> None:
    headers = {h: response[h] for h in _KEPT_HEADERS if response.has_header(h)}
    db.store_idempotency_answer(
        tenant_id=tenant.id,
        record_id=record.id,
        status=response.status_code,
        body_json=json.dumps(response.data, default=str),
        headers_json=json.dumps(headers),
        completed_at=timezone.now(),
    )


def _give_back(tenant, record) -> None:
    IdempotencyKey.objects.for_tenant(tenant).filter(id=record.id).delete()


def purge_expired(now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyKey.all_tenants.filter(created_at__lt=cutoff).delete()
    return deleted
