"""Back-office admin for the stock operations: transfers, cycle counts, low-stock alert rules, CSV imports, lots.

Imported at the end of inventory/admin.py. Transfers and counts are created and worked on their pages (and the
API); here they are listed, searched and read, and moved on through admin actions that call the same services
(a refused step shows as a message). Alert rules are saved and deleted through their service (validated,
audited, evaluated at once); their state (low or not, last available) is read-only. Import jobs, rejected
rows, lots, count lines and pool entries are records: read-only.
"""
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory import alerts, counts, transfers
from inventory.admin import ServiceSavedAdmin, _run
from inventory.models import (CycleCount, CycleCountLine, Lot, ReservationLot, StockAlertRule, StockImportJob,
                              StockImportRejection, Transfer, TransferLine)
from oms.actors import actor_from_request
from oms.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline
from oms.errors import DomainError, NotFound


def _page_link(url: str, label=_("open the page")):
    return format_html('<a href="{}">{}</a>', url, label)


def _run_on_each(model_admin, request, queryset, call, done_message):
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


# --- transfers ------------------------------------------------------------------------------------------------

class TransferLineInline(ReadOnlyTenantInline):
    model = TransferLine
    fields = ("product", "quantity", "received_quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyTenantAdmin):
    list_display = ("number", "source", "destination", "status", "line_count", "created_at", "shipped_at",
                    "received_at", "created_by")
    list_select_related = ("source", "destination")
    list_filter = ("status", "source", "destination")
    search_fields = ("number", "note", "lines__product__sku")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = ("number", "status", "source", "destination", "note", "created_by", "created_at", "shipped_at",
              "received_at", "cancelled_at", "page")
    readonly_fields = fields
    inlines = (TransferLineInline,)
    actions = ("ship_transfers", "receive_transfers_in_full", "cancel_transfers")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, obj):
        return obj.line_total

    @admin.display(description=_("transfer page"))
    def page(self, obj):
        return _page_link(reverse("inventory:transfer", args=[obj.id]))

    def has_operate_permission(self, request):
        return self.has_module_permission(request)

    @admin.action(description=_("Ship the selected draft transfers"), permissions=["operate"])
    def ship_transfers(self, request, queryset):
        _run_on_each(self, request, queryset.filter(status=Transfer.Status.DRAFT),
                     lambda t, actor: transfers.ship_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
                     lambda n: ngettext("%(count)d transfer shipped.", "%(count)d transfers shipped.", n)
                     % {"count": n})

    @admin.action(description=_("Receive the selected transfers in full"), permissions=["operate"])
    def receive_transfers_in_full(self, request, queryset):
        _run_on_each(self, request, queryset.filter(status=Transfer.Status.IN_TRANSIT),
                     lambda t, actor: transfers.receive_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
                     lambda n: ngettext("%(count)d transfer received.", "%(count)d transfers received.", n)
                     % {"count": n})

    @admin.action(description=_("Cancel the selected draft transfers"), permissions=["operate"])
    def cancel_transfers(self, request, queryset):
        _run_on_each(self, request, queryset.filter(status=Transfer.Status.DRAFT),
                     lambda t, actor: transfers.cancel_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
                     lambda n: ngettext("%(count)d transfer cancelled.", "%(count)d transfers cancelled.", n)
                     % {"count": n})


@admin.register(TransferLine)
class TransferLineAdmin(ReadOnlyTenantAdmin):
    list_display = ("transfer", "product", "quantity", "received_quantity")
    list_select_related = ("transfer", "product")
    list_filter = ("transfer__status",)
    search_fields = ("transfer__number", "product__sku", "product__name")
    ordering = ("-transfer_id", "id")


# --- cycle counts ---------------------------------------------------------------------------------------------

class CycleCountLineInline(ReadOnlyTenantInline):
    model = CycleCountLine
    fields = ("product", "lot_code", "expires_on", "counted", "counted_at", "expected", "variance", "posted_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(CycleCount)
class CycleCountAdmin(ReadOnlyTenantAdmin):
    list_display = ("number", "location", "status", "line_count", "created_at", "completed_at", "created_by",
                    "completed_by")
    list_select_related = ("location",)
    list_filter = ("status", "location")
    search_fields = ("number", "note", "lines__product__sku")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = ("number", "status", "location", "note", "created_by", "created_at", "completed_by", "completed_at",
              "page")
    readonly_fields = fields
    inlines = (CycleCountLineInline,)
    actions = ("cancel_counts",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, obj):
        return obj.line_total

    @admin.display(description=_("count page"))
    def page(self, obj):
        return _page_link(reverse("inventory:count", args=[obj.id]))

    def has_operate_permission(self, request):
        return self.has_module_permission(request)

    @admin.action(description=_("Cancel the selected open counts"), permissions=["operate"])
    def cancel_counts(self, request, queryset):
        _run_on_each(self, request, queryset.filter(status=CycleCount.Status.OPEN),
                     lambda c, actor: counts.cancel_count(tenant=c.tenant, actor=actor, count_id=c.id),
                     lambda n: ngettext("%(count)d count cancelled.", "%(count)d counts cancelled.", n)
                     % {"count": n})


@admin.register(CycleCountLine)
class CycleCountLineAdmin(ReadOnlyTenantAdmin):
    """Posted lines are what stock accuracy is measured on: filter by location and look at the variances."""

    list_display = ("count", "location", "product", "lot_code", "counted", "expected", "variance", "posted_at")
    list_select_related = ("count", "location", "product")
    list_filter = ("location", "count__status")
    search_fields = ("count__number", "product__sku", "lot_code")
    date_hierarchy = "posted_at"
    ordering = ("-count_id", "id")


# --- low-stock alert rules ------------------------------------------------------------------------------------

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
        return _run(lambda: alerts.save_rule(
            tenant=tenant, actor=actor, sku=obj.product.sku, threshold=data["threshold"],
            location_code=obj.location.code if obj.location_id else "",
            channel_code=obj.channel.code if obj.channel_id else ""))

    def delete_model(self, request, obj):
        try:
            alerts.delete_rule(tenant=obj.tenant, actor=actor_from_request(request), rule_id=obj.id)
        except NotFound:
            pass  # deleted meanwhile: the outcome asked for

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            self.delete_model(request, rule)


# --- CSV imports ----------------------------------------------------------------------------------------------

@admin.register(StockImportJob)
class StockImportJobAdmin(ReadOnlyTenantAdmin):
    list_display = ("file_name", "mode", "status", "total_rows", "processed_rows", "accepted", "rejected",
                    "created_at", "finished_at", "actor_label")
    list_filter = ("status", "mode")
    search_fields = ("file_name", "actor_label")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    # The file itself (`content`) stays out: it can be 20 MB.
    fields = ("file_name", "mode", "status", "as_of", "total_rows", "processed_rows", "accepted", "rejected",
              "rejected_rows", "failure", "actor_label", "created_at", "started_at", "heartbeat_at", "finished_at",
              "page")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj):
        if not obj.rejected:
            return "—"
        url = reverse("admin:inventory_stockimportrejection_changelist") + f"?job__id__exact={obj.id}"
        return _page_link(url, ngettext("%(count)d rejected row", "%(count)d rejected rows", obj.rejected)
                          % {"count": obj.rejected})

    @admin.display(description=_("import page"))
    def page(self, obj):
        return _page_link(reverse("inventory:import", args=[obj.id]))


@admin.register(StockImportRejection)
class StockImportRejectionAdmin(ReadOnlyTenantAdmin):
    list_display = ("job", "line", "sku", "location", "quantity", "reason")
    search_fields = ("sku", "location", "reason")
    ordering = ("-job_id", "line")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("job").defer("job__content")


# --- lots and reserved lots -----------------------------------------------------------------------------------

@admin.register(Lot)
class LotAdmin(ReadOnlyTenantAdmin):
    list_display = ("code", "product", "location", "expires_on", "on_hand", "reserved")
    list_select_related = ("stock_level__product", "stock_level__location")
    list_filter = ("expires_on", "stock_level__location")
    search_fields = ("code", "stock_level__product__sku", "stock_level__location__code")
    date_hierarchy = "expires_on"
    ordering = ("expires_on", "id")

    @admin.display(description=_("product"), ordering="stock_level__product__sku")
    def product(self, obj):
        return obj.stock_level.product

    @admin.display(description=_("location"), ordering="stock_level__location__code")
    def location(self, obj):
        return obj.stock_level.location


@admin.register(ReservationLot)
class ReservationLotAdmin(ReadOnlyTenantAdmin):
    list_display = ("reservation", "lot", "quantity", "status")
    list_select_related = ("reservation", "lot")
    list_filter = ("reservation__status",)
    search_fields = ("lot__code", "reservation__reference", "reservation__stock_level__product__sku")
    ordering = ("-reservation_id", "id")

    @admin.display(description=_("status"), ordering="reservation__status")
    def status(self, obj):
        return obj.reservation.get_status_display()
