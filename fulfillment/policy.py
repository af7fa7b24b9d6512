"""The routing policy document: which rules decide where an order is fulfilled, and in which order.

A tenant's policy is a JSON document kept as numbered versions; this module says what a valid one is and fills
what it leaves out, so that the engine (fulfillment.engine) reads a complete document and never guesses:

    {
      "eligibility": {"capability": true, "opening_hours": true, "daily_capacity": true},
      "pilot": {
        "ship_from_store": [{"location": "PAR01", "from": "2027-01-15", "channels": ["WEB"]}],
        "click_collect": null
      },
      "stock": {"lot_outlasts_promise": true},
      "objectives": ["fewest_shipments", "warehouses_first", "nearest", "pool_priority", "most_stock"],
      "max_splits": 2
    }

- `eligibility`: each rule can be switched off (capability: `ships` for delivery, `pickup` for click & collect;
  opening_hours: closed today; daily_capacity: fulfilment orders accepted today against the location's capacity).
- `pilot`: the stores where ship-from-store (a store shipping a delivery order) and click & collect (a store
  handing over a pickup order) are enabled, each from a date (`from`, none = already) and for some channels
  (`channels`, empty = all). `null` enables the type at every capable store; a list, even an empty one, enables
  it only at the stores listed. Warehouses and drop-ship suppliers are never restricted by it.
- `stock.lot_outlasts_promise`: lots expiring before the promised delivery are not counted as available.
- `objectives`: a lexicographic ranking, first decides; an objective left out is switched off.
- `max_splits`: the most locations one order may be split over.

Errors are keyed by the JSON path of the offending value (`objectives[2]`, `pilot.ship_from_store[0].from`), one
list of messages per path, so that an editor can point at the exact place.
"""

import re
from datetime import date

from oms.errors import ValidationFailed

FEWEST_SHIPMENTS = "fewest_shipments"
WAREHOUSES_FIRST = "warehouses_first"
STORES_FIRST = "stores_first"
NEAREST = "nearest"
POOL_PRIORITY = "pool_priority"
MOST_STOCK = "most_stock"
OBJECTIVES = (FEWEST_SHIPMENTS, WAREHOUSES_FIRST, STORES_FIRST, NEAREST, POOL_PRIORITY, MOST_STOCK)
KIND_PREFERENCES = (WAREHOUSES_FIRST, STORES_FIRST)  # one or the other: together they would contradict

CAPABILITY = "capability"
OPENING_HOURS = "opening_hours"
DAILY_CAPACITY = "daily_capacity"
ELIGIBILITY_RULES = (CAPABILITY, OPENING_HOURS, DAILY_CAPACITY)

SHIP_FROM_STORE = "ship_from_store"
CLICK_COLLECT = "click_collect"
PILOT_TYPES = (SHIP_FROM_STORE, CLICK_COLLECT)

LOT_OUTLASTS_PROMISE = "lot_outlasts_promise"

MIN_SPLITS = 1
MAX_SPLITS = 20
# Location and channel codes are stored in columns of this width; a longer code can name nothing.
CODE_MAX_LENGTH = 40

DEFAULT_POLICY = {
    "eligibility": {CAPABILITY: True, OPENING_HOURS: True, DAILY_CAPACITY: True},
    "pilot": {SHIP_FROM_STORE: None, CLICK_COLLECT: None},
    "stock": {LOT_OUTLASTS_PROMISE: True},
    "objectives": [FEWEST_SHIPMENTS, WAREHOUSES_FIRST, NEAREST, POOL_PRIORITY, MOST_STOCK],
    "max_splits": 2,
}

SECTIONS = ("eligibility", "pilot", "stock", "objectives", "max_splits")
PILOT_ENTRY_KEYS = ("location", "from", "channels")
# date.fromisoformat also reads "20270115" and week dates; the document keeps one spelling.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def validate_policy(document) -> dict:
    """The policy `document` made complete (a section or rule it leaves out takes its value from DEFAULT_POLICY),
    or ValidationFailed whose `errors` name every problem by its JSON path. Unknown keys are refused rather than
    ignored, so that a misspelt rule never silently leaves the default in force."""
    errors: dict[str, list[str]] = {}
    if not isinstance(document, dict):
        raise ValidationFailed(errors={"non_field_errors": ["The policy must be a JSON object."]})
    _refuse_unknown_keys(document, SECTIONS, prefix="", errors=errors)
    policy = {
        "eligibility": _switches(document, "eligibility", ELIGIBILITY_RULES, errors),
        "pilot": _pilot(document, errors),
        "stock": _switches(document, "stock", (LOT_OUTLASTS_PROMISE,), errors),
        "objectives": _objectives(document, errors),
        "max_splits": _max_splits(document, errors),
    }
    if errors:
        raise ValidationFailed(errors=errors)
    return policy


def _add(errors: dict, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _refuse_unknown_keys(mapping: dict, known, *, prefix: str, errors: dict) -> None:
    for key in mapping:
        if key not in known:
            path = f"{prefix}.{key}" if prefix else str(key)
            _add(errors, path, f"Unknown key {key!r}; expected one of: {', '.join(known)}.")


def _section(document: dict, name: str, errors: dict) -> dict | None:
    """The section as given ({} when left out: every rule takes its default); None when it is not an object."""
    value = document.get(name, {})
    if not isinstance(value, dict):
        _add(errors, name, "Must be an object.")
        return None
    return value


def _switches(document: dict, name: str, rules, errors: dict) -> dict:
    defaults = DEFAULT_POLICY[name]
    section = _section(document, name, errors)
    if section is None:
        return dict(defaults)
    _refuse_unknown_keys(section, rules, prefix=name, errors=errors)
    switches = {}
    for rule in rules:
        value = section.get(rule, defaults[rule])
        if not isinstance(value, bool):
            _add(errors, f"{name}.{rule}", "Must be true or false.")
        switches[rule] = value is True
    return switches


def _code(value, path: str, errors: dict) -> str | None:
    if not isinstance(value, str) or not value.strip():
        _add(errors, path, "Must be a non-empty code.")
        return None
    code = value.strip()
    if len(code) > CODE_MAX_LENGTH:
        _add(errors, path, f"A code has at most {CODE_MAX_LENGTH} characters.")
        return None
    return code


def _pilot(document: dict, errors: dict) -> dict:
    # `"pilot": null` reads as "no pilot": every type enabled everywhere, as when the section is left out.
    if document.get("pilot") is None:
        return {kind: None for kind in PILOT_TYPES}
    section = _section(document, "pilot", errors)
    if section is None:
        return {kind: None for kind in PILOT_TYPES}
    _refuse_unknown_keys(section, PILOT_TYPES, prefix="pilot", errors=errors)
    pilot = {}
    for kind in PILOT_TYPES:
        entries = section.get(kind)
        path = f"pilot.{kind}"
        if entries is None:
            pilot[kind] = None
        elif not isinstance(entries, list):
            _add(errors, path, "Must be a list of stores, or null to enable it at every store.")
            pilot[kind] = None
        else:
            pilot[kind] = _pilot_entries(entries, path, errors)
    return pilot


def _pilot_entries(entries: list, path: str, errors: dict) -> list[dict]:
    normalised, seen = [], {}
    for index, entry in enumerate(entries):
        at = f"{path}[{index}]"
        if not isinstance(entry, dict):
            _add(errors, at, "Must be an object with a location, and optionally from and channels.")
            continue
        _refuse_unknown_keys(entry, PILOT_ENTRY_KEYS, prefix=at, errors=errors)
        location = _code(entry.get("location"), f"{at}.location", errors)
        if location is not None:
            # Two entries for one store would leave which date or channels apply to chance.
            if location in seen:
                _add(errors, f"{at}.location", f"{location} is already listed at {path}[{seen[location]}].")
            seen.setdefault(location, index)
        normalised.append(
            {
                "location": location,
                "from": _start_date(entry.get("from"), f"{at}.from", errors),
                "channels": _channels(entry.get("channels", []), f"{at}.channels", errors),
            }
        )
    return normalised


def _start_date(value, path: str, errors: dict) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    _add(errors, path, "Must be a date as YYYY-MM-DD.")
    return None


def _channels(value, path: str, errors: dict) -> list[str]:
    if not isinstance(value, list):
        _add(errors, path, "Must be a list of channel codes (empty for every channel).")
        return []
    codes: list[str] = []
    for index, item in enumerate(value):
        code = _code(item, f"{path}[{index}]", errors)
        if code is None:
            continue
        if code in codes:
            _add(errors, f"{path}[{index}]", f"{code} is listed twice.")
            continue
        codes.append(code)
    return codes


def _objectives(document: dict, errors: dict) -> list[str]:
    value = document.get("objectives", DEFAULT_POLICY["objectives"])
    if not isinstance(value, list):
        _add(errors, "objectives", f"Must be a list, in order of importance, from: {', '.join(OBJECTIVES)}.")
        return list(DEFAULT_POLICY["objectives"])
    objectives: list[str] = []
    for index, name in enumerate(value):
        path = f"objectives[{index}]"
        if not isinstance(name, str) or name not in OBJECTIVES:
            _add(errors, path, f"Unknown objective {name!r}; expected one of: {', '.join(OBJECTIVES)}.")
        elif name in objectives:
            _add(errors, path, f"{name} is listed twice.")
        elif name in KIND_PREFERENCES and any(other in objectives for other in KIND_PREFERENCES):
            _add(errors, path, "warehouses_first and stores_first contradict each other; keep one.")
        else:
            objectives.append(name)
    return objectives


def _max_splits(document: dict, errors: dict) -> int:
    value = document.get("max_splits", DEFAULT_POLICY["max_splits"])
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_SPLITS <= value <= MAX_SPLITS:
        _add(errors, "max_splits", f"Must be a whole number from {MIN_SPLITS} to {MAX_SPLITS}.")
        return DEFAULT_POLICY["max_splits"]
    return value
