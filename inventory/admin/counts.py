"""Back-office admin for cycle counts.

Counts are taken on their pages (and the API); here they are listed and read, and an open count can be cancelled
through the counts service. Count lines are records: read-only.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory import counts
from inventory.admin.base import StockDocumentAdmin, page_link, run_on_each
from inventory.models import CycleCount, CycleCountLine
from oms.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline


class CycleCountLineInline(ReadOnlyTenantInline):
    model = CycleCountLine
    fields = ("product", "lot_code", "expires_on", "counted", "counted_at", "expected", "variance", "posted_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(CycleCount)
class CycleCountAdmin(StockDocumentAdmin, ReadOnlyTenantAdmin):
    list_display = (
        "number",
        "location",
        "status",
        "line_count",
        "created_at",
        "completed_at",
        "created_by",
        "completed_by",
    )
    list_select_related = ("location",)
    list_filter = ("status", "location")
    search_fields = ("number", "note", "lines__product__sku")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = (
        "number",
        "status",
        "location",
        "note",
        "created_by",
        "created_at",
        "completed_by",
        "completed_at",
        "page",
    )
    readonly_fields = fields
    inlines = (CycleCountLineInline,)
    actions = ("cancel_counts",)

    @admin.display(description=_("count page"))
    def page(self, obj):
        return page_link(reverse("inventory:count", args=[obj.id]))

    @admin.action(description=_("Cancel the selected open counts"), permissions=["operate"])
    def cancel_counts(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset.filter(status=CycleCount.Status.OPEN),
            lambda c, actor: counts.cancel_count(tenant=c.tenant, actor=actor, count_id=c.id),
            lambda n: ngettext("%(count)d count cancelled.", "%(count)d counts cancelled.", n) % {"count": n},
        )


@admin.register(CycleCountLine)
class CycleCountLineAdmin(ReadOnlyTenantAdmin):
    """Posted lines are what stock accuracy is measured on: filter by location and look at the variances."""

    list_display = ("count", "location", "product", "lot_code", "counted", "expected", "variance", "posted_at")
    list_select_related = ("count", "location", "product")
    list_filter = ("location", "count__status")
    search_fields = ("count__number", "product__sku", "lot_code")
    date_hierarchy = "posted_at"
    ordering = ("-count_id", "id")
