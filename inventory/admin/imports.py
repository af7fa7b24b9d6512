"""Back-office admin for CSV stock imports: the jobs and the rows they refused, read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.admin.base import page_link
from inventory.models import StockImportJob, StockImportRejection
from oms.admin import ReadOnlyTenantAdmin


@admin.register(StockImportJob)
class StockImportJobAdmin(ReadOnlyTenantAdmin):
    list_display = (
        "file_name",
        "mode",
        "status",
        "total_rows",
        "processed_rows",
        "accepted",
        "rejected",
        "created_at",
        "finished_at",
        "actor_label",
    )
    list_filter = ("status", "mode")
    search_fields = ("file_name", "actor_label")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    # The file itself (`content`) stays out: it can be 20 MB.
    fields = (
        "file_name",
        "mode",
        "status",
        "as_of",
        "total_rows",
        "processed_rows",
        "accepted",
        "rejected",
        "rejected_rows",
        "failure",
        "actor_label",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "page",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj):
        if not obj.rejected:
            return "—"
        url = reverse("admin:inventory_stockimportrejection_changelist") + f"?job__id__exact={obj.id}"
        return page_link(
            url, ngettext("%(count)d rejected row", "%(count)d rejected rows", obj.rejected) % {"count": obj.rejected}
        )

    @admin.display(description=_("import page"))
    def page(self, obj):
        return page_link(reverse("inventory:import", args=[obj.id]))


@admin.register(StockImportRejection)
class StockImportRejectionAdmin(ReadOnlyTenantAdmin):
    list_display = ("job", "line", "sku", "location", "quantity", "reason")
    search_fields = ("sku", "location", "reason")
    ordering = ("-job_id", "line")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("job").defer("job__content")
