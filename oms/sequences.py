"""Per-tenant numbering, in two kinds.

`next_value()` is gap-free: invoice numbers must be (a French legal requirement), and counts and transfers use
it too. The number is taken inside the transaction that uses it, under the row lock of its TenantSequence: a
rollback gives it back, and concurrent callers of one tenant queue on that lock until the taker commits.

`next_unique_value()` is for order numbers, which only need to be unique per tenant and increasing: it never
waits for another transaction. Each (tenant, name) has its own PostgreSQL sequence, whose `nextval()` is not
transactional, so a rolled-back order leaves a gap in the numbers (acceptable for orders, never for invoices) and
concurrent orders of a tenant never queue on a row lock held until commit.
"""

import re

from django.db import DatabaseError, transaction

from oms import db
from oms.models import Tenant, TenantSequence

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def next_value(*, tenant: Tenant, name: str) -> int:
    """The next number of a tenant's sequence, gap-free. Call inside the transaction that uses the number, so
    that a rollback gives the number back (no gap) and concurrent callers queue on the row lock (no duplicate)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value() must run inside the transaction that uses the number")
    value = db.increment_tenant_sequence(tenant_id=tenant.id, name=name)
    if value is not None:
        return value
    # First use: create the row; a concurrent creator makes us fall back to the increment.
    with transaction.atomic():
        obj, created = TenantSequence.all_tenants.select_for_update().get_or_create(
            tenant=tenant, name=name, defaults={"value": 1}
        )
    if created:
        return 1
    return db.increment_tenant_sequence(tenant_id=tenant.id, name=name)


def next_unique_value(*, tenant: Tenant, name: str) -> int:
    """The next number of a tenant's sequence: unique per (tenant, name) and increasing, NOT gap-free.

    Never blocks on a concurrent transaction of the tenant (apart from the very first call, which creates the
    sequence). The first number follows the gap-free TenantSequence of the same name, if it was used before.
    """
    if not _NAME.match(name):
        raise ValueError(f"sequence names are short lowercase identifiers, not {name!r}")
    sequence = f"oms_seq_{name}_{int(tenant.id)}"
    value = db.next_in_sequence_if_any(sequence)
    if value is not None:
        return value
    last = TenantSequence.objects.for_tenant(tenant).filter(name=name).values_list("value", flat=True).first() or 0
    try:
        # A savepoint: a concurrent first caller that committed the same sequence first makes this fail, and
        # its sequence is used instead. Created in the caller's transaction, it goes if that rolls back.
        with transaction.atomic():
            db.create_sequence(sequence, start=int(last) + 1)
    except DatabaseError:
        pass
    return db.next_in_sequence(sequence)
