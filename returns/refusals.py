"""How a refused step on a return reads on the pages, in the page's language: the policy's refusals by their rule,
an illegal step by the return's status; the services' own details are written for API clients, in English."""

from django.utils.translation import gettext

from oms.errors import DomainError, IllegalTransition, InsufficientStock, ValidationFailed
from returns import policy, services
from returns.models import ReturnStatus


def _skus(exc) -> str:
    return ", ".join(str(entry.get("sku", "")) for entry in exc.extra.get("lines") or [])


def _policy_refusal(exc) -> str:
    rule = exc.extra.get("rule")
    if rule == policy.ORDER_NOT_SHIPPED:
        return gettext("Nothing of this order has shipped or been collected yet: there is nothing to return.")
    if rule == policy.RETURN_WINDOW:
        return gettext("The return window of %(days)s days has passed for this order.") % {
            "days": exc.extra.get("window_days", "")
        }
    if rule == policy.NOT_RETURNABLE:
        return gettext("These products cannot be returned: %(skus)s.") % {"skus": _skus(exc)}
    if rule == policy.QUANTITY:
        lines = "; ".join(
            gettext("%(sku)s: %(requested)s asked, %(returnable)s returnable")
            % {"sku": entry.get("sku", ""), "requested": entry.get("requested"), "returnable": entry.get("returnable")}
            for entry in exc.extra.get("lines") or []
        )
        return gettext("More units than can still be returned (%(lines)s).") % {"lines": lines}
    return str(exc.detail)


def describe(exc: DomainError) -> str:
    """One sentence (or a few) saying why the step was refused."""
    if isinstance(exc, policy.ReturnRefused):
        return _policy_refusal(exc)
    if isinstance(exc, IllegalTransition) and exc.extra.get("current") in ReturnStatus.values:
        return gettext("Not possible while the return is %(status)s.") % {
            "status": str(ReturnStatus(exc.extra["current"]).label).lower()
        }
    if isinstance(exc, services.ExchangeUnavailable | InsufficientStock):
        return gettext(
            "The replacement is out of stock (%(skus)s): offer the customer a refund or store credit instead."
        ) % {"skus": _skus(exc)}
    if isinstance(exc, services.StoreCreditNeedsCustomer):
        return gettext("This order names no customer to hold store credit: choose a refund instead.")
    if isinstance(exc, services.ReceiptExceedsReturn):
        lines = "; ".join(
            gettext("%(sku)s: %(arriving)s arriving, %(awaited)s awaited")
            % {
                "sku": entry.get("sku", ""),
                "arriving": entry.get("arriving"),
                "awaited": entry.get("asked_back", 0) - entry.get("received", 0),
            }
            for entry in exc.extra.get("lines") or []
        )
        return gettext("More units than the return still awaits (%(lines)s).") % {"lines": lines}
    if isinstance(exc, ValidationFailed):
        problems = " ".join(_flatten(exc.extra.get("errors") or {}))
        return gettext("The request was refused: %(problems)s") % {"problems": problems or exc.detail}
    return str(exc.detail)


def _flatten(errors) -> list[str]:
    if isinstance(errors, dict):
        return [text for value in errors.values() for text in _flatten(value)]
    if isinstance(errors, list | tuple):
        return [text for value in errors for text in _flatten(value)]
    return [str(errors)]
