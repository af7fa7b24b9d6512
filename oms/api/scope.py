"""The caller's scope: one object per request saying for whom and how far a call may act.

Built once, where the caller is identified (API authentication, the pages' tenant middleware, a task or a command
acting for the system), and handed to selectors and services. Every rule about what a caller sees lives here, in
one method each, with one answer per kind of refusal:

- a channel key acts for its own channel only. Naming another channel is 403 `channel_mismatch`; rows of other
  channels are filtered out (and so answer 404). Catalog, network and stock writes are 403 for a channel key.
- a store clerk sees the locations of their assigned stores only. Anything at another location answers 404, exactly
  like an id that does not exist.
- roles decide the rest (`has_role`, `require_role`: 403).

It fails closed: a selector handed no scope, or a scope without a tenant, sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from oms.actors import Actor, actor_from_request
from oms.errors import NotFound, PermissionDenied, ValidationFailed
from oms.models import Role
from oms.sales_channels import find_channel


class ChannelMismatch(PermissionDenied):
    code = "channel_mismatch"
    title = "This API key acts for another channel"


@dataclass(frozen=True)
class Scope:
    tenant: Any
    actor: Actor
    role: str | None = None
    api_key: Any = None
    membership: Any = field(default=None, repr=False)

    # --- who ------------------------------------------------------------------------------------------------

    @classmethod
    def for_request(cls, request) -> Scope | None:
        """The scope of a request whose tenant is resolved (API key or signed-in member); None otherwise."""
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        membership = getattr(request, "membership", None)
        api_key = getattr(request, "api_key", None)
        return cls(
            tenant=tenant,
            actor=actor_from_request(request),
            api_key=api_key,
            membership=membership,
            role=None if api_key is not None else getattr(membership, "role", None),
        )

    @classmethod
    def system(cls, tenant, what: str = "system") -> Scope:
        """Tasks and commands acting for the tenant as a whole."""
        return cls(tenant=tenant, actor=Actor.system(what))

    @property
    def channel(self):
        """The channel a channel-bound API key acts for, or None."""
        key = self.api_key
        return key.channel if key is not None and key.channel_id else None

    @property
    def is_api_key(self) -> bool:
        return self.api_key is not None

    def has_role(self, *roles) -> bool:
        return self.role is not None and self.role in roles

    def require_role(self, *roles, what: str) -> None:
        if not self.has_role(*roles):
            raise PermissionDenied(f"Your role cannot {what}.")

    # --- channel --------------------------------------------------------------------------------------------

    def forbid_channel_key(self, what: str) -> None:
        """A sales channel's key reads the catalog and network and works its own orders; it never changes the
        catalog, the network or stock."""
        if self.channel is not None:
            raise PermissionDenied(f"The API key of channel {self.channel.code} cannot {what}.")

    def channel_for(self, code: str | None, *, lookup=None):
        """The channel a call acts for: a bound key's own (naming another is 403 `channel_mismatch`), or the one
        an unbound caller names by code, in the body or the query: naming none is 400 on `channel`, an unknown
        code (or another tenant's) 404. `lookup(code)` answers the tenant's channel, or None for no such code
        (by default, the channel the channels app registers under that code)."""
        code = (code or "").strip()
        bound = self.channel
        if bound is not None:
            if code and code != bound.code:
                raise ChannelMismatch(f"This API key acts for channel {bound.code} only.")
            return bound
        if not code:
            raise ValidationFailed(
                errors={"channel": ["Name the channel (its code): this caller is not bound to one."]}
            )
        if lookup is None:
            lookup = self._find_channel
        try:
            channel = lookup(code)
        except NotFound:
            channel = None
        if channel is None:
            raise NotFound(f"No channel with code {code!r}.")
        return channel

    def _find_channel(self, code: str):
        return find_channel(tenant=self.tenant, code=code)

    def narrow_to_channel(self, queryset, field_name: str = "channel"):
        """Rows of the key's channel only, for a channel-bound key; all of the tenant's otherwise."""
        channel = self.channel
        if channel is None:
            return queryset
        return queryset.filter(**{field_name: channel.pk if field_name == "pk" else channel})

    # --- stores ---------------------------------------------------------------------------------------------

    @cached_property
    def store_ids(self) -> frozenset[int] | None:
        """The locations a store clerk is assigned to (the only ones they see); None for everyone else."""
        membership = self.membership
        if self.api_key is None and membership is not None and membership.role == Role.STORE_CLERK:
            return frozenset(loc.id for loc in membership.locations.all())
        return None

    @property
    def assigned_stores(self) -> list | None:
        """The clerk's assigned store locations; None for everyone else (who sees every location)."""
        if self.store_ids is None:
            return None
        return list(self.membership.locations.order_by("code"))

    def narrow_to_stores(self, queryset, field_name: str = "location"):
        """Rows at the clerk's stores only; all of them for everyone else."""
        ids = self.store_ids
        if ids is None:
            return queryset
        return queryset.filter(**{f"{field_name}__in": ids})

    def sees_location(self, location_id) -> bool:
        return self.store_ids is None or location_id in self.store_ids

    def require_location(self, location, what: str = "location"):
        """A location outside a clerk's stores does not exist for them: 404."""
        if location is None or not self.sees_location(location.id):
            raise NotFound(f"No such {what}.")
        return location


def rows(model, scope: Scope | None):
    """A tenant-owned model's rows that a scope may see: its tenant's. No scope (or no tenant) sees nothing."""
    if scope is None or scope.tenant is None:
        return model.objects.none()
    return model.objects.for_tenant(scope.tenant)


def scope_of(request) -> Scope | None:
    """The request's scope, built once and kept on Django's request (`oms_scope`: ASGI requests already have a
    `scope` of their own)."""
    inner = getattr(request, "_request", request)
    scope = getattr(inner, "oms_scope", None)
    if scope is None or scope.tenant is not getattr(request, "tenant", None):
        scope = Scope.for_request(request)
        inner.oms_scope = scope
    return scope
