"""Django admin, restricted to the signed-in user's tenant.

Who may enter: superusers (operators; they see every tenant) and members whose role in their current tenant is
administrator or back office. `is_staff` plays no part for tenant staff: a tenant's administrator is not an
operator of the installation. The admin's own login page accepts the same people.

Apps register their models with `TenantScopedAdmin` (and `TenantScopedInline` for child rows) so that:
- lists, searches, filters and object URLs show the current tenant's rows only (another tenant's id behaves
  like an id that does not exist);
- foreign-key and many-to-many choices offer only rows of the object's tenant, and a posted foreign id fails
  validation;
- new rows get the current tenant;
- administrators add, change and delete; back office adds and changes (unless `back_office_can_change = False`)
  and never deletes; `ReadOnlyTenantAdmin` is for records that nobody edits by hand.
Status fields still change through services only: admin classes of stateful models mark them read-only and
call services from admin actions.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.forms.fields import InvalidJSONInput
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oms import accounts, audit, services, webhooks
from oms.actors import actor_from_request
from oms.api.parsers import MAX_DEPTH, nesting_depth
from oms.middleware import SESSION_TENANT_KEY
from oms.models import (
    ApiKey,
    AuditEntry,
    Membership,
    OutboxEvent,
    Role,
    Tenant,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.permissions import page_roles, role_of

ADMIN_SITE_ROLES = frozenset({Role.ADMIN, Role.BACK_OFFICE})


# --- the site ------------------------------------------------------------------------------------------


def admin_site_has_permission(request) -> bool:
    """Superusers, and administrators or back-office staff of the current tenant."""
    user = request.user
    if not (user.is_active and user.is_authenticated):
        return False
    return user.is_superuser or role_of(request) in ADMIN_SITE_ROLES


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's login form, allowing tenant staff instead of `is_staff` users.

    When the session's tenant is not one where the user is staff, the first tenant where they are becomes
    the current one, so that signing in here leads to the admin rather than back to this form.
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _("Please enter the correct e-mail and password of an administrator or back-office account."),
    }

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")
        if user.is_superuser:
            return
        staff_tenants = [m.tenant_id for m in services.memberships_of(user) if m.role in ADMIN_SITE_ROLES]
        if not staff_tenants:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        if self.request is not None and self.request.session.get(SESSION_TENANT_KEY) not in staff_tenants:
            self.request.session[SESSION_TENANT_KEY] = staff_tenants[0]


admin.site.has_permission = admin_site_has_permission
admin.site.login_form = AdminSignInForm
admin.site.index_title = _("Back office")


# --- building blocks for every app ---------------------------------------------------------------------


def _is_tenant_model(model) -> bool:
    return model is not None and hasattr(model, "all_tenants")


def scope_form_fields(form_class, tenant) -> None:
    """Limit every choice field that points at a tenant-owned model to `tenant`'s rows (None: no rows)."""
    for field in form_class.base_fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and _is_tenant_model(queryset.model):
            field.queryset = queryset.filter(tenant=tenant) if tenant is not None else queryset.none()


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A sidebar filter on a relation that lists the current tenant's rows only."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        if request.user.is_superuser:
            return field.get_choices(include_blank=False, ordering=ordering)
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return []
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to={"tenant": tenant})


class TenantPermissions:
    """Role-based permissions shared by model admins and inlines."""

    back_office_can_change = True

    @staticmethod
    def _role(request):
        return role_of(request)

    @staticmethod
    def _owns(request, obj) -> bool:
        return obj is None or request.user.is_superuser or obj.tenant_id == getattr(request.tenant, "id", None)

    def has_module_permission(self, request):
        return request.user.is_superuser or self._role(request) in ADMIN_SITE_ROLES

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._owns(request, obj)

    def _may_edit(self, request) -> bool:
        role = self._role(request)
        return role == Role.ADMIN or (role == Role.BACK_OFFICE and self.back_office_can_change)

    def has_add_permission(self, request, obj=None):
        if request.user.is_superuser:
            # An operator adds rows in the tenant they are working in; without one, there is nowhere to put them.
            return request.tenant is not None or obj is not None
        return self._may_edit(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return self._may_edit(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return self._role(request) == Role.ADMIN and self._owns(request, obj)

    def scope_queryset(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        if request.tenant is None:
            return queryset.none()
        return queryset.filter(tenant=request.tenant)


class BoundedJSONField(forms.JSONField):
    """JSON typed in a field, nested no deeper than the API accepts (oms.api.parsers.MAX_DEPTH): a deeper value is
    refused with a message, and one deep enough to exhaust the parser's recursion is refused the same way instead
    of failing the request."""

    def to_python(self, value):
        try:
            data = super().to_python(value)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = nesting_depth(data, MAX_DEPTH) > MAX_DEPTH
        if too_deep:
            message = _("Nest arrays and objects at most %(depth)s levels deep.")
            raise ValidationError(message, code="too_deep", params={"depth": MAX_DEPTH})
        return data

    def bound_data(self, data, initial):
        # The form shown again with its error reads the typed text back: as typed, when it cannot be read.
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)


# The admin's model forms take JSON fields through BoundedJSONField.
JSON_FIELDS = {models.JSONField: {"form_class": BoundedJSONField}}


def _checking_tenant_constraints(form_class, tenant):
    """The form with the tenant counted in its uniqueness checks: the tenant is no field of the form, so Django would
    skip every constraint that names it (unique per tenant) and the database would refuse the row instead (a 500).
    Set on the class the admin just built for this request (a subclass would build its fields again, without the
    admin's widgets and overrides)."""
    exclusions_of = form_class._get_validation_exclusions

    def _get_validation_exclusions(self):
        exclusions = exclusions_of(self)
        if getattr(self.instance, "tenant_id", None) is None and tenant is not None:
            self.instance.tenant = tenant
        exclusions.discard("tenant")
        return exclusions

    form_class._get_validation_exclusions = _get_validation_exclusions
    return form_class


class TenantScopedAdmin(TenantPermissions, admin.ModelAdmin):
    """Rows of the signed-in user's current tenant only; new rows get that tenant; choices stay in it."""

    formfield_overrides = JSON_FIELDS

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        tenant = obj.tenant if obj is not None else request.tenant
        form = _checking_tenant_constraints(form, tenant)
        scope_form_fields(form, tenant)
        return form

    def get_changelist_form(self, request, **kwargs):
        form = super().get_changelist_form(request, **kwargs)
        if not request.user.is_superuser:
            scope_form_fields(form, request.tenant)
        return form

    def save_model(self, request, obj, form, change):
        if not change and not obj.tenant_id:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for instance in instances:
            if _is_tenant_model(type(instance)) and not instance.tenant_id:
                instance.tenant = form.instance.tenant
            instance.save()
        formset.save_m2m()

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.is_superuser and "tenant" not in columns:
            columns.append("tenant")
        return columns

    def get_list_filter(self, request):
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                try:
                    field = get_fields_from_path(self.model, entry)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    field = None
                if (
                    field is not None
                    and field.is_relation
                    and _is_tenant_model(field.related_model)
                    and entry != "tenant"
                ):
                    entry = (entry, TenantRelatedFieldListFilter)
            filters.append(entry)
        if request.user.is_superuser and "tenant" not in filters:
            filters.insert(0, "tenant")
        return filters


class TenantScopedInline(TenantPermissions, admin.TabularInline):
    """Child rows shown on their parent's page; new ones get the parent's tenant (see save_formset)."""

    extra = 0
    formfield_overrides = JSON_FIELDS

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        scope_form_fields(formset.form, obj.tenant if obj is not None else request.tenant)
        return formset


class ReadOnlyTenantAdmin(TenantScopedAdmin):
    """Records (audit, events, deliveries): viewable, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTenantInline(TenantScopedInline):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- operators only ------------------------------------------------------------------------------------


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Tenant)
class TenantAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("slug", "name", "default_currency", "timezone", "active")
    search_fields = ("slug", "name")

    def save_model(self, request, obj, form, change):
        """A change goes through update_tenant, which audits it in the tenant's trail."""
        if not change:
            return super().save_model(request, obj, form, change)
        stored = Tenant.objects.get(pk=obj.pk)
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in accounts.TENANT_FIELDS}
        accounts.update_tenant(tenant=stored, actor=actor_from_request(request), values=values)


@admin.register(User)
class UserAdmin(SuperuserOnly, BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ("is_active", "is_superuser")

    def save_model(self, request, obj, form, change):
        """A change goes through update_user, which audits it in each tenant of the user (a new user belongs to
        no tenant yet: giving them a role is audited as a membership)."""
        if not change:
            return super().save_model(request, obj, form, change)
        stored = User.objects.get(pk=obj.pk)
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in accounts.USER_FIELDS}
        accounts.update_user(user=stored, actor=actor_from_request(request), values=values)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # the form was valid: the password changed
            user = User.objects.get(pk=id)
            accounts.record_password_change(user=user, actor=actor_from_request(request))
        return response


# --- memberships ---------------------------------------------------------------------------------------


class MembershipAddForm(forms.ModelForm):
    """An operator (superuser) gives someone a role directly: an existing account keeps its password; a new one gets
    the password given here. A tenant's administrator invites instead (oms/invitations.py): nobody is added to a
    tenant without their consent, and the answer never tells whether an address has an account."""

    email = forms.EmailField(label=_("E-mail"), max_length=User._meta.get_field("email").max_length)
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Required when the e-mail has no account yet; an existing account keeps its own password."),
    )
    tenant = None  # set by MembershipAdmin.get_form

    class Meta:
        model = Membership
        fields = ("role", "locations")

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if not email:
            return cleaned
        user = User.objects.filter(email__iexact=email).first()
        if user is not None:
            if Membership.objects.for_tenant(self.tenant).filter(user=user).exists():
                self.add_error("email", _("This person is already a member of this tenant."))
        elif not cleaned.get("password"):
            self.add_error("password", _("Choose a password for this new account."))
        else:
            try:
                password_validation.validate_password(cleaned["password"], User(email=email))
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    """Roles in the tenant; every change goes through set_membership, which writes the audit trail. New members come
    by invitation (the Invitations page); only operators add one here directly."""

    list_display = ("user", "role", "store_locations", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "user__full_name")
    back_office_can_change = False
    ordering = ("user__email",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # The admin leaves out a relation with its own model, as it could not save it; set_membership saves the
        # stores (save_related does nothing), so the field is shown, in the two-box widget.
        if db_field.name == "locations":
            kwargs.setdefault("widget", FilteredSelectMultiple(db_field.verbose_name, is_stacked=False))
            return db_field.formfield(**kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("store locations"))
    def store_locations(self, obj):
        return ", ".join(obj.locations.values_list("code", flat=True)) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "tenant")

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "full_name", "password", "role", "locations")
        return ("user", "role", "locations")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("MembershipAddForm", (MembershipAddForm,), {"tenant": request.tenant})
            kwargs["fields"] = ("email", "full_name", "password", "role", "locations")
        return super().get_form(request, obj, change=change, **kwargs)

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_add_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        # Where the add button was for a tenant's administrator: the invitations.
        if role_of(request) in page_roles("members", write=True):
            extra_context = {**(extra_context or {}), "invite_url": reverse("invitations")}
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request, obj=None):
        # Removing one's own membership would lock the person out of the tenant they are managing.
        if obj is not None and obj.user_id == request.user.id and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        tenant = obj.tenant if change else request.tenant
        with transaction.atomic():
            if change:
                user = obj.user
            else:
                user, _created = services.create_user(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data.get("password") or None,
                    full_name=form.cleaned_data.get("full_name", ""),
                )
            membership, _created = services.set_membership(
                tenant=tenant,
                user=user,
                role=form.cleaned_data["role"],
                locations=form.cleaned_data.get("locations") or [],
                actor=actor,
            )
        obj.pk, obj.tenant, obj.user, obj.role = membership.pk, membership.tenant, membership.user, membership.role
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Locations were set by set_membership."""

    def delete_model(self, request, obj):
        services.remove_membership(membership=obj, actor=actor_from_request(request))

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "tenant"):
            self.delete_model(request, membership)


# --- API keys, webhooks, records -----------------------------------------------------------------------


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyTenantAdmin):
    """Keys are issued on the API keys page (the secret is shown once there); here they are listed and revoked."""

    list_display = ("label", "prefix", "channel", "created_at", "last_used_at", "revoked_at")
    search_fields = ("label", "prefix")
    list_filter = ("channel",)
    actions = ["revoke_keys"]

    def has_revoke_permission(self, request):
        return request.user.is_superuser or self._role(request) == Role.ADMIN

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        actor = actor_from_request(request)
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_key(tenant=key.tenant, key_id=key.id, actor=actor)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


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
    """Created through the API, which returns the signing secret once; here paused, described or deleted."""

    list_display = ("url", "channel", "active", "description", "created_at")
    fields = ("url", "channel", "events", "active", "description")
    readonly_fields = ("url", "channel", "events")
    back_office_can_change = False

    def has_add_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        webhooks.delete_subscription(tenant=obj.tenant, actor=actor_from_request(request), subscription_id=obj.id)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            self.delete_model(request, subscription)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if form.changed_data:
                audit.record(
                    tenant=obj.tenant,
                    actor=actor_from_request(request),
                    action="webhook.changed",
                    obj=obj,
                    changes={name: form.cleaned_data[name] for name in form.changed_data},
                )


class WebhookAttemptInline(ReadOnlyTenantInline):
    model = WebhookAttempt
    fields = ("number", "at", "status_code", "error", "duration_ms", "response_excerpt")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "subscription", "event", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", "subscription")
    list_select_related = ("subscription", "event")
    inlines = [WebhookAttemptInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscription", "event")


__all__ = [
    "TenantScopedAdmin",
    "TenantScopedInline",
    "ReadOnlyTenantAdmin",
    "ReadOnlyTenantInline",
    "TenantRelatedFieldListFilter",
    "scope_form_fields",
    "ADMIN_SITE_ROLES",
]
