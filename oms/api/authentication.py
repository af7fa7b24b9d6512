"""API authentication: `Authorization: Bearer <key>` for integrations, the session for the pages' own calls.

Either way the tenant is resolved here, once, and set on the request; nothing client-supplied chooses it.

A key found in the database is remembered by each web process for OMS_API_KEY_CACHE_SECONDS (5 s; 0 turns
this off), keyed by the secret's SHA-256, never the secret: looking a key up with its tenant and channel costs
more CPU than the rest of a small call. A revoked or rotated key, a deactivated tenant or channel, or a changed
channel setting still takes effect at once everywhere: a save of a key, tenant or channel empties this process's
cache and bumps a generation number in the shared cache (Redis), which every process reads on each call (one
GET) and empties its own cache when it changed. With Redis away, the 5 seconds bound the staleness instead.
Unknown secrets are never remembered: each one is looked up. Each request gets its own copy of the remembered
objects.
"""

import copy
import hashlib
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save
from rest_framework import authentication, exceptions

from oms import rls
from oms.api.scope import Scope
from oms.models import ApiKey, Tenant
from oms.services import authenticate_api_key, membership_for

DEFAULT_CACHE_SECONDS = 5
_CACHE_LIMIT = 1000
_known: dict[str, tuple[float, ApiKey]] = {}
_known_lock = threading.Lock()


def _cache_seconds() -> float:
    return getattr(settings, "OMS_API_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)


_seen_generation: list = [None]


def generation_key() -> str:
    """The shared generation of the processes that serve one database (the cache may serve several)."""
    return f"oms:api-keys:generation:{connection.settings_dict['NAME']}"


def _shared_generation():
    """The generation of remembered keys all processes share; None when the shared cache does not answer."""
    try:
        return cache.get(generation_key(), 0)
    except Exception:  # noqa: BLE001 - Redis away: each process keeps its own bounded window
        return None


def forget_api_keys(**_kwargs) -> None:
    """Drop every remembered key, in this process and (through the shared generation) in every other one: a key,
    tenant or channel was saved or deleted."""
    with _known_lock:
        _known.clear()
    try:
        try:
            cache.incr(generation_key())
        except ValueError:  # not there yet (or evicted)
            cache.set(generation_key(), 1, timeout=None)
    except Exception:  # noqa: BLE001 - Redis away: the other processes forget within their window
        pass


def _api_key_for(raw: str) -> ApiKey | None:
    seconds = _cache_seconds()
    if seconds <= 0:
        return authenticate_api_key(raw)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    now = time.monotonic()
    generation = _shared_generation()
    if generation is not None and generation != _seen_generation[0]:
        with _known_lock:
            _known.clear()
            _seen_generation[0] = generation
    remembered = _known.get(digest)
    if remembered is not None and remembered[0] > now and remembered[1].is_active:
        return copy.deepcopy(remembered[1])
    key = authenticate_api_key(raw)
    with _known_lock:
        if key is None:
            _known.pop(digest, None)
        else:
            if len(_known) >= _CACHE_LIMIT:
                _known.clear()
            _known[digest] = (now + seconds, copy.deepcopy(key))
    return key


for _model in (ApiKey, Tenant, ApiKey._meta.get_field("channel").related_model):
    post_save.connect(forget_api_keys, sender=_model, dispatch_uid=f"forget-api-keys-save-{_model._meta.label}")
    post_delete.connect(forget_api_keys, sender=_model, dispatch_uid=f"forget-api-keys-delete-{_model._meta.label}")


class ApiKeyPrincipal:
    """What `request.user` is for a call made with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    email = ""

    def __init__(self, api_key):
        self.api_key = api_key

    def __str__(self):
        return f"api-key:{self.api_key.label}"


def _bind(request, *, tenant, api_key=None, membership=None):
    rls.bind(tenant.id)
    for target in (request, request._request):
        target.tenant = tenant
        target.api_key = api_key
        target.membership = membership
    # Built from Django's request: DRF's `request.user` is not known until authentication returns.
    request._request.oms_scope = Scope.for_request(request._request)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <key>'.")
        key = _api_key_for(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        _bind(request, tenant=key.tenant, api_key=key)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="oms"'


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in user's current tenant (chosen by the page middleware), with CSRF enforced."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        tenant = getattr(request._request, "tenant", None)
        membership = getattr(request._request, "membership", None) or membership_for(user, tenant)
        if membership is None or membership.tenant_id != getattr(tenant, "id", None):
            raise exceptions.PermissionDenied("You are not a member of any active tenant.")
        _bind(request, tenant=tenant, membership=membership)
        return result
