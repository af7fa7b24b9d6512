"""What the inventory admin pages share: saving through services, and their refusals shown as messages."""

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from oms.actors import actor_from_request
from oms.admin import TenantScopedAdmin
from oms.api.parsers import unstorable_text_paths
from oms.errors import DomainError


class ServiceErrorsAsMessages:
    """A refusal from a service (bad value, conflict) rolls the save back and shows as a message."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, refused.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ServiceSavedAdmin(ServiceErrorsAsMessages, TenantScopedAdmin):
    """Saves through a create/update service so that admin edits are validated and audited like API ones."""

    service_fields: tuple = ()

    def save_form(self, request, form, change):
        return form.save(commit=False)

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        tenant = obj.tenant if change else request.tenant
        data = {name: form.cleaned_data[name] for name in self.service_fields if name in form.cleaned_data}
        # JSON typed in a field (attributes, address) may spell a NUL (\u0000) or a lone surrogate, which PostgreSQL
        # cannot store.
        refused = unstorable_text_paths(data)
        if refused:
            raise ServiceRefused("; ".join(f"{path}: {message}" for path, message in refused))
        saved = self.save_with_service(
            tenant=tenant, actor=actor, obj=obj, data=data, change=change, initial=form.initial
        )
        obj.pk, obj.tenant = saved.pk, saved.tenant


class ServiceRefused(Exception):
    """A service's refusal on its way to the admin page, where it shows as an error message."""

    def __init__(self, detail):
        self.detail = detail


def run_service(call):
    """Run a service call from an admin save; a domain error becomes ServiceRefused with its per-field messages."""
    try:
        return call()
    except DomainError as exc:
        errors = exc.extra.get("errors") or {}
        detail = exc.detail + (
            " " + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()) if errors else ""
        )
        raise ServiceRefused(detail) from None


OPEN_THE_PAGE = _("open the page")


def page_link(url: str, label=OPEN_THE_PAGE):
    """A link from an admin record to its page in the app."""
    return format_html('<a href="{}">{}</a>', url, label)


def run_on_each(model_admin, request, queryset, call, done_message):
    """Call the service for each selected row; refusals are reported with the row, the others still run."""
    actor, done = actor_from_request(request), 0
    for obj in queryset:
        try:
            call(obj, actor)
        except DomainError as exc:
            errors = exc.extra.get("errors") or {}
            texts = [str(m) for field_messages in errors.values() for m in field_messages] or [exc.detail]
            model_admin.message_user(request, f"{obj}: {' '.join(texts)}", messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message(done), messages.SUCCESS)


class StockDocumentAdmin:
    """What the admin of a stock document with lines (a transfer, a cycle count) shares: its number of lines,
    and the permission to run its actions, which call the document's services."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, obj):
        return obj.line_total

    def has_operate_permission(self, request):
        return self.has_module_permission(request)
