"""The order settings a tenant's admins keep themselves: numbering, hold rules, invoicing and the seller identity
printed on invoices. They live in Tenant.settings, under the keys the order services read (services/,
invoicing.py), so that one place reads each of them and this one writes them."""

from django.db import transaction

from oms import audit
from oms.actors import Actor
from oms.db import LOCK_ROW
from oms.models import Tenant

KEYS = ("order_number_prefix", "order_hold_rules", "invoice_per", "invoice_prefix", "legal", "pickup_hold_days")
DEFAULTS = {
    "order_number_prefix": "SO-",
    "order_hold_rules": {},
    "invoice_per": "shipment",
    "invoice_prefix": "INV-",
    "legal": {},
    # Days a click & collect order ready at a store waits for its customer (a store may set its own).
    "pickup_hold_days": 7,
}


def order_settings(tenant) -> dict:
    """The tenant's order settings, with the defaults the services apply when one is not set."""
    stored = tenant.settings or {}
    return {key: stored.get(key, DEFAULTS[key]) for key in KEYS}


def update_order_settings(*, tenant: Tenant, actor: Actor, values: dict) -> Tenant:
    """Replace the order settings given in `values` (keys of KEYS), audited with their before and after."""
    unknown = set(values) - set(KEYS)
    if unknown:
        raise ValueError(f"not order settings: {sorted(unknown)}")
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(**LOCK_ROW).get(id=tenant.id)
        before = order_settings(locked)
        locked.settings = {**(locked.settings or {}), **values}
        locked.save(update_fields=["settings"])
        after = order_settings(locked)
        changed = {key for key in KEYS if before[key] != after[key]}
        if changed:
            audit.record(
                tenant=locked,
                actor=actor,
                action="tenant.order_settings_changed",
                obj=locked,
                object_repr=locked.slug,
                changes={
                    "before": {k: before[k] for k in sorted(changed)},
                    "after": {k: after[k] for k in sorted(changed)},
                },
            )
    tenant.settings = locked.settings
    return locked
