"""Whole numbers typed by people and sent by clients, read by one rule: ASCII digits only, of a bounded length.

`str.isdigit()` also says yes to '²' and to other scripts' digits, which `int()` then refuses (a 500) or reads as
something else, and to strings of thousands of digits, which overflow every column they are written to."""

# Quantities, versions and counts fit a 32-bit integer column with 9 digits; ids a 64-bit one with 18.
QUANTITY_DIGITS = 9
ID_DIGITS = 18


def ascii_digits(text: str, *, max_digits: int = ID_DIGITS) -> bool:
    """Whether `text` is 1 to `max_digits` ASCII digits and nothing else."""
    return isinstance(text, str) and 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def whole_number(text: str, *, max_digits: int = QUANTITY_DIGITS) -> int | None:
    """The number `text` writes in ASCII digits (no sign, no spaces), None for anything else or anything longer."""
    return int(text) if ascii_digits(text, max_digits=max_digits) else None
