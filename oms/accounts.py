"""Sign-in, sign-out and changes to user accounts and tenants, in the audit trail.

A user belongs to no tenant of their own: what happens to their account is recorded in the audit trail of every
active tenant they are a member of, each entry written behind that tenant's wall. A failed sign-in for an e-mail
that no account has is recorded nowhere tenant-owned (there is no tenant to tell), and a password is never
recorded, only that it changed."""

from django.contrib.auth import get_user_model
from django.db import transaction

from oms import audit, rls
from oms.actors import Actor
from oms.models import AuditEntry, Tenant
from oms.services import memberships_of

# What an account change may touch, and the audit trail shows (the password never: it is set by its own form).
USER_FIELDS = ("email", "full_name", "is_active", "is_staff", "is_superuser")
TENANT_FIELDS = ("slug", "name", "default_currency", "timezone", "locale", "active", "settings")


def record_for_user(*, user, actor: Actor, action: str, changes: dict | None = None) -> list[AuditEntry]:
    """One entry per active tenant of the user, about the user's account."""
    entries = []
    for membership in memberships_of(user):
        with rls.tenant(membership.tenant_id):
            entries.append(
                audit.record(
                    tenant=membership.tenant,
                    actor=actor,
                    action=action,
                    obj=user,
                    object_repr=user.email,
                    changes=changes,
                )
            )
    return entries


def record_sign_in(*, user, actor: Actor) -> list[AuditEntry]:
    return record_for_user(user=user, actor=actor, action="user.signed_in")


def record_sign_out(*, user, actor: Actor) -> list[AuditEntry]:
    return record_for_user(user=user, actor=actor, action="user.signed_out")


def record_failed_sign_in(*, email: str, actor: Actor) -> list[AuditEntry]:
    """A refused sign-in naming an existing account, in that account's tenants; the e-mail as typed is the actor
    (nobody is proven), the account the object. Nothing else of the attempt is kept: never the password."""
    email = (email or "").strip().lower()
    user = get_user_model().objects.filter(email__iexact=email).first() if email else None
    if user is None:
        return []
    claimed = Actor(label=email[:200], ip=actor.ip, request_id=actor.request_id)
    return record_for_user(user=user, actor=claimed, action="user.sign_in_failed")


def record_password_change(*, user, actor: Actor) -> list[AuditEntry]:
    return record_for_user(user=user, actor=actor, action="user.password_changed")


def update_user(*, user, actor: Actor, values: dict):
    """Change some fields of a user account (USER_FIELDS), audited with before and after in each of its tenants."""
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not user account fields: {sorted(unknown)}")
    with transaction.atomic():
        diff = {name: [getattr(user, name), value] for name, value in values.items() if getattr(user, name) != value}
        if diff:
            for name, (_before, value) in diff.items():
                setattr(user, name, value)
            user.save(update_fields=list(diff))
            record_for_user(user=user, actor=actor, action="user.changed", changes=diff)
    return user


def update_tenant(*, tenant: Tenant, actor: Actor, values: dict) -> Tenant:
    """Change a tenant's own fields (TENANT_FIELDS), audited in its trail with before and after; each settings key
    that changes is its own line (`settings` as a whole would bury the one key that changed)."""
    unknown = set(values) - set(TENANT_FIELDS)
    if unknown:
        raise ValueError(f"not tenant fields: {sorted(unknown)}")
    with transaction.atomic():
        diff = {}
        for name, value in values.items():
            before = getattr(tenant, name)
            if name == "settings":
                before, value = before or {}, value or {}
                diff.update(
                    {
                        key: [before.get(key), value.get(key)]
                        for key in sorted({*before, *value})
                        if before.get(key) != value.get(key)
                    }
                )
            elif before != value:
                diff[name] = [before, value]
        if diff:
            for name, value in values.items():
                setattr(tenant, name, value)
            tenant.save(update_fields=list(values))
            with rls.tenant(tenant.id):
                audit.record(tenant=tenant, actor=actor, action="tenant.changed", obj=tenant, changes=diff)
    return tenant
