"""What an order is worth once lines were cancelled: the one rule for pages, the API and reporting.

The order's own totals stay what the channel charged at checkout. A cancelled unit takes its price and its share of
its line's discount and tax with it (shares rounded per line on the units cancelled so far, as invoices round
them, so that a whole line cancelled comes to exactly zero). Order promotions apply up to what remains of the
goods, and shipping is owed while anything remains. Returns and refunds are not deducted here.
"""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")


def _share(amount: Decimal, units: int, of: int) -> Decimal:
    return (amount * units / of).quantize(CENT, rounding=ROUND_HALF_UP)


def line_current_total(line) -> Decimal:
    """The line's total for its units not cancelled (its discount and tax prorated)."""
    kept = line.quantity - line.quantity_cancelled
    if kept <= 0:
        return ZERO
    if line.quantity_cancelled == 0:
        return line.total
    return (line.unit_price * kept - _share(line.discount, kept, line.quantity)
            + _share(line.tax, kept, line.quantity)).quantize(CENT)


def order_current_total(order, lines) -> Decimal:
    """The order's total without its cancelled units: what is still to be paid for, shipping included."""
    if all(line.quantity_cancelled == 0 for line in lines):
        return order.total
    if all(line.quantity_cancelled >= line.quantity for line in lines):
        return ZERO
    kept_goods = sum((line.unit_price * (line.quantity - line.quantity_cancelled)
                      - _share(line.discount, line.quantity - line.quantity_cancelled, line.quantity)
                      for line in lines), ZERO)
    promotions = sum((Decimal(p["amount"]) for p in order.promotions or []), ZERO)
    lines_total = sum((line_current_total(line) for line in lines), ZERO)
    return (lines_total - min(promotions, max(kept_goods, ZERO)) + order.shipping_total
            + order.shipping_tax).quantize(CENT)
