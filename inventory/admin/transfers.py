"""Back-office admin for transfers between locations.

Transfers are created and worked on their pages (and the API); here they are listed, searched and read, and moved
on through admin actions that call the same services (a refused step shows as a message). Lines are read-only.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory import transfers
from inventory.admin.base import StockDocumentAdmin, page_link, run_on_each
from inventory.models import Transfer, TransferLine
from oms.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline


class TransferLineInline(ReadOnlyTenantInline):
    model = TransferLine
    fields = ("product", "quantity", "received_quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Transfer)
class TransferAdmin(StockDocumentAdmin, ReadOnlyTenantAdmin):
    list_display = (
        "number",
        "source",
        "destination",
        "status",
        "line_count",
        "created_at",
        "shipped_at",
        "received_at",
        "created_by",
    )
    list_select_related = ("source", "destination")
    list_filter = ("status", "source", "destination")
    search_fields = ("number", "note", "lines__product__sku")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    fields = (
        "number",
        "status",
        "source",
        "destination",
        "note",
        "created_by",
        "created_at",
        "shipped_at",
        "received_at",
        "cancelled_at",
        "page",
    )
    readonly_fields = fields
    inlines = (TransferLineInline,)
    actions = ("ship_transfers", "receive_transfers_in_full", "cancel_transfers")

    @admin.display(description=_("transfer page"))
    def page(self, obj):
        return page_link(reverse("inventory:transfer", args=[obj.id]))

    @admin.action(description=_("Ship the selected draft transfers"), permissions=["operate"])
    def ship_transfers(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset.filter(status=Transfer.Status.DRAFT),
            lambda t, actor: transfers.ship_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
            lambda n: ngettext("%(count)d transfer shipped.", "%(count)d transfers shipped.", n) % {"count": n},
        )

    @admin.action(description=_("Receive the selected transfers in full"), permissions=["operate"])
    def receive_transfers_in_full(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset.filter(status=Transfer.Status.IN_TRANSIT),
            lambda t, actor: transfers.receive_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
            lambda n: ngettext("%(count)d transfer received.", "%(count)d transfers received.", n) % {"count": n},
        )

    @admin.action(description=_("Cancel the selected draft transfers"), permissions=["operate"])
    def cancel_transfers(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset.filter(status=Transfer.Status.DRAFT),
            lambda t, actor: transfers.cancel_transfer(tenant=t.tenant, actor=actor, transfer_id=t.id),
            lambda n: ngettext("%(count)d transfer cancelled.", "%(count)d transfers cancelled.", n) % {"count": n},
        )


@admin.register(TransferLine)
class TransferLineAdmin(ReadOnlyTenantAdmin):
    list_display = ("transfer", "product", "quantity", "received_quantity")
    list_select_related = ("transfer", "product")
    list_filter = ("transfer__status",)
    search_fields = ("transfer__number", "product__sku", "product__name")
    ordering = ("-transfer_id", "id")
