"""Returns listens to the tenants' creation: every new tenant starts with the default return reasons. It adds to
the orders app (which may not import it): every order detail shows its returns."""

from django.db import transaction
from django.db.models.signals import post_save

from oms import rls
from oms.models import Tenant
from orders.selectors import register_detail_part
from returns.reasons import seed_reasons
from returns.selectors import attach_to_order


def _seed_new_tenant(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    # Written behind the new tenant's row-level security wall, in the transaction that creates the tenant.
    with rls.tenant(instance.id), transaction.atomic():
        seed_reasons(instance)


def connect() -> None:
    post_save.connect(_seed_new_tenant, sender=Tenant, dispatch_uid="returns-seed-reasons")
    register_detail_part(attach_to_order)
