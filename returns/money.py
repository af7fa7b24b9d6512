"""What a received return gives back, to the cent, in the order's currency.

The units received are credited at the price actually paid: the credit note (orders.invoicing) takes each unit's
share of its line's discount and tax, and of the order's promotions, the way the invoices charged them. The
order's shipping charge is given back once, with the first return the tenant's rule refunds it for
(returns.tenant_settings.money_rules: `at_fault` when a reason says the customer does not pay shipping, `always`,
`never`). A return by mail for reasons the customer pays shipping for costs the tenant's `return_shipping_fee`,
taken from the refund (never below zero). Units not invoiced yet (an order invoiced once it has shipped in full)
are valued the same way from their line, without a credit note."""

from dataclasses import dataclass, field
from decimal import Decimal

from orders import invoicing
from orders.amounts import CENT, ZERO, share
from orders.services import LineQuantity
from returns.models import ReturnMethod
from returns.tenant_settings import money_rules


@dataclass
class Settlement:
    """The money of a return's received units: the credit note issued (None when nothing was invoiced), each
    line's amount, the shipping given back, the fee kept, and what is owed to the customer."""

    credit_note: object = None
    lines: list = field(default_factory=list)
    shipping: Decimal = ZERO
    promotions: Decimal = ZERO
    fee: Decimal = ZERO
    value: Decimal = ZERO  # goods less promotions plus shipping, before the fee
    total: Decimal = ZERO  # what the customer gets back

    def breakdown(self) -> dict:
        return {
            "lines": self.lines,
            "shipping": str(self.shipping),
            "promotions": str(self.promotions),
            "return_shipping_fee": str(self.fee),
            "credit_note": self.credit_note.number if self.credit_note is not None else None,
        }


def at_fault(received: dict) -> bool:
    """Whether the retailer is at fault for some of the units: a reason the customer does not pay shipping for."""
    return any(not line.reason.customer_pays_shipping for line in received)


def settle(*, rma, received: dict, actor) -> Settlement:
    """Credit the units received (`received`: {ReturnLine: units}) of a locked order; the caller holds the
    return's and the order's row locks."""
    order, tenant = rma.order, rma.order.tenant
    rules = money_rules(tenant)
    fault = at_fault(received)
    shipping_back = (
        order.shipping_total > 0
        and rules["refund_shipping"] != "never"
        and (rules["refund_shipping"] == "always" or fault)
        and not invoicing.shipping_credited(order)
    )
    creditable = invoicing.creditable_units(order)
    credit, loose = [], []
    for line, units in received.items():
        invoiced = min(units, max(creditable.get(line.order_line_id, 0), 0))
        if invoiced:
            credit.append(LineQuantity(line.order_line_id, invoiced))
        if units - invoiced:
            loose.append((line.order_line, units - invoiced))
    result = Settlement()
    amounts: dict[int, Decimal] = {}
    if credit:
        note = invoicing.issue_credit_note(
            tenant=tenant,
            order_id=order.id,
            lines=credit,
            actor=actor,
            reason=f"Return {rma.number}",
            refund_shipping=shipping_back,
        )
        result.credit_note, result.shipping = note, note.shipping_total
        result.promotions = sum((Decimal(p["amount"]) for p in note.promotions or []), ZERO)
        result.value = note.total
        for note_line in note.lines.all():
            amounts[note_line.order_line_id] = amounts.get(note_line.order_line_id, ZERO) + note_line.total
    for order_line, units in loose:
        value = (
            order_line.unit_price * units
            - share(order_line.discount, units, order_line.quantity)
            + share(order_line.tax, units, order_line.quantity)
        ).quantize(CENT)
        amounts[order_line.id] = amounts.get(order_line.id, ZERO) + value
        result.value += value
    result.lines = [
        {
            "order_line": line.order_line_id,
            "sku": line.order_line.sku,
            "quantity": units,
            "amount": str(amounts.get(line.order_line_id, ZERO)),
        }
        for line, units in received.items()
    ]
    if rma.method == ReturnMethod.MAIL and not fault:
        result.fee = min(Decimal(str(rules["return_shipping_fee"])).quantize(CENT), result.value)
    result.total = max(result.value - result.fee, ZERO)
    return result
