"""Text bound for a spreadsheet (CSV exports): what a cell carries must never run as a formula there."""

from oms.digits import ascii_digits

# A spreadsheet reads a cell starting with one of these as a formula (tab and carriage return: some read past
# them to an `=` that follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The value as text, quoted with a leading apostrophe when it would start a formula. A negative whole number
    (`-5`) stays as it is: a spreadsheet reads it as the number it is, nothing runs."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not (text[:1] == "-" and ascii_digits(text[1:])):
        return "'" + text
    return text
