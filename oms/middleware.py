import logging
import re
import time
import uuid
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import reverse

from oms import rls
from oms.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from oms.api.scope import Scope
from oms.services import membership_for, memberships_of

log = logging.getLogger("oms.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SESSION_TENANT_KEY = "oms_tenant_id"


def client_address(request) -> str | None:
    """The caller's address: behind the reverse proxy (OMS_BEHIND_PROXY), the last X-Forwarded-For entry, the one
    the proxy appended (earlier entries are the client's own word); otherwise the socket's."""
    if settings.OMS_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")


def signin_username(request, credentials) -> str:
    """The e-mail a sign-in names, as accounts know it (trimmed, lower case): `Ann@x` and `ann@x ` count as one
    for the lockout."""
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or "").strip().lower()


class RequestIdMiddleware:
    """Gives every request an id (the caller's X-Request-ID when well-formed), echoes it, logs one JSON line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        tenant = getattr(request, "tenant", None)
        api_key = getattr(request, "api_key", None)
        user = getattr(request, "user", None)
        log.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                # A page whose address holds a secret (an invitation's token) gives the path to log instead.
                "path": getattr(request, "path_for_log", request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "tenant": tenant.slug if tenant else None,
                "api_key": api_key.prefix if api_key else None,
                "user": user.email if user is not None and getattr(user, "is_authenticated", False) else None,
            },
        )
        return response


class NulRefusingMiddleware:
    """A NUL character (%00) in the path or the query string answers 400 before any view runs.

    PostgreSQL cannot compare or store U+0000 in text: a NUL reaching a lookup (`/products/a%00b/`,
    `?q=a%00b`) would fail in the database as a server error. problem+json on /api/, a plain 400 elsewhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    problem_body(
                        400,
                        "The address may not contain the NUL character (%00).",
                        request=request,
                        code="nul_in_address",
                    ),
                    status=400,
                    content_type=PROBLEM_CONTENT_TYPE,
                )
            # Plain and in English, like Django's own 400: the language is not chosen yet (LocaleMiddleware
            # runs later) and no page layout is involved.
            return HttpResponseBadRequest(
                "Bad request: the address may not contain the NUL character.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


class TenantWallMiddleware:
    """Each request runs in its own row-level security frame (oms.rls), set to no tenant until the caller is known:
    the pages' tenant below, or the API's authentication. Whatever a request forgot to filter, the database
    answers only rows of that tenant. Streamed bodies are produced after the frame closes: they open their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with rls.unscoped():
            return self.get_response(request)


class CurrentTenantMiddleware:
    """Pages: the signed-in user's current tenant (kept in the session, switchable) and membership.

    The API resolves its tenant itself, from the key or the same session, in its authentication classes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.api_key = None
        request.oms_scope = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            wanted = request.session.get(SESSION_TENANT_KEY)
            memberships = memberships_of(user)
            chosen = next((m for m in memberships if m.tenant_id == wanted), None) or (
                memberships[0] if memberships else None
            )
            if chosen is not None:
                rls.bind(chosen.tenant_id)
                request.tenant = chosen.tenant
                request.membership = membership_for(user, chosen.tenant)
                if wanted != chosen.tenant_id:
                    request.session[SESSION_TENANT_KEY] = chosen.tenant_id
            request.user_memberships = memberships
        request.oms_scope = Scope.for_request(request)
        if user is not None and user.is_superuser and request.path_info.startswith(reverse("admin:index")):
            # The operator's admin shows every tenant's rows: the named cross-tenant path.
            with rls.all_tenants("an operator in the admin"):
                return self.get_response(request)
        return self.get_response(request)
