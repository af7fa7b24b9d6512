"""Back-office admin for the catalog, the network and stock.

Products and locations are edited here through the same services as the API (validated, audited). Stock
quantities are never typed in: on_hand changes through movements, reserved through reservations; the admin
shows them read-only and changes only the safety stock, through its service. Lots and reserved lots are records:
read-only.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from inventory import services
from inventory.admin.base import ServiceErrorsAsMessages, ServiceSavedAdmin, run_service
from inventory.models import Location, Lot, Product, Reservation, ReservationLot, StockLevel, StockMovement
from inventory.reservations import release
from inventory.services import LOCATION_FIELDS, PRODUCT_FIELDS
from oms.actors import actor_from_request
from oms.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline, TenantScopedAdmin
from oms.errors import ReservationOwnedByOrder


@admin.register(Product)
class ProductAdmin(ServiceSavedAdmin):
    list_display = ("sku", "name", "barcode", "active", "tracks_lots", "updated_at")
    list_filter = ("active", "tracks_lots")
    search_fields = ("sku", "name", "barcode")
    fields = ("sku", *PRODUCT_FIELDS)
    service_fields = PRODUCT_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return ("sku",) if obj is not None else ()

    def save_with_service(self, *, tenant, actor, obj, data, change, initial):
        if change:
            return run_service(lambda: services.update_product(tenant=tenant, actor=actor, sku=obj.sku, changes=data))
        return run_service(lambda: services.create_product(tenant=tenant, actor=actor, sku=obj.sku, **data))


@admin.register(Location)
class LocationAdmin(ServiceSavedAdmin):
    list_display = ("code", "name", "kind", "ships", "pickup", "accepts_returns", "active")
    list_filter = ("kind", "active", "pickup", "ships")
    search_fields = ("code", "name")
    fields = ("code", *LOCATION_FIELDS)
    service_fields = LOCATION_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_with_service(self, *, tenant, actor, obj, data, change, initial):
        if change:
            return run_service(
                lambda: services.update_location(tenant=tenant, actor=actor, code=obj.code, changes=data)
            )
        return run_service(lambda: services.create_location(tenant=tenant, actor=actor, code=obj.code, **data))


class LotInline(ReadOnlyTenantInline):
    model = Lot
    fields = ("code", "expires_on", "on_hand", "reserved")
    readonly_fields = fields


class MovementInline(ReadOnlyTenantInline):
    model = StockMovement
    fields = ("occurred_at", "kind", "quantity", "sellable", "lot", "reason", "reference", "actor_label")
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")


@admin.register(StockLevel)
class StockLevelAdmin(ServiceErrorsAsMessages, TenantScopedAdmin):
    list_display = (
        "product",
        "location",
        "on_hand",
        "reserved",
        "safety_stock",
        "bin",
        "available",
        "non_sellable",
        "updated_at",
    )
    list_select_related = ("product", "location")
    list_filter = ("location",)
    search_fields = ("product__sku", "product__name", "location__code")
    fields = ("product", "location", "on_hand", "reserved", "safety_stock", "non_sellable", "bin", "updated_at")
    readonly_fields = ("product", "location", "on_hand", "reserved", "non_sellable", "updated_at")
    inlines = (LotInline, MovementInline)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        run_service(
            lambda: services.set_safety_stock(
                tenant=obj.tenant,
                actor=actor_from_request(request),
                level=obj,
                safety_stock=form.cleaned_data["safety_stock"],
            )
        )
        run_service(
            lambda: services.set_bin(
                tenant=obj.tenant, actor=actor_from_request(request), level=obj, bin=form.cleaned_data.get("bin")
            )
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyTenantAdmin):
    list_display = (
        "occurred_at",
        "stock_level",
        "kind",
        "quantity",
        "sellable",
        "lot",
        "reason",
        "reference",
        "actor_label",
    )
    list_select_related = ("stock_level__product", "stock_level__location", "lot")
    list_filter = ("kind", "sellable")
    search_fields = ("stock_level__product__sku", "reference", "reason")


class ReservationLotInline(ReadOnlyTenantInline):
    model = ReservationLot
    fields = ("lot", "quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "stock_level", "channel", "quantity", "status", "reference", "expires_at", "created_at")
    list_select_related = ("stock_level__product", "stock_level__location", "channel")
    list_filter = ("status", "channel")
    search_fields = ("stock_level__product__sku", "reference")
    inlines = (ReservationLotInline,)
    actions = ("release_reservations",)

    def has_release_permission(self, request):
        return self.has_module_permission(request)

    @admin.action(description=_("Release the selected reservations"), permissions=["release"])
    def release_reservations(self, request, queryset):
        """Cart and API holds only: a reservation held for an order line changes through the order."""
        released = 0
        for reservation in queryset.filter(status=Reservation.Status.ACTIVE):
            try:
                services.check_not_owned_by_order(tenant=reservation.tenant, reservation=reservation)
            except ReservationOwnedByOrder as refused:
                self.message_user(request, f"{reservation}: {refused.detail}", messages.ERROR)
                continue
            if release(tenant=reservation.tenant, reservation=reservation):
                released += 1
        self.message_user(request, _("%(count)d reservation(s) released.") % {"count": released})


# Stock operations: transfers, counts, alert rules, imports, lots.


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
