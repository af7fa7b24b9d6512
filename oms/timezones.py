"""Time zones by name, read by one rule: a name is a zone of the tz database, or it is refused (on input) or read
as UTC (a stored name from before the rule). A folder of the database ("Europe"), a relative path or an empty
name is no zone, whatever the platform's zoneinfo would make of it."""

import zoneinfo
from functools import lru_cache

UTC = "UTC"


@lru_cache(maxsize=1)
def _names() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def is_zone(name) -> bool:
    return isinstance(name, str) and name in _names()


def zone(name) -> zoneinfo.ZoneInfo:
    """The zone of that name; UTC for a name that is none."""
    return zoneinfo.ZoneInfo(name if is_zone(name) else UTC)
