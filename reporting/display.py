"""How a KPI figure reads: on the pages and in the e-mail, in the active language's way of writing numbers (Django's
l10n), and in the CSV downloads, as the KPI API writes it (reporting.api.as_json): money as a string of the
tenant's currency with two decimals, rates as decimals between 0 and 1, durations in whole seconds."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext

# Currencies written with a sign; any other is written with its ISO code after the amount.
SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
NO_FIGURE = "—"


def _number(value, decimals: int) -> str:
    # Rounded here: number_format cuts the digits past `decimals` off (0.6667 would read 66.6 %).
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def money(value, currency: str) -> str:
    amount = _number(value, 2)
    sign = SIGNS.get(currency)
    if sign is None:
        return f"{amount}\xa0{currency}"
    # Translators: an amount of money and its currency sign: "€90.00" in English, "90,00 €" in French.
    return gettext("%(sign)s%(amount)s") % {"sign": sign, "amount": amount}


def percent(value, decimals: int = 1) -> str:
    # Translators: a percentage: "66.7%" in English, "66,7 %" in French (with a no-break space).
    return gettext("%(number)s%%") % {"number": _number(Decimal(value) * 100, decimals)}


def duration(seconds) -> str:
    """Whole days and hours, hours and minutes, or minutes: the two largest units that matter."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}


def figure(unit: str, value, currency: str) -> str:
    """A figure of `unit` (count, money, rate, seconds, score) as the pages and the e-mail write it."""
    if value is None:
        return NO_FIGURE
    if unit == "money":
        return money(value, currency)
    if unit == "rate":
        return percent(value)
    if unit == "seconds":
        return duration(value)
    if unit == "score":
        return gettext("%(score)s / 5") % {"score": _number(value, 2)}
    return _number(value, 0)


def change(value) -> str:
    """A relative change (0.25 for +25 %) with its arrow."""
    if value is None:
        return NO_FIGURE
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    return f"{arrow} {percent(abs(value))}"


def for_csv(unit: str, value):
    """A figure as the KPI API writes it."""
    if value is None:
        return ""
    if unit == "money":
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if unit != "count" else int(value)
    return value
