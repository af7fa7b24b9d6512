"""Django admin, restricted: a tenant's staff see and change only their tenant's rows; superusers see all."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from oms.models import (ApiKey, AuditEntry, Membership, OutboxEvent, Role, Tenant, User, WebhookDelivery,
                        WebhookSubscription)
from oms.permissions import role_of

ADMIN_SITE_ROLES = {Role.ADMIN, Role.BACK_OFFICE}


def _admin_site_permission(request):
    user = request.user
    if not (user.is_active and user.is_authenticated):
        return False
    return user.is_superuser or role_of(request) in ADMIN_SITE_ROLES


admin.site.has_permission = _admin_site_permission


class TenantScopedAdmin(admin.ModelAdmin):
    """Rows of the signed-in user's current tenant only; new rows get that tenant; choices stay in it.

    Tenant admins may add, change and delete; back-office staff may view and change, unless the model
    admin says otherwise with `back_office_can_change = False`.
    """

    back_office_can_change = True
    readonly_for_tenant_staff: tuple = ()

    def get_queryset(self, request):
        queryset = self.model.all_tenants.all()
        if request.user.is_superuser:
            return queryset
        if request.tenant is None:
            return queryset.none()
        return queryset.filter(tenant=request.tenant)

    def _role(self, request):
        return role_of(request)

    def has_module_permission(self, request):
        return request.user.is_superuser or self._role(request) in ADMIN_SITE_ROLES

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._owns(request, obj)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        role = self._role(request)
        allowed = role == Role.ADMIN or (role == Role.BACK_OFFICE and self.back_office_can_change)
        return allowed and self._owns(request, obj)

    def has_add_permission(self, request):
        return request.user.is_superuser or self._role(request) == Role.ADMIN

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser or (self._role(request) == Role.ADMIN and self._owns(request, obj))

    def _owns(self, request, obj):
        return obj is None or request.user.is_superuser or obj.tenant_id == getattr(request.tenant, "id", None)

    def save_model(self, request, obj, form, change):
        if not change and not obj.tenant_id:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "all_tenants") and not request.user.is_superuser and request.tenant is not None:
            kwargs["queryset"] = related.all_tenants.filter(tenant=request.tenant)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "all_tenants") and not request.user.is_superuser and request.tenant is not None:
            kwargs["queryset"] = related.all_tenants.filter(tenant=request.tenant)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and "tenant" not in filters:
            filters.insert(0, "tenant")
        return filters


class ReadOnlyTenantAdmin(TenantScopedAdmin):
    """Records (audit, events): viewable, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "default_currency", "timezone", "active")
    search_fields = ("slug", "name")

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = \
        lambda self, request, obj=None: request.user.is_superuser


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = ((None, {"fields": ("email", "password", "full_name")}),
                 (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}))
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ("is_active", "is_superuser")

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = \
        lambda self, request, obj=None: request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "role", "tenant")
    list_filter = ("role",)
    search_fields = ("user__email",)
    filter_horizontal = ("locations",)
    back_office_can_change = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # Tenant admins pick among their tenant's people; new people come from create_user.
            kwargs["queryset"] = User.objects.filter(memberships__tenant=request.tenant).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyTenantAdmin):
    list_display = ("label", "prefix", "channel", "created_at", "last_used_at", "revoked_at")
    search_fields = ("label", "prefix")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyTenantAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_repr", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_repr", "object_id")
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_superuser or self._role(request) == Role.ADMIN


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "topic", "created_at", "published_at", "processed_at", "attempts")
    list_filter = ("topic",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantScopedAdmin):
    list_display = ("url", "active", "created_at")
    readonly_fields = ("events",)
    back_office_can_change = False

    def has_add_permission(self, request):
        return False  # created through the API, which shows the secret once


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "subscription", "event", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status",)
