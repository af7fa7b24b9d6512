"""Invitations: a tenant's administrator offers someone a role by e-mail, and the person accepts it.

Nobody becomes a member without their consent: the invitation's link carries a secret token, sent only to the
invited address, and the membership is created when the person holding that address accepts (signed in with it, or
creating their account on the invitation's page). The administrator's answer is the same whether the address has
an account or not, so inviting tells nothing about who uses the installation. Only the token's hash is stored.
"""

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from oms import audit, rls
from oms.actors import Actor
from oms.errors import Conflict, NotFound, ValidationFailed
from oms.models import Invitation, Membership, Role, Tenant
from oms.services import create_user, hash_secret, set_membership

log = logging.getLogger(__name__)

# What accounts accept (Django's EmailField): a longer address could never sign in.
EMAIL_MAX_LENGTH = 254
# token_urlsafe(32) gives 43 characters; anything much longer is no token of ours and is not hashed.
TOKEN_MAX_LENGTH = 64


class InvitationUnusable(Conflict):
    """The invitation cannot be accepted (any more, or by this person); `reason` says why:
    `accepted`, `revoked`, `expired`, `wrong_account` (signed in with another e-mail), `already_member`,
    `has_account` (a new account was asked for an address that has one: sign in instead)."""

    code = "invitation_unusable"
    title = "The invitation cannot be accepted"

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    token: str  # in the e-mail's link only, never stored
    mailed: bool  # False when the mail server refused it: the administrator may send it again


def normalized_email(raw: str) -> str:
    """The address as accounts store it (trimmed, lower case), or ValidationFailed."""
    email = (raw or "").strip().lower()
    try:
        if len(email) > EMAIL_MAX_LENGTH:
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(
            errors={"email": [f"Enter a valid e-mail address of at most {EMAIL_MAX_LENGTH} characters."]}
        ) from None
    return email


def invite(
    *, tenant: Tenant, email: str, role: str, stores, actor: Actor, language: str | None = None
) -> SentInvitation:
    """Offer `role` in `tenant` to whoever holds `email`, and mail them the link (in `language`, the inviter's).

    The answer does not depend on whether the address has an account. Inviting an address again replaces its open
    invitation (the earlier link stops working). Stores are kept for store clerks only, and must be the tenant's
    (the rule of memberships' stores). An address that is already a member is a Conflict: change their role instead.
    Call it outside a transaction: the mail leaves once the invitation is committed.
    """
    email = normalized_email(email)
    if role not in Role.values:
        raise ValidationFailed(errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    stores = list(stores or []) if role == Role.STORE_CLERK else []
    if any(store.tenant_id != tenant.id for store in stores):
        raise NotFound("No such location.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            if Membership.objects.for_tenant(tenant).filter(user__email__iexact=email).exists():
                raise InvitationUnusable("already_member", "This person is already a member of this tenant.")
            replaced = list(
                Invitation.objects.for_tenant(tenant)
                .select_for_update()
                .filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True)
            )
            for old in replaced:
                old.revoked_at = now
                old.save(update_fields=["revoked_at"])
            invitation = Invitation.objects.create(
                tenant=tenant,
                email=email,
                role=role,
                token_hash=hash_secret(token),
                invited_by=actor.user,
                created_at=now,
                expires_at=now + timedelta(days=settings.OMS_INVITATION_DAYS),
            )
            invitation.locations.set(stores, through_defaults={"tenant": tenant})
            audit.record(
                tenant=tenant,
                actor=actor,
                action="membership.invited",
                obj=invitation,
                object_repr=email,
                changes={
                    "email": email,
                    "role": role,
                    "locations": sorted(store.code for store in stores),
                    "expires_at": invitation.expires_at.isoformat(),
                    "replaces": [old.id for old in replaced],
                },
            )
    except IntegrityError:  # the same address invited at the same moment by someone else
        raise Conflict("This address was just invited by someone else.", email=email) from None
    mailed = _mail(invitation, token=token, inviter=actor, language=language)
    return SentInvitation(invitation=invitation, token=token, mailed=mailed)


def resend(*, invitation: Invitation, actor: Actor, language: str | None = None) -> SentInvitation:
    """A fresh link for an open invitation (expired ones included), with its role and stores: only the token's hash
    is kept, so the first link cannot be sent again; the new invitation replaces it."""
    if not invitation.is_open:
        raise InvitationUnusable(
            "accepted" if invitation.accepted_at else "revoked", "Only an open invitation is sent again."
        )
    return invite(
        tenant=invitation.tenant,
        email=invitation.email,
        role=invitation.role,
        stores=list(invitation.locations.all()),
        actor=actor,
        language=language,
    )


def revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Withdraw an open invitation: its link stops working. Revoking twice changes nothing."""
    with transaction.atomic():
        locked = Invitation.objects.for_tenant(invitation.tenant).select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise InvitationUnusable("accepted", "This invitation was already accepted.")
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit.record(
                tenant=locked.tenant,
                actor=actor,
                action="membership.invitation_revoked",
                obj=locked,
                object_repr=locked.email,
                changes={"email": locked.email, "role": locked.role},
            )
    return locked


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token names, in any active tenant (None if none): read before any tenant is known,
    the token being what tells it, like an API key."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    with rls.all_tenants("an invitation found by its link's token"):
        return (
            Invitation.all_tenants.select_related("tenant", "invited_by")
            .prefetch_related("locations")
            .filter(token_hash=hash_secret(token), tenant__active=True)
            .first()
        )


def unusable_reason(invitation: Invitation) -> str | None:
    """Why nobody may accept the invitation any more, or None while it is open and valid."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.is_expired:
        return "expired"
    return None


def accept(*, token: str, user, actor: Actor | None = None) -> Membership:
    """The signed-in `user` accepts: their e-mail must be the invited one (case does not matter). The membership is
    made by set_membership, with the invitation's role and stores. Writes in the current frame: the caller binds it
    to the invitation's tenant (oms.rls)."""
    with transaction.atomic():
        invitation = _open_invitation(token)
        if user.email.strip().lower() != invitation.email:
            raise InvitationUnusable("wrong_account", "This invitation was sent to another e-mail address.")
        return _join(invitation, user, actor or Actor.for_user(user))


def accept_as_new_person(*, token: str, full_name: str, password: str, actor: Actor):
    """Someone without an account accepts: the account is created with the invited e-mail, the name and the
    password (checked by the password validators), and becomes a member, in one transaction. Returns
    (user, membership). An address that has an account is refused (`has_account`): its owner signs in instead."""
    User = get_user_model()
    full_name = (full_name or "").strip()
    if not full_name:
        raise ValidationFailed(errors={"full_name": ["Enter your name."]})
    if len(full_name) > User._meta.get_field("full_name").max_length:
        raise ValidationFailed(errors={"full_name": ["This name is too long."]})
    with transaction.atomic():
        invitation = _open_invitation(token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationUnusable("has_account", "This address has an account: sign in to accept.")
        try:
            password_validation.validate_password(password, User(email=invitation.email, full_name=full_name))
        except DjangoValidationError as exc:
            raise ValidationFailed(errors={"password": list(exc.messages)}) from None
        user, created = create_user(email=invitation.email, password=password, full_name=full_name)
        if not created:  # made meanwhile under the same address: its owner signs in instead
            raise InvitationUnusable("has_account", "This address has an account: sign in to accept.")
        membership = _join(invitation, user, Actor.for_user(user, ip=actor.ip, request_id=actor.request_id))
    return user, membership


def pending_invitations(tenant: Tenant):
    """The tenant's open invitations, newest first (expired ones included, to be sent again or revoked)."""
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .prefetch_related("locations")
        .order_by("-created_at", "-id")
    )


# --- inside ------------------------------------------------------------------------------------------------


def _open_invitation(token: str) -> Invitation:
    """The token's invitation, locked for the transaction, or NotFound; InvitationUnusable once used, withdrawn or
    expired."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise NotFound("No such invitation.")
    with rls.all_tenants("an invitation accepted by its link's token"):
        invitation = (
            Invitation.all_tenants.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(token_hash=hash_secret(token), tenant__active=True)
            .first()
        )
        if invitation is None:
            raise NotFound("No such invitation.")
        stores = list(invitation.locations.all())
    reason = unusable_reason(invitation)
    if reason is not None:
        raise InvitationUnusable(reason)
    invitation.stores = stores
    return invitation


def _join(invitation: Invitation, user, actor: Actor) -> Membership:
    tenant = invitation.tenant
    if Membership.objects.for_tenant(tenant).filter(user=user).exists():
        # Accepting must never change a role someone already has: that is the administrator's call.
        raise InvitationUnusable("already_member", "You are already a member of this tenant.")
    membership, _created = set_membership(
        tenant=tenant, user=user, role=invitation.role, locations=invitation.stores, actor=actor
    )
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="membership.invitation_accepted",
        obj=invitation,
        object_repr=invitation.email,
        changes={"email": invitation.email, "role": invitation.role, "membership": membership.id},
    )
    return membership


def _mail(invitation: Invitation, *, token: str, inviter: Actor, language: str | None) -> bool:
    """Send the invitation's link, text and HTML, in the inviter's language. A refusal of the mail server is
    logged (without the token) and reported: the invitation stands and can be sent again."""
    context = {
        "tenant": invitation.tenant,
        "inviter": (inviter.user.full_name or inviter.user.email) if inviter.user is not None else inviter.label,
        "role": invitation.get_role_display(),
        "link": settings.OMS_PUBLIC_URL + reverse("invitation-accept", kwargs={"token": token}),
        "expires_at": invitation.expires_at,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = gettext("You are invited to join %(tenant)s on OMS") % {"tenant": invitation.tenant.name}
        text = render_to_string("oms/email/invitation.txt", context)
        html = render_to_string("oms/email/invitation.html", context)
    try:
        send_mail(subject, text, None, [invitation.email], html_message=html)
    except (smtplib.SMTPException, OSError):
        log.exception("the invitation %s could not be mailed", invitation.id)
        return False
    return True
