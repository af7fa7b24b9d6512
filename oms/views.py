"""Platform pages: sign-in, home, tenant switcher, audit trail, API keys and webhooks settings, error pages."""

import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, HttpResponseServerError, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms import audit_log, services, webhooks
from oms.actors import actor_from_request
from oms.digits import whole_number
from oms.errors import DomainError, ValidationFailed
from oms.middleware import SESSION_TENANT_KEY
from oms.models import ApiKey, Role, WebhookDelivery, WebhookSubscription
from oms.permissions import STAFF_ROLES, page_access, page_roles, register_nav, role_of
from oms.rates import valid_rate
from oms.sales_channels import channels_of
from oms.timezones import zone

log = logging.getLogger(__name__)

AUDIT_PAGE_SIZE = 50

register_nav(_("Home"), "home", page_roles("home"), order=0)
register_nav(_("Audit trail"), "audit-log", page_roles("audit"), order=900)
register_nav(_("API keys"), "api-keys", page_roles("api_keys", write=True), order=910)
register_nav(_("Webhooks"), "webhooks", page_roles("webhooks"), order=920)
register_nav(_("Administration"), "admin:index", STAFF_ROLES, order=990)


# --- sign-in -------------------------------------------------------------------------------------------


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("Unknown e-mail address or wrong password."),
        "inactive": _("This account is disabled."),
    }


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django refuses GET): a link cannot sign anyone out."""


# --- home ----------------------------------------------------------------------------------------------

_HOME_TILES: list[tuple[int, object]] = []


def register_home_tile(provider, order: int = 100) -> None:
    """Apps add a tile to the home page: provider(request) returns a dict (title, value, url) or None.

    A provider decides itself whether the request's role may see its tile (return None to hide it).
    Tiles appear by `order`, then in registration order.
    """
    if all(existing is not provider for _order, existing in _HOME_TILES):
        _HOME_TILES.append((order, provider))
        _HOME_TILES.sort(key=lambda entry: entry[0])


def home_tiles(request) -> list[dict]:
    return [tile for tile in (provider(request) for _order, provider in _HOME_TILES) if tile]


def _api_keys_tile(request):
    if role_of(request) != Role.ADMIN:
        return None
    active = ApiKey.objects.for_tenant(request.tenant).filter(revoked_at__isnull=True).count()
    return {"title": _("Active API keys"), "value": active, "url": reverse("api-keys")}


def _failed_webhooks_tile(request):
    if role_of(request) not in page_roles("webhooks"):
        return None
    failed = WebhookDelivery.objects.for_tenant(request.tenant).filter(status=WebhookDelivery.Status.FAILED).count()
    return {
        "title": _("Failed webhook deliveries"),
        "value": failed,
        "url": reverse("webhooks"),
        "tone": "danger" if failed else "",
    }


register_home_tile(_api_keys_tile, order=900)
register_home_tile(_failed_webhooks_tile, order=910)


@page_access("home")
def home(request):
    return render(request, "home.html", {"tiles": home_tiles(request)})


# --- tenant switcher -----------------------------------------------------------------------------------


@require_POST
def switch_tenant(request):
    """Work in another tenant the user belongs to; any other tenant is refused (403)."""
    if not request.user.is_authenticated:
        return redirect("login")
    wanted = request.POST.get("tenant", "")
    membership = next((m for m in getattr(request, "user_memberships", []) if str(m.tenant_id) == wanted), None)
    if membership is None:
        raise PermissionDenied
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    messages.success(request, _("You are now working in %(tenant)s.") % {"tenant": membership.tenant.name})
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


# --- audit trail ---------------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    """The audit page's filters. Actions and object types are offered as the tenant's trail holds them; one given
    in the address (a link from an order page) is taken as it is."""

    date_from = forms.DateField(
        label=pgettext_lazy("start of a period", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=pgettext_lazy("end of a period", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(label=_("Who"), required=False, max_length=220)
    action = forms.CharField(label=_("Action"), required=False, max_length=80)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=80)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)

    def clean_actor(self):
        actor = self.cleaned_data["actor"].strip()
        if actor and not audit_log.valid_actor(actor):
            raise forms.ValidationError(_("Choose someone from the list."))
        return actor

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end comes before the start."))
        return cleaned

    def filters(self) -> audit_log.AuditFilter:
        """The valid filters (a field in error filters nothing)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return audit_log.AuditFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            actor=data.get("actor", ""),
            action=(data.get("action") or "").strip(),
            object_type=(data.get("object_type") or "").strip(),
            object_id=(data.get("object_id") or "").strip(),
            text=(data.get("q") or "").strip(),
        )


@page_access("audit")
def audit_log_page(request):
    form = AuditFilterForm(request.GET)
    form.is_valid()
    filters = form.filters()
    tenant = request.tenant
    page = Paginator(audit_log.audit_entries(tenant=tenant, filters=filters), AUDIT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oms/audit_log.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "lines": audit_log.lines(page, tenant=tenant),
            "actions": audit_log.action_choices(tenant=tenant, selected=filters.action),
            "actors": audit_log.actor_choices(tenant=tenant),
            "object_types": audit_log.object_type_choices(tenant=tenant, selected=filters.object_type),
            "export_query": query.urlencode(),
        },
    )


@page_access("audit")
def audit_log_export(request):
    """The entries the page's filters select, as CSV (same filters, same rule on who may read them)."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("The filters are not valid: correct them on the audit page."), content_type="text/plain; charset=utf-8"
        )
    tenant = request.tenant
    response = StreamingHttpResponse(
        audit_log.export_csv(tenant=tenant, filters=form.filters(), language=get_language()),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime(timezone.now(), zone(tenant.timezone)).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'
    return response


# --- API keys ------------------------------------------------------------------------------------------


class ApiKeyForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=None,
        required=False,
        empty_label=_("None (tenant integration: ERP, WMS)"),
        help_text=_("A key bound to a channel places orders and reads availability for that channel only."),
    )
    throttle_rate = forms.CharField(
        label=_("Throttle rate"),
        max_length=20,
        required=False,
        help_text=_("For example 500/s; empty uses the default."),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = channels_of(tenant).order_by("code")
        self.fields["channel"].label_from_instance = lambda channel: f"{channel.code} · {channel.name}"

    def clean_throttle_rate(self):
        rate = self.cleaned_data["throttle_rate"].strip().lower()
        if rate and not valid_rate(rate):
            raise forms.ValidationError(_("Use a rate such as 500/s, 6000/min or off (1 to 999999999 requests)."))
        return rate


# How long a rotated key's old secret keeps working, as the page offers it: (hours, label).
OVERLAPS = ((0, _("stop it now")), (1, _("1 hour")), (24, _("1 day")), (168, _("7 days")))


@page_access("api_keys", write=True)
def api_keys(request):
    """Issue and revoke keys. The secret appears once, in the answer to the POST that created it."""
    issued = None
    if request.method == "POST" and "rotate" in request.POST:
        hours = whole_number(request.POST.get("overlap_hours", ""), max_digits=3)
        try:
            if hours is None:
                raise ValidationFailed(errors={"overlap": ["Choose how long the old secret keeps working."]})
            issued = services.rotate_api_key(
                tenant=request.tenant,
                key_id=whole_number(request.POST["rotate"], max_digits=18) or 0,
                actor=actor_from_request(request),
                overlap=timedelta(hours=hours),
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect("api-keys")
        keys = ApiKey.objects.for_tenant(request.tenant).select_related("channel").order_by("-created_at", "-id")
        response = render(
            request,
            "oms/api_keys.html",
            {"form": ApiKeyForm(tenant=request.tenant), "keys": keys, "issued": issued, "overlaps": OVERLAPS},
        )
        response["Cache-Control"] = "no-store"
        return response
    if request.method == "POST" and "revoke" in request.POST:
        try:
            key = services.revoke_api_key(
                tenant=request.tenant, key_id=int(request.POST["revoke"]), actor=actor_from_request(request)
            )
            messages.success(request, _("The key “%(label)s” was revoked.") % {"label": key.label})
        except (DomainError, ValueError):
            messages.error(request, _("No such key."))
        return redirect("api-keys")
    form = ApiKeyForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_api_key(
                tenant=request.tenant,
                actor=actor_from_request(request),
                label=form.cleaned_data["label"],
                channel=form.cleaned_data["channel"],
                throttle_rate=form.cleaned_data["throttle_rate"] or "",
            )
            form = ApiKeyForm(tenant=request.tenant)
        except DomainError:
            form.add_error("label", _("A key with this label already exists."))
    keys = ApiKey.objects.for_tenant(request.tenant).select_related("channel").order_by("-created_at", "-id")
    response = render(
        request, "oms/api_keys.html", {"form": form, "keys": keys, "issued": issued, "overlaps": OVERLAPS}
    )
    if issued is not None:
        response["Cache-Control"] = "no-store"
    return response


# --- webhooks ------------------------------------------------------------------------------------------


@page_access("webhooks")
def webhook_list(request):
    """Subscriptions and their recent deliveries; administrators may delete a subscription."""
    if request.method == "POST":
        if role_of(request) != Role.ADMIN:
            raise PermissionDenied
        try:
            webhooks.delete_subscription(
                tenant=request.tenant,
                actor=actor_from_request(request),
                subscription_id=int(request.POST.get("delete", "")),
            )
            messages.success(request, _("The subscription was deleted."))
        except (DomainError, ValueError):
            messages.error(request, _("No such subscription."))
        return redirect("webhooks")
    subscriptions = WebhookSubscription.objects.for_tenant(request.tenant).order_by("id")
    deliveries = (
        WebhookDelivery.objects.for_tenant(request.tenant)
        .select_related("event", "subscription")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")[:50]
    )
    return render(
        request,
        "oms/webhooks.html",
        {
            "subscriptions": subscriptions,
            "deliveries": deliveries,
            "can_delete": role_of(request) == Role.ADMIN,
            "demo_receiver": settings.OMS_DEMO,
        },
    )


# --- error pages ---------------------------------------------------------------------------------------


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and getattr(request, "tenant", None) is None
        and not user.is_superuser
    ):
        # Signed in, but a member of no active tenant: say so instead of blaming the role.
        return render(request, "errors/no_tenant.html", status=403)
    return render(request, "errors/403.html", status=403)


def server_error(request):
    try:
        return render(request, "errors/500.html", status=500)
    except Exception:  # the layout itself may be what is broken: answer plainly rather than fail twice
        log.exception("the 500 page could not be rendered")
        return HttpResponseServerError("Server error", content_type="text/plain")
