"""One rule for whole numbers typed by people and clients: ASCII digits only, bounded length."""

import pytest

from oms.digits import ascii_digits, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), ("999999999", 999_999_999), ("007", 7)],
)
def test_ascii_digits_are_read(text, expected):
    assert whole_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "-1", "+1", "1.0", "1e3", "²", "12²", "٣", "１２", "1_000", "9" * 10, "9" * 5000, None, 12],
)
def test_anything_else_is_none(text):
    assert whole_number(text) is None


def test_ids_may_be_longer_than_quantities_but_still_bounded():
    assert ascii_digits("9" * 18) and not ascii_digits("9" * 19)
    assert whole_number("9" * 18, max_digits=18) == int("9" * 18)
