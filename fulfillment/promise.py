"""The delivery promise's calendar arithmetic: pure functions of `now`, a location's calendar, holidays and a
transit range, returning dates. No database, no wall clock: fulfillment/services/promises.py reads the
configuration and calls these.

The rules:
- A location works on the days it opens (its opening hours; a location that publishes none, a warehouse, works
  Monday to Friday), except its country's (and subdivision's) public holidays and the tenant's closures.
- An order taken on a working day before the location's cut-off (in the location's time zone; without a cut-off,
  before its closing time, or at any time of day when it publishes no hours) starts being prepared that day,
  otherwise on the next working day. Handling time adds that many
  working days of preparation: the dispatch day (a pickup order is ready at the store that day).
- Carriers deliver Monday to Saturday, not on the destination country's public holidays. Transit days (min, max)
  count carrier days after the dispatch day: earliest = dispatch + min carrier days, latest = dispatch + max.
- A location that never works within a year makes no promise (None).
"""

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WAREHOUSE_DAYS = frozenset(range(5))  # Monday to Friday
CARRIER_DAYS = frozenset(range(6))  # Monday to Saturday
HORIZON_DAYS = 366
END_OF_DAY = time(23, 59)


@dataclass(frozen=True)
class Calendar:
    """When a location works: its time zone, working weekdays (0 = Monday), cut-off, handling days, public
    holidays (any container of dates), closures ((first day, last day) pairs) and each weekday's closing time."""

    zone: ZoneInfo
    weekdays: frozenset = WAREHOUSE_DAYS
    cutoff: time | None = None
    handling_days: int = 0
    holidays: Container = frozenset()
    closures: tuple = ()
    closing_times: dict = field(default_factory=dict)

    def works_on(self, day: date) -> bool:
        if day.weekday() not in self.weekdays or day in self.holidays:
            return False
        return not any(first <= day <= last for first, last in self.closures)


@dataclass(frozen=True)
class Promise:
    earliest: date
    latest: date
    ready_at: datetime | None = None  # pickup: when the order is ready at the store

    def as_dict(self) -> dict:
        answer = {"earliest": self.earliest.isoformat(), "latest": self.latest.isoformat()}
        if self.ready_at is not None:
            answer["ready_at"] = self.ready_at.isoformat()
        return answer


def weekdays_of(opening_hours: dict | None) -> frozenset:
    """The weekdays a location opens, from its opening hours; Monday to Friday when it publishes none."""
    if not opening_hours:
        return WAREHOUSE_DAYS
    return frozenset(index for index, name in enumerate(WEEKDAYS) if opening_hours.get(name))


def closing_times_of(opening_hours: dict | None) -> dict:
    """{weekday: the day's last closing time} from opening hours ({"mon": [["09:00", "19:00"]], ...})."""
    closing = {}
    for index, name in enumerate(WEEKDAYS):
        spans = (opening_hours or {}).get(name) or []
        if spans:
            closing[index] = max(time.fromisoformat(span[1]) for span in spans)
    return closing


def next_working_day(calendar: Calendar, day: date) -> date | None:
    """`day` itself when the location works then, else the next day it does; None beyond the horizon."""
    for offset in range(HORIZON_DAYS):
        candidate = day + timedelta(days=offset)
        if calendar.works_on(candidate):
            return candidate
    return None


def dispatch_day(calendar: Calendar, now: datetime) -> date | None:
    """The day an order taken at `now` leaves the location (or is ready there): the first working day whose
    preparation it catches (today before the cut-off), plus the handling days counted in working days."""
    local = now.astimezone(calendar.zone)
    today = local.date()
    last_call = calendar.cutoff or calendar.closing_times.get(today.weekday())
    caught_today = last_call is None or local.time() < last_call
    day = next_working_day(calendar, today if caught_today else today + timedelta(days=1))
    for _ in range(calendar.handling_days):
        if day is None:
            return None
        day = next_working_day(calendar, day + timedelta(days=1))
    return day


def ready_at(calendar: Calendar, now: datetime) -> datetime | None:
    """When a pickup order taken at `now` is ready at the store: on its dispatch day, by the cut-off (the end of
    the day's preparation), else by the day's closing time, else by the end of the day; never before `now`."""
    day = dispatch_day(calendar, now)
    if day is None:
        return None
    by = calendar.cutoff or calendar.closing_times.get(day.weekday()) or END_OF_DAY
    moment = datetime.combine(day, by, tzinfo=calendar.zone)
    return max(moment, now.astimezone(calendar.zone))


def add_carrier_days(start: date, days: int, destination_holidays: Container) -> date:
    """`days` carrier days after `start` (Monday to Saturday, not a destination holiday); 0 is `start`."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() in CARRIER_DAYS and day not in destination_holidays:
            counted += 1
    return day


def delivery_promise(
    calendar: Calendar, now: datetime, transit: tuple[int, int], destination_holidays: Container = frozenset()
) -> Promise | None:
    """The delivery window of an order taken at `now` and shipped from this location with this transit range."""
    day = dispatch_day(calendar, now)
    if day is None:
        return None
    low, high = transit
    return Promise(
        earliest=add_carrier_days(day, low, destination_holidays),
        latest=add_carrier_days(day, high, destination_holidays),
    )


def pickup_promise(calendar: Calendar, now: datetime) -> Promise | None:
    """A pickup order's promise: the day it is ready at the store (earliest = latest) and the moment."""
    moment = ready_at(calendar, now)
    if moment is None:
        return None
    return Promise(earliest=moment.date(), latest=moment.date(), ready_at=moment)


def latest_of(promises) -> Promise | None:
    """The promise that holds for all of them: the latest earliest and the latest latest (None if any is None,
    or if there are none)."""
    promises = list(promises)
    if not promises or any(p is None for p in promises):
        return None
    ready = [p.ready_at for p in promises if p.ready_at is not None]
    return Promise(
        earliest=max(p.earliest for p in promises),
        latest=max(p.latest for p in promises),
        ready_at=max(ready) if len(ready) == len(promises) else None,
    )
