"""What an order is worth once lines were cancelled (orders.amounts)."""

from decimal import Decimal
from types import SimpleNamespace

from orders.amounts import line_current_total, order_current_total


def line(quantity, unit_price, discount="0", tax="0", cancelled=0):
    total = Decimal(unit_price) * quantity - Decimal(discount) + Decimal(tax)
    return SimpleNamespace(
        quantity=quantity,
        unit_price=Decimal(unit_price),
        discount=Decimal(discount),
        tax=Decimal(tax),
        total=total.quantize(Decimal("0.01")),
        quantity_cancelled=cancelled,
    )


def order(lines, promotions="10.00"):
    # 50.00 of goods - 3.00 line discount - 10.00 promotion + 9.40 line tax + 4.90 shipping + 0.98 its tax
    return SimpleNamespace(
        total=Decimal("52.28"),
        promotions=[{"code": "TEN", "amount": promotions}],
        shipping_total=Decimal("4.90"),
        shipping_tax=Decimal("0.98"),
    )


def test_nothing_cancelled_is_the_total_charged():
    lines = [line(3, "10.00", "3.00", "5.40"), line(1, "20.00", tax="4.00")]
    assert order_current_total(order(lines), lines) == Decimal("52.28")
    assert [line_current_total(item) for item in lines] == [Decimal("32.40"), Decimal("24.00")]


def test_cancelled_units_take_their_share_of_discount_and_tax():
    partly = line(3, "10.00", "3.00", "5.40", cancelled=2)
    lines = [partly, line(1, "20.00", tax="4.00")]

    assert line_current_total(partly) == Decimal("10.80")  # 10.00 - 1.00 + 1.80
    assert order_current_total(order(lines), lines) == Decimal("30.68")  # 10.80 + 24.00 - 10.00 + 4.90 + 0.98


def test_promotions_apply_only_up_to_the_goods_that_remain():
    lines = [line(3, "10.00", "3.00", "5.40", cancelled=2), line(1, "20.00", tax="4.00", cancelled=1)]

    assert order_current_total(order(lines), lines) == Decimal("7.68")  # 10.80 - 9.00 + 4.90 + 0.98


def test_an_order_cancelled_as_a_whole_comes_to_zero_shipping_included():
    lines = [line(3, "10.00", "3.00", "5.40", cancelled=3), line(1, "20.00", tax="4.00", cancelled=1)]

    assert order_current_total(order(lines), lines) == Decimal("0")
    assert [line_current_total(item) for item in lines] == [Decimal("0"), Decimal("0")]


def test_shares_are_rounded_per_line_so_the_parts_add_up():
    thirds = line(3, "10.00", discount="1.00", cancelled=1)
    assert line_current_total(thirds) == Decimal("19.33")  # 20.00 - 0.67
