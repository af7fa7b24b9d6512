"""The tenant's return settings, kept in Tenant.settings: the RMA number prefix, the auto-approval rules
(returns.policy reads them) and the money rules (returns.money and the exchanges read them). This module is the
one place that writes them."""

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
    return update_return_policy(tenant=tenant, actor=actor, auto_approval=values)["auto_approval"]


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


def _checked_money(values: dict) -> dict:
    errors = {}
    unknown = set(values) - set(MONEY_DEFAULTS)
    if unknown:
        errors["money"] = [f"Unknown rules: {', '.join(sorted(unknown))}."]
    if "refund_shipping" in values and values["refund_shipping"] not in REFUND_SHIPPING_RULES:
        errors["refund_shipping"] = [f"One of {', '.join(REFUND_SHIPPING_RULES)}."]
    if "exchange_ships" in values and values["exchange_ships"] not in EXCHANGE_SHIPS:
        errors["exchange_ships"] = [f"One of {', '.join(EXCHANGE_SHIPS)}."]
    if "return_shipping_fee" in values:
        try:
            fee = Decimal(str(values["return_shipping_fee"]))
        except InvalidOperation:
            fee = None
        if fee is None or not fee.is_finite() or fee < 0:
            errors["return_shipping_fee"] = ["Give an amount, 0 or more."]
        else:
            values["return_shipping_fee"] = str(fee.quantize(Decimal("0.01")))
    if errors:
        raise ValidationFailed(errors=errors)
    return values


def return_policy(tenant) -> dict:
    return {"auto_approval": auto_approval_rules(tenant), "money": money_rules(tenant)}


def update_return_policy(
    *, tenant: Tenant, actor: Actor, auto_approval: dict | None = None, money: dict | None = None
) -> dict:
    """Change the rules given (each part only in the keys it names), audited with their before and after."""
    changes = {}
    if auto_approval is not None:
        changes[AUTO_APPROVAL_KEY] = _checked(dict(auto_approval))
    if money is not None:
        changes[MONEY_KEY] = _checked_money(dict(money))
    with transaction.atomic():
        locked = Tenant.objects.select_for_update(**LOCK_ROW).get(id=tenant.id)
        before = return_policy(locked)
        settings = dict(locked.settings or {})
        current = {AUTO_APPROVAL_KEY: before["auto_approval"], MONEY_KEY: before["money"]}
        for key, values in changes.items():
            settings[key] = {**current[key], **values}
        locked.settings = settings
        locked.save(update_fields=["settings"])
        after = return_policy(locked)
        if before != after:
            audit.record(
                tenant=locked,
                actor=actor,
                action="tenant.order_settings_changed",
                obj=locked,
                object_repr=locked.slug,
                changes={"before": {"return_policy": before}, "after": {"return_policy": after}},
            )
    tenant.settings = locked.settings
    return after
