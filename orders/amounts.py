"""What an order is worth once lines were cancelled: the one rule for pages, the API and reporting.

The order's own totals stay what the channel charged at checkout. A cancelled unit takes its price and its share of
its line's discount and tax with it (shares rounded per line on the units cancelled so far, as invoices round
them, so that a whole line cancelled comes to exactly zero). Order promotions apply up to what remains of the
goods, and shipping is owed while anything remains. Returns and refunds are not deducted here.
"""

from decimal import ROUND_HALF_UP, Decimal

# The money constants of the whole code base: amounts are Decimal, rounded to the cent.
CENT = Decimal("0.01")
ZERO = Decimal("0")


def share(amount: Decimal, units: int, of: int) -> Decimal:
    """`units` out of `of` of a line's `amount` (its discount, its tax), to the cent: invoices, credit notes and
    current totals all prorate this way, on the units counted so far, so that the parts add up to the whole."""
    return (amount * units / of).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_fits(model, field_name: str, amount: Decimal) -> bool:
    """Whether the amount fits the model's decimal column (a larger one fails in the database, as a 500)."""
    field = model._meta.get_field(field_name)
    return abs(amount) < Decimal(10) ** (field.max_digits - field.decimal_places)


def line_current_total(line) -> Decimal:
    """The line's total for its units not cancelled (its discount and tax prorated)."""
    kept = line.quantity - line.quantity_cancelled
    if kept <= 0:
        return ZERO
    if line.quantity_cancelled == 0:
        return line.total
    return (
        line.unit_price * kept - share(line.discount, kept, line.quantity) + share(line.tax, kept, line.quantity)
    ).quantize(CENT)


def order_current_total(order, lines) -> Decimal:
    """The order's total without its cancelled units: what is still to be paid for, shipping included."""
    if all(line.quantity_cancelled == 0 for line in lines):
        return order.total
    if all(line.quantity_cancelled >= line.quantity for line in lines):
        return ZERO
    kept_goods = sum(
        (
            line.unit_price * (line.quantity - line.quantity_cancelled)
            - share(line.discount, line.quantity - line.quantity_cancelled, line.quantity)
            for line in lines
        ),
        ZERO,
    )
    promotions = sum((Decimal(p["amount"]) for p in order.promotions or []), ZERO)
    lines_total = sum((line_current_total(line) for line in lines), ZERO)
    return (lines_total - min(promotions, max(kept_goods, ZERO)) + order.shipping_total + order.shipping_tax).quantize(
        CENT
    )
