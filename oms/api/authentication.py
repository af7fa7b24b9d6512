"""API authentication: `Authorization: Bearer <key>` for integrations, the session for the pages' own calls.

Either way the tenant is resolved here, once, and set on the request; nothing client-supplied chooses it.
"""
from rest_framework import authentication, exceptions

from oms.services import authenticate_api_key, membership_for


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
    for target in (request, request._request):
        target.tenant = tenant
        target.api_key = api_key
        target.membership = membership


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
        key = authenticate_api_key(raw)
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
