"""Tenant scoping that fails closed.

Tenant-owned models inherit `TenantModel`. Their `objects` manager answers nothing until it is told the
tenant (`Model.objects.for_tenant(tenant)`); code that forgets the tenant gets an empty result, never
someone else's rows. Cross-tenant work (operator commands, reporting jobs) says so: `Model.all_tenants`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant")
        return self.filter(tenant=tenant)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """`objects`: empty unless scoped with for_tenant()."""

    def get_queryset(self):
        return super().get_queryset().none()

    def for_tenant(self, tenant):
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant")
        return super().get_queryset().filter(tenant=tenant)

    def create(self, **kwargs):
        _tenant_of(kwargs)
        obj = self.model(**kwargs)
        obj.save(force_insert=True, using=self.db)
        return obj

    # The empty default queryset would never find the existing row and always insert: scope these by the
    # tenant they are given instead.
    def get_or_create(self, defaults=None, **kwargs):
        return self.for_tenant(_tenant_of(kwargs)).get_or_create(defaults=defaults, **kwargs)

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        return self.for_tenant(_tenant_of(kwargs)).update_or_create(
            defaults=defaults, create_defaults=create_defaults, **kwargs
        )


def _tenant_of(kwargs):
    tenant = kwargs.get("tenant")
    if tenant is None:
        tenant = kwargs.get("tenant_id")
    if tenant is None:
        raise ValueError("a tenant-owned row needs a tenant")
    return tenant


def tenant_field(*, db_index: bool = True):
    """The tenant column of a tenant-owned model.

    `db_index=False` for a model with a composite index or unique constraint that leads with the tenant: that
    index serves every tenant filter, and a high-volume table (orders, lines, reservations, events) then does not
    keep a redundant single-column index up to date on every insert. tests/oms/test_tenancy.py checks the lead.
    """
    return models.ForeignKey(
        "oms.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("tenant"),
        db_index=db_index,
    )


class TenantModel(models.Model):
    """Base for every tenant-owned row: a non-null tenant, scoped managers."""

    tenant = tenant_field()

    # Declared first so that it is the default manager: related managers (order.lines) and the admin
    # start from it and are scoped by their parent or by the admin's own tenant filter.
    all_tenants = TenantQuerySet.as_manager()
    objects = TenantManager()

    class Meta:
        abstract = True
