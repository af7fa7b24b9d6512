"""Roles: what each may do on the pages and through the API, and the navigation each sees."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse
from rest_framework.permissions import SAFE_METHODS, BasePermission

from oms.access import MATRIX, MEMBERS, caller_of, rule_for
from oms.models import Role

ALL_ROLES = frozenset(Role.values)
STAFF_ROLES = frozenset({Role.ADMIN, Role.BACK_OFFICE})
OPERATIONS_ROLES = frozenset({Role.ADMIN, Role.BACK_OFFICE, Role.STORE_CLERK})
ADMIN_ONLY = frozenset({Role.ADMIN})


def role_of(request) -> str | None:
    """The signed-in member's role in the current tenant (None for API keys and strangers), from the scope."""
    scope = getattr(request, "oms_scope", None)  # the caller's scope (oms.api.scope), built at authentication
    return scope.role if scope is not None else None


def page_roles(part: str, *, write: bool = False) -> frozenset:
    """The member roles the role matrix lets read (or change) `part`: for pages, navigation and buttons."""
    rule = MATRIX[part]
    return frozenset((rule.write if write else rule.read) & MEMBERS)


def page_access(part: str, *, write: bool = False):
    """Page decorator: signed in, and a member whose role the role matrix (oms.access) lets read `part` (or change
    it, for a page whose purpose is a change: a form, an action). The view keeps `access` = (part, write) for the
    walk that checks every page against the matrix."""
    allowed = page_roles(part, write=write)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.tenant is None or role_of(request) not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = allowed
        wrapped.access = (part, write)
        return wrapped

    return decorator


class IsTenantMember(BasePermission):
    """API: a tenant was resolved (key or session), and the role matrix (oms.access) lets this caller read (GET,
    HEAD, OPTIONS) or change (any other method) the part of the product the view serves (its `access`)."""

    message = "Your role does not allow this operation."

    def has_permission(self, request, view):
        scope = getattr(request, "oms_scope", None)  # built by the authentication classes (oms.api.scope)
        if scope is None:
            return False
        return rule_for(view).allows(caller_of(scope), reading=request.method in SAFE_METHODS)


@dataclass(frozen=True)
class NavItem:
    label: object
    url_name: str
    roles: frozenset
    order: int = 100


_NAV: list[NavItem] = []


def register_nav(label, url_name: str, roles=ALL_ROLES, order: int = 100) -> None:
    """Apps add their pages to the navigation from AppConfig.ready()."""
    if not any(item.url_name == url_name for item in _NAV):
        _NAV.append(NavItem(label, url_name, frozenset(roles), order))
        _NAV.sort(key=lambda item: item.order)


def nav_for(request) -> list[dict]:
    role = role_of(request)
    if role is None:
        return []
    items = []
    for item in _NAV:
        if role in item.roles:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append(
                {
                    "label": item.label,
                    "url": url,
                    "active": request.path.startswith(url) and url != "/" or request.path == url,
                }
            )
    return items
