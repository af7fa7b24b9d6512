"""The one rule for line quantities and the lines an item names."""

from dataclasses import dataclass
from types import SimpleNamespace as Item

import pytest

from oms.errors import ValidationFailed
from orders.quantities import MAX_LINE_QUANTITY, named_lines, quantity_error, units_per_line


@dataclass(frozen=True)
class Line:
    id: int


ORDER = Item(number="SO-1")
LINES = [Line(id=10), Line(id=11)]


@pytest.mark.parametrize(
    "quantity,ok",
    [
        (1, True),
        (MAX_LINE_QUANTITY, True),
        (0, False),
        (-1, False),
        (MAX_LINE_QUANTITY + 1, False),
        (True, False),
        (1.5, False),
    ],
)
def test_a_line_quantity_is_a_whole_number_of_units_within_bounds(quantity, ok):
    assert (quantity_error(quantity) is None) is ok


def test_a_line_may_be_reduced_to_zero_where_the_caller_allows_it():
    assert quantity_error(0, minimum=0) is None
    assert quantity_error(-1, minimum=0) is not None


def test_every_bad_item_is_named_by_its_path():
    items = [Item(line_id=10, quantity=1), Item(line_id=99, quantity=1), Item(line_id=11, quantity=0)]

    with pytest.raises(ValidationFailed) as refused:
        named_lines(ORDER, LINES, items)

    errors = refused.value.extra["errors"]
    assert set(errors) == {"lines[1].id", "lines[2].quantity"}
    assert "SO-1" in errors["lines[1].id"][0]


def test_units_of_a_line_named_twice_add_up_and_none_named_is_refused():
    assert units_per_line(ORDER, LINES, [Item(line_id=10, quantity=2), Item(line_id=10, quantity=3)]) == {LINES[0]: 5}
    with pytest.raises(ValidationFailed) as refused:
        units_per_line(ORDER, LINES, [])
    assert "lines" in refused.value.extra["errors"]
