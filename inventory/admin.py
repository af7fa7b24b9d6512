"""Back-office admin for the catalog, the network and stock.

Products and locations are edited here through the same services as the API (validated, audited). Stock
quantities are never typed in: on_hand changes through movements, reserved through reservations; the admin
shows them read-only and changes only the safety stock, through its service.
"""
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from inventory import services
from inventory.models import Location, Lot, Product, Reservation, ReservationLot, StockLevel, StockMovement
from inventory.reservations import release
from oms.actors import actor_from_request
from oms.api.parsers import unstorable_text_paths
from oms.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline, TenantScopedAdmin
from oms.errors import DomainError, ReservationOwnedByOrder


class ServiceErrorsAsMessages:
    """A refusal from a service (bad value, conflict) rolls the save back and shows as a message."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _ServiceRefused as refused:
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
            raise _ServiceRefused("; ".join(f"{path}: {message}" for path, message in refused))
        saved = self.save_with_service(tenant=tenant, actor=actor, obj=obj, data=data, change=change,
                                       initial=form.initial)
        obj.pk, obj.tenant = saved.pk, saved.tenant


class _ServiceRefused(Exception):
    def __init__(self, detail):
        self.detail = detail


def _run(call):
    try:
        return call()
    except DomainError as exc:
        errors = exc.extra.get("errors") or {}
        detail = exc.detail + (" " + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
                               if errors else "")
        raise _ServiceRefused(detail) from None


@admin.register(Product)
class ProductAdmin(ServiceSavedAdmin):
    list_display = ("sku", "name", "barcode", "active", "tracks_lots", "updated_at")
    list_filter = ("active", "tracks_lots")
    search_fields = ("sku", "name", "barcode")
    fields = ("sku", "name", "barcode", "active", "weight_grams", "attributes", "tracks_lots")
    service_fields = ("name", "barcode", "active", "weight_grams", "attributes", "tracks_lots")

    def get_readonly_fields(self, request, obj=None):
        return ("sku",) if obj is not None else ()

    def save_with_service(self, *, tenant, actor, obj, data, change, initial):
        if change:
            return _run(lambda: services.update_product(tenant=tenant, actor=actor, sku=obj.sku, changes=data))
        return _run(lambda: services.create_product(tenant=tenant, actor=actor, sku=obj.sku, **data))


@admin.register(Location)
class LocationAdmin(ServiceSavedAdmin):
    list_display = ("code", "name", "kind", "ships", "pickup", "accepts_returns", "active")
    list_filter = ("kind", "active", "pickup", "ships")
    search_fields = ("code", "name")
    fields = ("code", "name", "kind", "address", "latitude", "longitude", "timezone", "ships", "pickup",
              "accepts_returns", "daily_capacity", "cutoff_time", "opening_hours", "active")
    service_fields = fields[1:]

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_with_service(self, *, tenant, actor, obj, data, change, initial):
        if change:
            return _run(lambda: services.update_location(tenant=tenant, actor=actor, code=obj.code, changes=data))
        return _run(lambda: services.create_location(tenant=tenant, actor=actor, code=obj.code, **data))


class LotInline(ReadOnlyTenantInline):
    model = Lot
    fields = ("code", "expires_on", "on_hand", "reserved")
    readonly_fields = fields


class MovementInline(ReadOnlyTenantInline):
    model = StockMovement
    fields = ("occurred_at", "kind", "quantity", "lot", "reason", "reference", "actor_label")
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")


@admin.register(StockLevel)
class StockLevelAdmin(ServiceErrorsAsMessages, TenantScopedAdmin):
    list_display = ("product", "location", "on_hand", "reserved", "safety_stock", "available", "updated_at")
    list_select_related = ("product", "location")
    list_filter = ("location",)
    search_fields = ("product__sku", "product__name", "location__code")
    fields = ("product", "location", "on_hand", "reserved", "safety_stock", "updated_at")
    readonly_fields = ("product", "location", "on_hand", "reserved", "updated_at")
    inlines = (LotInline, MovementInline)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        _run(lambda: services.set_safety_stock(tenant=obj.tenant, actor=actor_from_request(request), level=obj,
                                               safety_stock=form.cleaned_data["safety_stock"]))


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyTenantAdmin):
    list_display = ("occurred_at", "stock_level", "kind", "quantity", "lot", "reason", "reference", "actor_label")
    list_select_related = ("stock_level__product", "stock_level__location", "lot")
    list_filter = ("kind",)
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
from inventory import admin_ops  # noqa: E402,F401
