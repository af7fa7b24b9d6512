"""The tenant's return settings, kept in Tenant.settings: the RMA number prefix and the auto-approval rules
(returns.policy reads them; this module is the one place that writes them)."""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from oms import audit
from oms.actors import Actor
from oms.db import LOCK_ROW
from oms.errors import ValidationFailed
from oms.models import Tenant

PREFIX_KEY = "return_prefix"
DEFAULT_PREFIX = "RMA-"
AUTO_APPROVAL_KEY = "return_auto_approval"
# Off until the tenant turns it on: then a request is approved at once when it is worth at most `max_amount`
# (None: any amount), comes within `within_days` of delivery (None: anywhere in the window), and gives no reason
# of `excluded_reasons`.
AUTO_APPROVAL_DEFAULTS = {"enabled": False, "max_amount": None, "within_days": None, "excluded_reasons": ["damaged"]}


def rma_prefix(tenant) -> str:
    return (tenant.settings or {}).get(PREFIX_KEY, DEFAULT_PREFIX)


def auto_approval_rules(tenant) -> dict:
    stored = (tenant.settings or {}).get(AUTO_APPROVAL_KEY) or {}
    return {key: stored.get(key, default) for key, default in AUTO_APPROVAL_DEFAULTS.items()}


def _checked(values: dict) -> dict:
    errors = {}
    unknown = set(values) - set(AUTO_APPROVAL_DEFAULTS)
    if unknown:
        errors["return_auto_approval"] = [f"Unknown rules: {', '.join(sorted(unknown))}."]
    if "enabled" in values and not isinstance(values["enabled"], bool):
        errors["enabled"] = ["Give true or false."]
    if values.get("max_amount") is not None:
        try:
            amount = Decimal(str(values["max_amount"]))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            errors["max_amount"] = ["Give an amount, 0 or more."]
        else:
            values["max_amount"] = str(amount)
    within = values.get("within_days")
    if within is not None and (not isinstance(within, int) or isinstance(within, bool) or within < 0):
        errors["within_days"] = ["Give a whole number of days, 0 or more."]
    reasons = values.get("excluded_reasons")
    if reasons is not None and (not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons)):
        errors["excluded_reasons"] = ["Give a list of reason codes."]
    if errors:
        raise ValidationFailed(errors=errors)
    return values


def update_auto_approval(*, tenant: Tenant, actor: Actor, values: dict) -> dict:
    """Replace the auto-approval rules given in `values`, audited with their before and after."""
    values = _checked(dict(values))
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(**LOCK_ROW).get(id=tenant.id)
        before = auto_approval_rules(locked)
        after = {**before, **values}
        locked.settings = {**(locked.settings or {}), AUTO_APPROVAL_KEY: after}
        locked.save(update_fields=["settings"])
        if before != after:
            audit.record(
                tenant=locked,
                actor=actor,
                action="tenant.order_settings_changed",
                obj=locked,
                object_repr=locked.slug,
                changes={"before": {AUTO_APPROVAL_KEY: before}, "after": {AUTO_APPROVAL_KEY: after}},
            )
    tenant.settings = locked.settings
    return after


MONEY_KEY = "return_money"
# How a received return's money is worked out (returns.money): the order's shipping charge is refunded with the
# first return that gives a reason the customer does not pay shipping for (`at_fault`), with the first return
# whatever the reason (`always`), or `never`; a return sent by mail for a reason the customer pays shipping for
# costs `return_shipping_fee`, taken from the refund. An exchange's replacement ships `on_receipt` of the returned
# items, or `at_once`.
MONEY_DEFAULTS = {"refund_shipping": "at_fault", "return_shipping_fee": "0.00", "exchange_ships": "on_receipt"}
REFUND_SHIPPING_RULES = ("at_fault", "always", "never")
EXCHANGE_SHIPS = ("on_receipt", "at_once")


def money_rules(tenant) -> dict:
    stored = (tenant.settings or {}).get(MONEY_KEY) or {}
    return {key: stored.get(key, default) for key, default in MONEY_DEFAULTS.items()}
