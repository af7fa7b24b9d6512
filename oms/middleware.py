import logging
import re
import time
import uuid

from oms.services import membership_for, memberships_of

log = logging.getLogger("oms.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SESSION_TENANT_KEY = "oms_tenant_id"


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
        log.info("request", extra={
            "request_id": request.request_id, "method": request.method, "path": request.path,
            "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "tenant": tenant.slug if tenant else None, "api_key": api_key.prefix if api_key else None,
            "user": user.email if user is not None and getattr(user, "is_authenticated", False) else None,
        })
        return response


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
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            wanted = request.session.get(SESSION_TENANT_KEY)
            memberships = list(memberships_of(user))
            chosen = next((m for m in memberships if m.tenant_id == wanted), None) or (memberships[0] if memberships else None)
            if chosen is not None:
                request.tenant = chosen.tenant
                request.membership = membership_for(user, chosen.tenant)
                if wanted != chosen.tenant_id:
                    request.session[SESSION_TENANT_KEY] = chosen.tenant_id
            request.user_memberships = memberships
        return self.get_response(request)
