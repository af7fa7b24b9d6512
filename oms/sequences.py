"""Gap-free per-tenant numbering (order numbers, invoice numbers: a French legal requirement)."""
from django.db import transaction
from django.db.models import F

from oms.models import TenantSequence


def next_value(*, tenant, name: str) -> int:
    """The next number of a tenant's sequence. Call inside the transaction that uses the number, so that a
    rollback gives the number back (no gap) and concurrent callers queue on the row lock (no duplicate)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value() must run inside the transaction that uses the number")
    updated = TenantSequence.objects.for_tenant(tenant).filter(name=name).update(value=F("value") + 1)
    if not updated:
        # First use: create the row; a concurrent creator makes us fall back to the increment.
        with transaction.atomic():
            obj, created = TenantSequence.all_tenants.select_for_update().get_or_create(
                tenant=tenant, name=name, defaults={"value": 1})
        if created:
            return 1
        TenantSequence.objects.for_tenant(tenant).filter(name=name).update(value=F("value") + 1)
    return TenantSequence.objects.for_tenant(tenant).get(name=name).value
