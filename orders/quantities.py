"""How many units an order line may ask for, and which line an item names: one rule for the API, the pages and
the services (intake, cancellations, edits, shipments, deliveries, returns, credit notes).

Beyond the upper bound the database would refuse the number and a page would fail instead of answering; a line
of zero units is not a line. An item naming a line of another order, or no line, is refused under its path.
"""

from django.utils.translation import gettext as _

from oms.errors import Conflict, ValidationFailed

MIN_LINE_QUANTITY = 1
MAX_LINE_QUANTITY = 100_000


def quantity_error(quantity, *, minimum: int = MIN_LINE_QUANTITY) -> str | None:
    """Why `quantity` is not a number of units for a line (`minimum` 0 for a quantity a line is reduced to),
    or None."""
    # Django's own validator messages, so that they read in the caller's language like the API's field errors.
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < minimum:
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {"limit_value": minimum}
    if quantity > MAX_LINE_QUANTITY:
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {"limit_value": MAX_LINE_QUANTITY}
    return None


def named_lines(order, lines, items, *, minimum: int = MIN_LINE_QUANTITY) -> list[tuple[int, object, int]]:
    """[(index, line, units)] for `items` (objects with `line_id` and `quantity`), each a line of `order` with a
    valid number of units; a ValidationFailed naming every bad item (`lines[i].id`, `lines[i].quantity`)."""
    by_id = {line.id: line for line in lines}
    named, errors = [], {}
    for index, item in enumerate(items):
        line = by_id.get(item.line_id)
        problem = quantity_error(item.quantity, minimum=minimum)
        if line is None:
            errors[f"lines[{index}].id"] = [f"Order {order.number} has no line {item.line_id}."]
        elif problem:
            errors[f"lines[{index}].quantity"] = [problem]
        else:
            named.append((index, line, item.quantity))
    if errors:
        raise ValidationFailed(errors=errors)
    return named


def units_per_line(order, lines, items) -> dict:
    """{line: units} named by `items` (the same line named twice adds up); at least one item."""
    wanted: dict = {}
    for _index, line, quantity in named_lines(order, lines, items):
        wanted[line] = wanted.get(line, 0) + quantity
    if not wanted:
        raise ValidationFailed(errors={"lines": ["Name at least one line."]})
    return wanted


def refuse_beyond(wanted: dict, room, *, figure: str, message: str) -> None:
    """409 Conflict when a line is asked for more units than `room(line)` leaves (units allocated to ship,
    shipped to deliver or return, outstanding to cancel); each such line is listed with what it asked and the
    room under the name `figure` (`allocated`, `undelivered`, `returnable`, `cancellable`)."""
    beyond = [
        {"id": line.id, "sku": line.sku, "requested": quantity, figure: room(line)}
        for line, quantity in wanted.items()
        if quantity > room(line)
    ]
    if beyond:
        raise Conflict(message, lines=beyond)
