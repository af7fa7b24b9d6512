"""Back-office admin for channels and their sourcing pools (saved through the channel services, audited)."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from channels import services
from channels.models import Channel, ChannelLocation
from oms.actors import actor_from_request
from oms.admin import ReadOnlyTenantAdmin, TenantScopedAdmin
from oms.errors import DomainError


class ChannelForm(forms.ModelForm):
    pool = forms.CharField(
        label=_("Sourcing pool"),
        required=False,
        help_text=_("Location codes, comma-separated, highest priority first."),
    )

    class Meta:
        model = Channel
        fields = (
            "code",
            "name",
            "kind",
            "active",
            "buffer",
            "buffer_kind",
            "reservation_ttl",
            "allow_backorders",
            "min_shelf_life_days",
            "return_window_days",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["pool"].initial = ", ".join(
                services.pool_codes(services.channel_by_code(tenant=self.instance.tenant, code=self.instance.code))
            )


class _Refused(Exception):
    pass


@admin.register(Channel)
class ChannelAdmin(TenantScopedAdmin):
    form = ChannelForm
    list_display = ("code", "name", "kind", "active", "buffer", "buffer_kind", "reservation_ttl", "allow_backorders")
    list_filter = ("kind", "active", "allow_backorders")
    search_fields = ("code", "name")
    fields = (
        "code",
        "name",
        "kind",
        "active",
        "pool",
        "buffer",
        "buffer_kind",
        "reservation_ttl",
        "allow_backorders",
        "min_shelf_life_days",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_form(self, request, form, change):
        return form.save(commit=False)

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k in services.CHANNEL_FIELDS}
        data["locations"] = [c.strip() for c in form.cleaned_data.get("pool", "").split(",") if c.strip()]
        actor = actor_from_request(request)
        try:
            if change:
                saved = services.update_channel(tenant=obj.tenant, actor=actor, code=obj.code, changes=data)
            else:
                saved = services.create_channel(tenant=request.tenant, actor=actor, code=obj.code, **data)
        except DomainError as exc:
            errors = exc.extra.get("errors") or {}
            raise _Refused(exc.detail + "".join(f" {k}: {' '.join(map(str, v))}" for k, v in errors.items())) from None
        obj.pk, obj.tenant = saved.pk, saved.tenant

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(ChannelLocation)
class ChannelLocationAdmin(ReadOnlyTenantAdmin):
    """The sourcing pools, read-only (a pool is edited on its channel): which channels sell from a location."""

    list_display = ("channel", "location", "priority")
    list_select_related = ("channel", "location")
    list_filter = ("channel", "location")
    search_fields = ("channel__code", "location__code", "location__name")
    ordering = ("channel__code", "priority", "id")
