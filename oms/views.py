"""Platform pages: sign-in, home, tenant switcher, audit trail, API keys and webhooks settings."""
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms import services
from oms.actors import actor_from_request
from oms.errors import DomainError
from oms.middleware import SESSION_TENANT_KEY
from oms.models import ApiKey, AuditEntry, WebhookDelivery, WebhookSubscription
from oms.permissions import ADMIN_ONLY, ALL_ROLES, STAFF_ROLES, register_nav, role_required

register_nav(_("Home"), "home", ALL_ROLES, order=0)
register_nav(_("Audit trail"), "audit-log", ADMIN_ONLY, order=900)
register_nav(_("API keys"), "api-keys", ADMIN_ONLY, order=910)
register_nav(_("Webhooks"), "webhooks", STAFF_ROLES, order=920)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True,
                                                                                "autocomplete": "email"}))


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@role_required()
def home(request):
    return render(request, "home.html", {"tiles": home_tiles(request)})


_HOME_TILES = []


def register_home_tile(provider) -> None:
    """Apps add a tile to the home page: provider(request) returns a dict (title, value, url) or None."""
    if provider not in _HOME_TILES:
        _HOME_TILES.append(provider)


def home_tiles(request):
    return [tile for tile in (provider(request) for provider in _HOME_TILES) if tile]


@require_POST
def switch_tenant(request):
    if not request.user.is_authenticated:
        return redirect("login")
    wanted = request.POST.get("tenant")
    membership = next((m for m in getattr(request, "user_memberships", []) if str(m.tenant_id) == wanted), None)
    if membership is None:
        return HttpResponseBadRequest(_("You are not a member of that tenant."))
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    messages.success(request, _("You are now working in %(tenant)s.") % {"tenant": membership.tenant.name})
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@role_required(*ADMIN_ONLY)
def audit_log(request):
    entries = AuditEntry.objects.for_tenant(request.tenant).select_related("user", "api_key")
    query = request.GET.get("q", "").strip()
    action = request.GET.get("action", "").strip()
    if query:
        entries = entries.filter(object_repr__icontains=query) | entries.filter(actor_label__icontains=query)
    if action:
        entries = entries.filter(action=action)
    actions = (AuditEntry.objects.for_tenant(request.tenant).order_by("action")
               .values_list("action", flat=True).distinct())
    page = Paginator(entries.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "oms/audit_log.html", {"page": page, "query": query, "action": action,
                                                  "actions": list(actions)})


class ApiKeyForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False,
                                     help_text=_("Calls made with a channel key act for that channel."))
    throttle_rate = forms.RegexField(label=_("Throttle rate"), regex=r"^(off|\d+/(s|sec|m|min|h|hour|d|day))$",
                                     required=False, help_text=_("For example 500/s; empty uses the default."))

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        from django.apps import apps

        self.fields["channel"].queryset = apps.get_model("channels", "Channel").objects.for_tenant(tenant)


@role_required(*ADMIN_ONLY)
def api_keys(request):
    issued = None
    form = ApiKeyForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and "revoke" in request.POST:
        try:
            services.revoke_api_key(tenant=request.tenant, key_id=int(request.POST["revoke"]),
                                    actor=actor_from_request(request))
            messages.success(request, _("The key was revoked."))
        except (DomainError, ValueError):
            messages.error(request, _("No such key."))
        return redirect("api-keys")
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_api_key(tenant=request.tenant, actor=actor_from_request(request),
                                             label=form.cleaned_data["label"], channel=form.cleaned_data["channel"],
                                             throttle_rate=form.cleaned_data["throttle_rate"] or "")
            form = ApiKeyForm(tenant=request.tenant)
        except DomainError as exc:
            form.add_error("label", exc.detail)
    keys = ApiKey.objects.for_tenant(request.tenant).select_related("channel").order_by("-created_at")
    return render(request, "oms/api_keys.html", {"form": form, "keys": keys, "issued": issued})


@role_required(*STAFF_ROLES)
def webhook_list(request):
    subscriptions = WebhookSubscription.objects.for_tenant(request.tenant).order_by("id")
    deliveries = (WebhookDelivery.objects.for_tenant(request.tenant).select_related("event", "subscription")
                  .prefetch_related("attempt_log").order_by("-created_at")[:50])
    return render(request, "oms/webhooks.html", {"subscriptions": subscriptions, "deliveries": deliveries})


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    return render(request, "errors/500.html", status=500)
