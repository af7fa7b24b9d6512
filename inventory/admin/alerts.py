"""Back-office admin for low-stock alert rules.

Rules are saved and deleted through their service (validated, audited, evaluated at once); their state (low or
not, last available) is read-only.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from inventory import alerts
from inventory.admin.base import ServiceSavedAdmin, run_service
from inventory.models import StockAlertRule
from oms.actors import actor_from_request
from oms.errors import NotFound


class StockAlertRuleForm(forms.ModelForm):
    class Meta:
        model = StockAlertRule
        fields = ("product", "location", "channel", "threshold")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and bool(data.get("location")) == bool(data.get("channel")):
            self.add_error("channel", _("Choose either a location or a channel."))
        return data


@admin.register(StockAlertRule)
class StockAlertRuleAdmin(ServiceSavedAdmin):
    form = StockAlertRuleForm
    list_display = ("product", "location", "channel", "threshold", "is_low", "last_available", "changed_at")
    list_select_related = ("product", "location", "channel")
    list_filter = ("is_low", "location", "channel")
    search_fields = ("product__sku", "product__name", "location__code", "channel__code")
    ordering = ("product__sku", "id")
    service_fields = ("threshold",)

    def get_fields(self, request, obj=None):
        return ("product", "location", "channel", "threshold", "is_low", "last_available", "changed_at")

    def get_readonly_fields(self, request, obj=None):
        state = ("is_low", "last_available", "changed_at")
        return ("product", "location", "channel", *state) if obj is not None else state

    def save_with_service(self, *, tenant, actor, obj, data, change, initial):
        return run_service(
            lambda: alerts.save_rule(
                tenant=tenant,
                actor=actor,
                sku=obj.product.sku,
                threshold=data["threshold"],
                location_code=obj.location.code if obj.location_id else "",
                channel_code=obj.channel.code if obj.channel_id else "",
            )
        )

    def delete_model(self, request, obj):
        try:
            alerts.delete_rule(tenant=obj.tenant, actor=actor_from_request(request), rule_id=obj.id)
        except NotFound:
            pass  # deleted meanwhile: the outcome asked for

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            self.delete_model(request, rule)
