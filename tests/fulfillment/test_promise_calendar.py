"""The delivery promise's calendar arithmetic (fulfillment.promise), with explicit `now` values: cut-off, weekend,
French public holidays, tenant closures, handling days, pickup ready times and two time zones."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from fulfillment.promise import (
    Calendar,
    Promise,
    closing_times_of,
    delivery_promise,
    dispatch_day,
    latest_of,
    pickup_promise,
    weekdays_of,
)
from fulfillment.services.promises import PublicHolidays

PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
REUNION = ZoneInfo("Indian/Reunion")
UTC = ZoneInfo("UTC")
FRANCE = PublicHolidays("FR")
COLISSIMO = (2, 3)
STORE_HOURS = {day: [["10:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def warehouse(**overrides) -> Calendar:
    """A warehouse in Paris: Monday to Friday, cut-off 15:00, French public holidays."""
    values = {"zone": PARIS, "cutoff": time(15, 0), "holidays": FRANCE}
    values.update(overrides)
    return Calendar(**values)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def window(calendar, now, transit=COLISSIMO, destination=FRANCE):
    promise = delivery_promise(calendar, now, transit, destination)
    return promise.earliest, promise.latest


def test_an_order_before_the_cut_off_leaves_the_same_day():
    # Tuesday 1 December 2026, 14:59 in Paris: dispatched Tuesday, delivered Thursday to Friday.
    assert dispatch_day(warehouse(), paris(2026, 12, 1, 14, 59)) == date(2026, 12, 1)
    assert window(warehouse(), paris(2026, 12, 1, 14, 59)) == (date(2026, 12, 3), date(2026, 12, 4))


def test_an_order_at_or_after_the_cut_off_leaves_the_next_working_day():
    assert dispatch_day(warehouse(), paris(2026, 12, 1, 15, 0)) == date(2026, 12, 2)
    # Dispatched Wednesday: Friday, then Saturday (carriers deliver on Saturdays).
    assert window(warehouse(), paris(2026, 12, 1, 16, 0)) == (date(2026, 12, 4), date(2026, 12, 5))


def test_the_cut_off_is_read_in_the_locations_time_zone():
    # 14:30 UTC is 15:30 in Paris in winter: past the cut-off.
    assert dispatch_day(warehouse(), datetime(2026, 12, 1, 14, 30, tzinfo=UTC)) == date(2026, 12, 2)
    assert dispatch_day(warehouse(), datetime(2026, 12, 1, 13, 30, tzinfo=UTC)) == date(2026, 12, 1)


def test_a_friday_evening_order_leaves_on_monday_and_sunday_is_no_carrier_day():
    # Friday 4 December after the cut-off: dispatched Monday 7, delivered Wednesday 9 to Thursday 10.
    assert dispatch_day(warehouse(), paris(2026, 12, 4, 16, 0)) == date(2026, 12, 7)
    assert window(warehouse(), paris(2026, 12, 4, 16, 0)) == (date(2026, 12, 9), date(2026, 12, 10))
    # Friday morning: dispatched Friday; Saturday is carrier day 1, Sunday is skipped, Monday day 2.
    assert window(warehouse(), paris(2026, 12, 4, 10, 0)) == (date(2026, 12, 7), date(2026, 12, 8))


def test_a_weekend_order_leaves_on_monday():
    assert dispatch_day(warehouse(), paris(2026, 12, 5, 9, 0)) == date(2026, 12, 7)
    assert dispatch_day(warehouse(), paris(2026, 12, 6, 9, 0)) == date(2026, 12, 7)


def test_christmas_neither_dispatches_nor_delivers():
    # Thursday 24 December before the cut-off: dispatched that day; Friday 25 is no carrier day.
    assert window(warehouse(), paris(2026, 12, 24, 10, 0)) == (date(2026, 12, 28), date(2026, 12, 29))
    # After the cut-off: Friday 25 is a public holiday, the next working day is Monday 28.
    assert dispatch_day(warehouse(), paris(2026, 12, 24, 16, 0)) == date(2026, 12, 28)
    assert window(warehouse(), paris(2026, 12, 24, 16, 0)) == (date(2026, 12, 30), date(2026, 12, 31))


def test_labour_day_on_a_saturday_is_no_carrier_day():
    # 1 May 2027 is a Saturday: Thursday 29 April's parcel arrives Monday 3 May at the earliest, not Saturday.
    assert window(warehouse(), paris(2027, 4, 29, 10, 0)) == (date(2027, 5, 3), date(2027, 5, 4))
    assert window(warehouse(), paris(2027, 4, 29, 10, 0), destination=frozenset()) == (
        date(2027, 5, 1),
        date(2027, 5, 3),
    )


def test_ascension_and_victory_day_and_whit_monday():
    # Wednesday 5 May 2027 after the cut-off: Thursday 6 is Ascension, dispatched Friday 7; Saturday 8 (Victory
    # Day) is no carrier day: Monday 10 is day 1.
    assert dispatch_day(warehouse(), paris(2027, 5, 5, 16, 0)) == date(2027, 5, 7)
    assert window(warehouse(), paris(2027, 5, 5, 16, 0)) == (date(2027, 5, 11), date(2027, 5, 12))
    # Friday 14 May after the cut-off: Whit Monday 17 is a public holiday, dispatched Tuesday 18.
    assert dispatch_day(warehouse(), paris(2027, 5, 14, 16, 0)) == date(2027, 5, 18)


def test_a_tenant_closure_moves_dispatch_past_it():
    closed = warehouse(closures=((date(2026, 12, 7), date(2026, 12, 8)),))
    assert dispatch_day(closed, paris(2026, 12, 4, 16, 0)) == date(2026, 12, 9)
    assert window(closed, paris(2026, 12, 4, 16, 0)) == (date(2026, 12, 11), date(2026, 12, 12))


def test_handling_days_are_working_days_of_preparation():
    # Two days of preparation from Thursday 24 December: Monday 28 (after Christmas and the weekend), Tuesday 29.
    assert dispatch_day(warehouse(handling_days=2), paris(2026, 12, 24, 10, 0)) == date(2026, 12, 29)
    assert dispatch_day(warehouse(handling_days=1), paris(2026, 12, 1, 10, 0)) == date(2026, 12, 2)


def test_alsace_moselle_adds_good_friday_and_saint_stephen():
    # Thursday 2 April 2026 after the cut-off: Friday 3 is Good Friday in Moselle only, Monday 6 is Easter Monday.
    moselle = warehouse(holidays=PublicHolidays("FR", "57"))
    assert dispatch_day(moselle, paris(2026, 4, 2, 16, 0)) == date(2026, 4, 7)
    assert dispatch_day(warehouse(), paris(2026, 4, 2, 16, 0)) == date(2026, 4, 3)


def test_a_location_that_never_works_makes_no_promise():
    assert delivery_promise(warehouse(weekdays=frozenset()), paris(2026, 12, 1, 10, 0), COLISSIMO) is None
    assert pickup_promise(warehouse(weekdays=frozenset()), paris(2026, 12, 1, 10, 0)) is None


def test_the_same_instant_is_a_different_day_in_paris_and_martinique():
    # 02:00 UTC on Saturday 5 December: 03:00 Saturday in Paris, 22:00 Friday in Martinique.
    now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    fort_de_france = Calendar(zone=MARTINIQUE, holidays=PublicHolidays("FR", "972"))
    assert dispatch_day(warehouse(cutoff=None), now) == date(2026, 12, 7)
    assert dispatch_day(fort_de_france, now) == date(2026, 12, 4)
    assert window(fort_de_france, now, transit=(1, 1)) == (date(2026, 12, 5), date(2026, 12, 5))


def test_the_same_instant_is_a_different_day_in_paris_and_reunion():
    # 21:30 UTC on Friday 4 December: 22:30 Friday in Paris, 01:30 Saturday in Reunion.
    now = datetime(2026, 12, 4, 21, 30, tzinfo=UTC)
    saint_denis = Calendar(zone=REUNION, cutoff=time(15, 0), holidays=PublicHolidays("FR", "974"))
    assert dispatch_day(warehouse(cutoff=None), now) == date(2026, 12, 4)
    assert dispatch_day(saint_denis, now) == date(2026, 12, 7)


def test_a_location_follows_its_own_subdivisions_holidays():
    # 22 May 2026, the abolition of slavery, is a public holiday in Martinique, not in Paris.
    fort_de_france = Calendar(zone=MARTINIQUE, cutoff=time(15, 0), holidays=PublicHolidays("FR", "972"))
    thursday_evening = datetime(2026, 5, 21, 16, 0, tzinfo=MARTINIQUE)
    # Friday 22 is a holiday there, Monday 25 is Whit Monday: dispatched Tuesday 26.
    assert dispatch_day(fort_de_france, thursday_evening) == date(2026, 5, 26)
    assert dispatch_day(warehouse(), paris(2026, 5, 21, 16, 0)) == date(2026, 5, 22)


def test_a_store_opens_on_the_days_its_hours_name():
    assert weekdays_of(STORE_HOURS) == frozenset(range(6))
    assert weekdays_of({}) == frozenset(range(5))
    assert closing_times_of({"mon": [["09:00", "12:30"], ["14:00", "19:30"]]}) == {0: time(19, 30)}


def test_a_pickup_order_is_ready_at_the_store_by_the_cut_off():
    store = Calendar(zone=PARIS, weekdays=weekdays_of(STORE_HOURS), cutoff=time(17, 0), holidays=FRANCE)
    promise = pickup_promise(store, paris(2026, 12, 1, 10, 0))
    assert promise.ready_at == paris(2026, 12, 1, 17, 0)
    assert (promise.earliest, promise.latest) == (date(2026, 12, 1), date(2026, 12, 1))
    # After the cut-off: ready the next day; on Saturday evening: ready Monday (the store is closed on Sunday).
    assert pickup_promise(store, paris(2026, 12, 1, 18, 0)).ready_at == paris(2026, 12, 2, 17, 0)
    assert pickup_promise(store, paris(2026, 12, 5, 18, 0)).ready_at == paris(2026, 12, 7, 17, 0)
    assert pickup_promise(store, paris(2026, 12, 6, 11, 0)).ready_at == paris(2026, 12, 7, 17, 0)


def test_a_store_without_a_cut_off_has_the_order_ready_by_closing_time():
    store = Calendar(
        zone=PARIS, weekdays=weekdays_of(STORE_HOURS), closing_times=closing_times_of(STORE_HOURS), holidays=FRANCE
    )
    assert pickup_promise(store, paris(2026, 12, 1, 10, 0)).ready_at == paris(2026, 12, 1, 19, 0)
    # After closing time the store prepares it the next day.
    assert pickup_promise(store, paris(2026, 12, 1, 19, 30)).ready_at == paris(2026, 12, 2, 19, 0)
    assert pickup_promise(store, paris(2026, 12, 25, 10, 0)).ready_at == paris(2026, 12, 26, 19, 0)


def test_the_promise_for_several_locations_is_the_latest_of_theirs():
    early = Promise(date(2026, 12, 3), date(2026, 12, 4))
    late = Promise(date(2026, 12, 4), date(2026, 12, 7))
    assert latest_of([early, late]) == Promise(date(2026, 12, 4), date(2026, 12, 7))
    assert latest_of([early, None]) is None
    assert latest_of([]) is None
    assert Promise(date(2026, 12, 3), date(2026, 12, 4)).as_dict() == {"earliest": "2026-12-03", "latest": "2026-12-04"}
