"""Invitation pages: administrators invite people by e-mail and manage the open invitations; the invited person
accepts on the page the e-mail links to (oms/invitations.py holds the rules)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms import invitations, rls
from oms.actors import actor_from_request
from oms.errors import DomainError, NotFound, ValidationFailed
from oms.middleware import SESSION_TENANT_KEY
from oms.models import Invitation, Role, User
from oms.permissions import page_access, page_roles, register_nav

register_nav(_("Invitations"), "invitations", page_roles("members", write=True), order=905)

# The backend that signs in a person who just created their account (the password was set a moment ago; django-axes'
# backend only guards sign-in forms).
SIGN_IN_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- the administrator's page --------------------------------------------------------------------------


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=invitations.EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    stores = forms.ModelMultipleChoiceField(
        label=_("Store locations"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For store clerks: the stores they work in (ignored for the other roles)."),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        locations = Invitation._meta.get_field("locations").related_model
        self.fields["stores"].queryset = locations.objects.for_tenant(tenant).order_by("code")
        self.fields["stores"].label_from_instance = lambda location: f"{location.code} · {location.name}"


def _language(request) -> str:
    return translation.get_language() or "en"


@page_access("members", write=True)
def invitation_list(request):
    """Invite someone, and see, send again or revoke the open invitations. The answer to an invitation is the same
    whether the address has an account or not."""
    form = InvitationForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            sent = invitations.invite(
                tenant=request.tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                stores=form.cleaned_data["stores"],
                actor=actor_from_request(request),
                language=_language(request),
            )
        except invitations.InvitationUnusable:  # already_member: the only refusal of a well-formed invitation
            form.add_error("email", _("This person is already a member of this tenant."))
        except ValidationFailed as exc:
            for field, errors in exc.extra.get("errors", {}).items():
                form.add_error(field if field in form.fields else None, errors)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            _report_sent(request, sent)
            return redirect("invitations")
    return render(
        request,
        "oms/invitations.html",
        {"form": form, "pending": invitations.pending_invitations(request.tenant)},
    )


def _report_sent(request, sent) -> None:
    if sent.mailed:
        messages.success(request, _("An invitation was sent to %(email)s.") % {"email": sent.invitation.email})
    else:
        messages.warning(
            request,
            _("The invitation to %(email)s is saved, but the e-mail could not be sent. Try sending it again later.")
            % {"email": sent.invitation.email},
        )


def _tenants_invitation(request, pk) -> Invitation:
    """An open invitation of the current tenant; any other id (another tenant's, a used one) is a 404."""
    return get_object_or_404(
        Invitation.objects.for_tenant(request.tenant)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("tenant"),
        pk=pk,
    )


@require_POST
@page_access("members", write=True)
def resend_invitation(request, pk):
    invitation = _tenants_invitation(request, pk)
    try:
        sent = invitations.resend(invitation=invitation, actor=actor_from_request(request), language=_language(request))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        _report_sent(request, sent)
    return redirect("invitations")


@require_POST
@page_access("members", write=True)
def revoke_invitation(request, pk):
    invitation = _tenants_invitation(request, pk)
    try:
        invitations.revoke(invitation=invitation, actor=actor_from_request(request))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
    return redirect("invitations")


# --- the invited person's page -------------------------------------------------------------------------


class NewAccountForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password_again") not in (None, cleaned["password"]):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


# Why an invitation cannot be accepted, as the page says it, and the status it answers with.
UNUSABLE = {
    "accepted": (_("This invitation was already accepted."), 410),
    "revoked": (_("This invitation was withdrawn, or replaced by a newer one. Ask for a new invitation."), 410),
    "expired": (_("This invitation has expired. Ask the person who invited you to send it again."), 410),
    "already_member": (_("You are already a member of this tenant."), 409),
}


def accept_invitation(request, token):
    """Reached from the e-mail, by someone who may not be signed in: the token is the only key. It finds the
    invitation across tenants (oms.invitations.invitation_for_token), then the request works in the invitation's
    tenant. A token that names nothing is a 404; a used, withdrawn or expired one, or the wrong account, a page
    saying so. Accepting is a POST: a mail scanner opening the link accepts nothing."""
    request.path_for_log = "/invitations/<token>/"  # the token opens the invitation: it stays out of the logs
    invitation = invitations.invitation_for_token(token)
    if invitation is None:
        raise Http404
    rls.bind(invitation.tenant_id)
    context = {"invitation": invitation, "token": token}
    reason = invitations.unusable_reason(invitation)
    user = request.user
    if reason is None and user.is_authenticated:
        if user.email.strip().lower() != invitation.email:
            return render(request, "oms/invitation_accept.html", {**context, "state": "wrong_account"}, status=403)
        if request.method == "POST":
            try:
                invitations.accept(token=token, user=user, actor=actor_from_request(request))
            except invitations.InvitationUnusable as exc:
                reason = exc.reason
            except NotFound:
                raise Http404 from None
            else:
                return _joined(request, invitation)
        if reason is None:
            return render(request, "oms/invitation_accept.html", {**context, "state": "confirm"})
    if reason is None:
        return _accept_as_new_person(request, invitation, context)
    message, status = UNUSABLE.get(reason, UNUSABLE["revoked"])
    return render(
        request, "oms/invitation_accept.html", {**context, "state": "unusable", "message": message}, status=status
    )


def _accept_as_new_person(request, invitation, context):
    """Not signed in: an address with an account signs in first (and comes back); one without creates it here."""
    if User.objects.filter(email__iexact=invitation.email).exists():
        return render(request, "oms/invitation_accept.html", {**context, "state": "sign_in"})
    form = NewAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, _membership = invitations.accept_as_new_person(
                token=context["token"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
                actor=actor_from_request(request),
            )
        except invitations.InvitationUnusable as exc:
            if exc.reason == "has_account":
                return render(request, "oms/invitation_accept.html", {**context, "state": "sign_in"})
            message, status = UNUSABLE.get(exc.reason, UNUSABLE["revoked"])
            return render(
                request,
                "oms/invitation_accept.html",
                {**context, "state": "unusable", "message": message},
                status=status,
            )
        except ValidationFailed as exc:
            for field, errors in exc.extra.get("errors", {}).items():
                form.add_error(field if field in form.fields else None, errors)
        except NotFound:
            raise Http404 from None
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            return _joined(request, invitation)
    return render(request, "oms/invitation_accept.html", {**context, "state": "create", "form": form})


def _joined(request, invitation):
    """Straight into the tenant just joined."""
    request.session[SESSION_TENANT_KEY] = invitation.tenant_id
    messages.success(
        request,
        _("Welcome to %(tenant)s: you joined as %(role)s.")
        % {"tenant": invitation.tenant.name, "role": invitation.get_role_display()},
    )
    return redirect("home")
