"""Tenancy use cases: tenants, users and memberships, API keys."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from oms import audit, rls
from oms.actors import Actor
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import ApiKey, Membership, Role, Tenant
from oms.rates import RATE_HELP, valid_rate
from oms.timezones import is_zone

API_KEY_PREFIX = "oms"


def _check_timezone(name: str) -> None:
    if not is_zone(name):
        raise ValidationFailed(errors={"timezone": [f"Unknown time zone {name!r}."]})


def create_tenant(
    *, slug: str, name: str, currency: str = "EUR", timezone_name: str = "Europe/Paris", locale: str = "fr"
) -> Tenant:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(errors={"name": ["Give the tenant a name."]})
    if not slug or slugify(slug) != slug:
        raise ValidationFailed(errors={"slug": ["Use lowercase letters, digits and hyphens."]})
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed(errors={"currency": ["Use a three-letter ISO 4217 code."]})
    _check_timezone(timezone_name)
    try:
        with transaction.atomic():
            return Tenant.objects.create(
                slug=slug, name=name, default_currency=currency.upper(), timezone=timezone_name, locale=locale
            )
    except IntegrityError:
        raise Conflict(f"Tenant {slug!r} already exists.", slug=slug) from None


def get_tenant(slug: str) -> Tenant:
    try:
        return Tenant.objects.get(slug=slug)
    except Tenant.DoesNotExist:
        raise NotFound(f"No tenant {slug!r}.") from None


def hash_secret(raw: str) -> str:
    """What is stored of a secret (an API key, an invitation's token): its SHA-256, never the secret itself."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


def create_api_key(*, tenant: Tenant, label: str, actor: Actor, channel=None, throttle_rate: str = "") -> IssuedKey:
    """Issue a key: the full secret is returned once; only its hash is kept."""
    if channel is not None and channel.tenant_id != tenant.id:
        raise NotFound("No such channel.")
    label = (label or "").strip()
    if not label:
        raise ValidationFailed(errors={"label": ["Give the key a label."]})
    throttle_rate = (throttle_rate or "").strip().lower()
    if throttle_rate and not valid_rate(throttle_rate):
        raise ValidationFailed(errors={"throttle_rate": [RATE_HELP]})
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                tenant=tenant,
                label=label,
                prefix=prefix,
                hashed_secret=hash_secret(secret),
                channel=channel,
                throttle_rate=throttle_rate,
                created_by=actor.user,
            )
            audit.record(
                tenant=tenant,
                actor=actor,
                action="api_key.created",
                obj=key,
                changes={"label": label, "channel": getattr(channel, "code", None)},
            )
    except IntegrityError:
        raise Conflict(f"An API key labelled {label!r} already exists.", label=label) from None
    return IssuedKey(api_key=key, secret=secret)


def install_published_api_key(*, tenant: Tenant, label: str, secret: str, actor: Actor, channel=None) -> ApiKey:
    """A key whose secret is published, such as the demo's (`oms_<prefix>_<rest>`): stored hashed like any other,
    created if missing, bound to `channel` and active again if it was revoked. Safe to run again, so that a tenant
    brought back to a known state answers to the same key."""
    if channel is not None and channel.tenant_id != tenant.id:
        raise NotFound("No such channel.")
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not 0 < len(parts[1]) <= 16 or len(parts[2]) < 16:
        raise ValidationFailed(
            errors={"secret": [f"Use {API_KEY_PREFIX}_<prefix of 1 to 16 characters>_<at least 16 characters>."]}
        )
    with transaction.atomic():
        key = ApiKey.objects.for_tenant(tenant).select_for_update().filter(hashed_secret=hash_secret(secret)).first()
        if key is None:
            try:
                with transaction.atomic():
                    key = ApiKey.objects.create(
                        tenant=tenant,
                        label=label,
                        prefix=parts[1],
                        hashed_secret=hash_secret(secret),
                        channel=channel,
                        created_by=actor.user,
                    )
            except IntegrityError:
                raise Conflict(
                    f"An API key labelled {label!r} or with the prefix {parts[1]!r} already exists.", label=label
                ) from None
            audit.record(
                tenant=tenant,
                actor=actor,
                action="api_key.created",
                obj=key,
                changes={"label": label, "channel": getattr(channel, "code", None)},
            )
        elif key.revoked_at is not None or key.channel_id != getattr(channel, "id", None):
            key.revoked_at, key.channel = None, channel
            key.save(update_fields=["revoked_at", "channel"])
            audit.record(
                tenant=tenant,
                actor=actor,
                action="api_key.restored",
                obj=key,
                changes={"channel": getattr(channel, "code", None)},
            )
    return key


def revoke_api_key(*, tenant: Tenant, key_id: int, actor: Actor) -> ApiKey:
    with transaction.atomic():
        try:
            key = ApiKey.objects.for_tenant(tenant).select_for_update().get(id=key_id)
        except ApiKey.DoesNotExist:
            raise NotFound("No such API key.") from None
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(tenant=tenant, actor=actor, action="api_key.revoked", obj=key)
    return key


MAX_ROTATION_OVERLAP = timedelta(days=30)


def rotate_api_key(*, tenant: Tenant, key_id: int, actor: Actor, overlap: timedelta) -> IssuedKey:
    """A new secret for an active key, with its label, channel and rate; the old secret keeps working for `overlap`
    (0: it stops at once), so that an integration switches without a gap. The old key is renamed with the time
    it was rotated, and both changes are audited."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValidationFailed(errors={"overlap": [f"From 0 to {MAX_ROTATION_OVERLAP.days} days."]})
    with transaction.atomic():
        try:
            old = ApiKey.objects.for_tenant(tenant).select_for_update().get(id=key_id)
        except ApiKey.DoesNotExist:
            raise NotFound("No such API key.") from None
        if not old.is_active:
            raise Conflict("Only an active key is rotated; this one is revoked or expired.", key=old.prefix)
        now = timezone.now()
        label = old.label
        old.label = f"{label} (rotated {now:%Y-%m-%d %H:%M:%S})"[:120]
        old.expires_at = now + overlap
        old.save(update_fields=["label", "expires_at"])
        issued = create_api_key(
            tenant=tenant, label=label, actor=actor, channel=old.channel, throttle_rate=old.throttle_rate
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="api_key.rotated",
            obj=old,
            changes={"label": label, "successor": issued.api_key.prefix, "valid_until": old.expires_at.isoformat()},
        )
    return issued


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The active key for a presented secret, or None. Compares hashes, so timing reveals nothing useful."""
    if not raw.startswith(API_KEY_PREFIX + "_"):
        return None
    # The key is what tells the tenant: it is found across tenants.
    with rls.all_tenants("API key authentication"):
        key = (
            ApiKey.all_tenants.select_related("tenant", "channel")
            .filter(hashed_secret=hash_secret(raw), revoked_at__isnull=True, tenant__active=True)
            .first()
        )
        now = timezone.now()
        if key is None or (key.expires_at is not None and key.expires_at <= now):
            return None
        # Touch last_used_at at most once a minute: a write per call would cost more than the call itself.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.all_tenants.filter(id=key.id).update(last_used_at=now)
            key.last_used_at = now
    return key


def create_user(
    *, email: str, password: str | None, full_name: str = "", tenant: Tenant | None = None, actor: Actor | None = None
) -> tuple[object, bool]:
    """The user with that e-mail, created if new. Returns (user, created). A user created for a tenant (`tenant`
    and `actor` given) is audited there.

    A new user's password must pass the password policy (AUTH_PASSWORD_VALIDATORS); without one, the account has
    no usable password. An existing user keeps theirs, and the password given is not looked at."""
    User = get_user_model()
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(errors={"email": ["Enter a valid e-mail address."]}) from None
    user = User.objects.filter(email__iexact=email).first()
    if user:
        return user, False
    if password is not None:
        try:
            password_validation.validate_password(password, User(email=email, full_name=full_name))
        except DjangoValidationError as exc:
            raise ValidationFailed(errors={"password": list(exc.messages)}) from None
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
            if tenant is not None and actor is not None:
                audit.record(
                    tenant=tenant,
                    actor=actor,
                    action="user.created",
                    obj=user,
                    object_repr=user.email,
                    changes={"email": user.email, "full_name": full_name},
                )
            return user, True
    except IntegrityError:  # created concurrently under the same e-mail
        return User.objects.get(email__iexact=email), False


def set_membership(*, tenant: Tenant, user, role: str, actor: Actor, locations=None) -> tuple[Membership, bool]:
    """Give a user a role in a tenant (store clerks: bound to store locations). Returns (membership, created).

    `locations=None` keeps a store clerk's stores as they are; a list (empty included) replaces them.
    """
    if role not in Role.values:
        raise ValidationFailed(errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    keep_stores = locations is None and role == Role.STORE_CLERK
    locations = list(locations or [])
    if any(loc.tenant_id != tenant.id for loc in locations):
        raise NotFound("No such location.")
    with transaction.atomic():
        membership, created = Membership.all_tenants.select_for_update().get_or_create(
            tenant=tenant, user=user, defaults={"role": role}
        )
        before = {"role": membership.role, "locations": sorted(membership.locations.values_list("code", flat=True))}
        membership.role = role
        membership.save(update_fields=["role"])
        if not keep_stores:
            membership.locations.set(locations, through_defaults={"tenant": tenant})
        after = {"role": role, "locations": sorted(membership.locations.values_list("code", flat=True))}
        if not created and before != after:
            end_sessions(user)  # the user signs in again, under the new role
        if created or before != after:
            audit.record(
                tenant=tenant,
                actor=actor,
                action="membership.created" if created else "membership.changed",
                obj=membership,
                object_repr=user.email,
                changes={"before": before, "after": after},
            )
    return membership, created


def remove_membership(*, membership: Membership, actor: Actor) -> None:
    """Take a user's role in a tenant away: audited, and every session of the user ends."""
    with transaction.atomic():
        audit.record(
            tenant=membership.tenant,
            actor=actor,
            action="membership.deleted",
            obj=membership,
            object_repr=membership.user.email,
            changes={"before": {"role": membership.role}},
        )
        user = membership.user
        membership.delete()
        end_sessions(user)


def end_sessions(user) -> None:
    """End every session of the user, on every device, from their next request on (oms.models.User)."""
    type(user).objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)


def memberships_of(user) -> list[Membership]:
    """The user's memberships in every active tenant: read before any tenant is chosen, so across tenants."""
    with rls.all_tenants("a signed-in user's tenants"):
        return list(
            Membership.all_tenants.filter(user=user, tenant__active=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )


def membership_for(user, tenant) -> Membership | None:
    if user is None or not user.is_authenticated or tenant is None:
        return None
    return Membership.objects.for_tenant(tenant).filter(user=user).prefetch_related("locations").first()
