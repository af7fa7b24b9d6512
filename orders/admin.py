"""Admin: orders and invoices are records (changed only through the services and pages); customers are editable."""

from django.contrib import admin

from oms.admin import ReadOnlyTenantAdmin, TenantScopedAdmin
from orders.models import Customer, Invoice, InvoiceLine, Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = (
        "line_number",
        "sku",
        "status",
        "quantity",
        "quantity_allocated",
        "quantity_backordered",
        "quantity_shipped",
        "quantity_delivered",
        "quantity_cancelled",
        "quantity_returned",
        "unit_price",
        "discount",
        "tax",
        "total",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor_label", "kind", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyTenantAdmin):
    list_display = ("number", "channel", "external_ref", "status", "customer", "total", "currency", "placed_at")
    list_filter = ("status", "delivery_method")
    search_fields = ("number", "external_ref", "customer__email")
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel", "customer")


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("sku", "description", "quantity", "unit_price", "discount", "tax_rate", "tax", "total")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyTenantAdmin):
    list_display = ("number", "kind", "order", "issued_at", "total", "currency")
    list_filter = ("kind",)
    search_fields = ("number", "order__number")
    inlines = [InvoiceLineInline]


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ("email", "name", "phone", "created_at")
    search_fields = ("email", "name")

    def get_readonly_fields(self, request, obj=None):
        # Erasure is the privacy service's alone (orders.services.privacy), and an erased customer gets no personal
        # data back. Orders find their customer by e-mail: it is typed once, when the customer is added, and kept.
        if obj is not None and obj.erased_at is not None:
            return ("email", "name", "phone", "erased_at", "erased_by")
        return ("email", "erased_at", "erased_by") if obj is not None else ("erased_at", "erased_by")
