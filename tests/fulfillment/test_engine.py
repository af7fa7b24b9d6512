"""The routing engine, rule by rule and combined: which locations it chooses, what each serves, and the reason it
gives for every candidate. Pure function, no database."""

import random
import re
from datetime import date

from fulfillment.engine import (
    CHOSEN,
    CLOSED,
    EXCLUDED,
    INACTIVE,
    MAX_SPLITS_REACHED,
    MORE_SHIPMENTS,
    NO_CAPABILITY,
    NO_STOCK,
    NOT_IN_POOL,
    NOT_NEEDED,
    NOT_PICKUP_STORE,
    OUTRANKED,
    OVER_CAPACITY,
    PILOT_CHANNEL,
    PILOT_DATE,
    PILOT_LOCATION,
    Candidate,
    Destination,
    Line,
    plan_routing,
)
from fulfillment.policy import DEFAULT_POLICY, validate_policy

TODAY = date(2027, 1, 10)
SKU1, SKU2, SKU3 = 1, 2, 3  # product ids; their SKUs are "SKU-1", "SKU-2", "SKU-3"

PARIS = (48.8566, 2.3522)
LYON = (45.7640, 4.8357)
MARSEILLE = (43.2965, 5.3698)
LILLE = (50.6292, 3.0573)
BORDEAUX = (44.8378, -0.5792)
NANTES = (47.2184, -1.5536)
TOULOUSE = (43.6047, 1.4442)
STRASBOURG = (48.5734, 7.7521)


def policy(**changes) -> dict:
    return validate_policy({**DEFAULT_POLICY, **changes})


def line(key, product_id: int, quantity: int) -> Line:
    return Line(key=key, sku=f"SKU-{product_id}", product_id=product_id, quantity=quantity)


def location(location_id: int, code: str, kind: str = "store", *, stock=None, at=None, **fields) -> Candidate:
    values = {
        "active": True,
        "in_pool": True,
        "pool_rank": location_id,
        "ships": True,
        "pickup": kind == "store",
        "is_open": None,
        "daily_capacity": None,
        "load_today": 0,
        "latitude": at[0] if at else None,
        "longitude": at[1] if at else None,
        "available": stock or {},
    }
    values.update(fields)
    return Candidate(location_id=location_id, code=code, kind=kind, **values)


def plan(lines, candidates, *, rules=None, fulfilment_type="ship", channel="WEB", today=TODAY, to=None, **extra):
    return plan_routing(
        lines=lines,
        candidates=candidates,
        policy=rules if rules is not None else policy(),
        fulfilment_type=fulfilment_type,
        channel_code=channel,
        today=today,
        destination=Destination(*to) if to else None,
        **extra,
    )


def codes(result) -> dict:
    return {location_id: reason.code for location_id, reason in result.reasons.items()}


ONE_LINE = [line("a", SKU1, 2)]


# --- eligibility that always applies ----------------------------------------------------------------------


def test_an_inactive_location_is_never_chosen():
    result = plan(
        ONE_LINE, [location(1, "PAR01", stock={SKU1: 9}, active=False), location(2, "LYO01", stock={SKU1: 9})]
    )

    assert result.allocations == {2: [("a", 2)]}
    assert codes(result) == {1: INACTIVE, 2: CHOSEN}


def test_a_location_outside_the_channels_pool_is_never_chosen():
    result = plan(
        ONE_LINE, [location(1, "PAR01", stock={SKU1: 9}, in_pool=False), location(2, "LYO01", stock={SKU1: 9})]
    )

    assert list(result.allocations) == [2]
    assert codes(result) == {1: NOT_IN_POOL, 2: CHOSEN}


def test_a_location_excluded_by_a_reroute_is_left_out():
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "LYO01", stock={SKU1: 9})]

    result = plan(ONE_LINE, candidates, exclude_location_ids=frozenset({1}))

    assert list(result.allocations) == [2]
    assert result.reasons[1].code == EXCLUDED and result.reasons[1].text == "excluded by a re-route"
    assert list(plan(ONE_LINE, candidates).allocations) == [1]


def test_a_pickup_order_is_served_only_at_its_store():
    candidates = [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 100}, pickup=True),
        location(2, "PAR01", stock={SKU1: 9}, at=PARIS),
        location(3, "LYO01", stock={SKU1: 9}, at=LYON),
    ]

    result = plan(ONE_LINE, candidates, fulfilment_type="pickup", pickup_location_id=3, to=LYON)

    assert result.allocations == {3: [("a", 2)]}
    assert codes(result) == {1: NOT_PICKUP_STORE, 2: NOT_PICKUP_STORE, 3: CHOSEN}
    assert result.reasons[2].text == "the order is collected at LYO01"


def test_a_pickup_store_without_the_stock_leaves_the_order_unfilled_rather_than_sending_it_elsewhere():
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "LYO01")]

    result = plan(ONE_LINE, candidates, fulfilment_type="pickup", pickup_location_id=2)

    assert result.allocations == {} and result.unfilled == [("a", 2)] and result.shipments == 0
    assert codes(result) == {1: NOT_PICKUP_STORE, 2: NO_STOCK}


# --- switchable eligibility -------------------------------------------------------------------------------


def test_a_location_that_does_not_ship_is_left_out_of_a_delivery():
    candidates = [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 9}, ships=False),
        location(2, "PAR01", stock={SKU1: 9}),
    ]

    result = plan(ONE_LINE, candidates)

    assert list(result.allocations) == [2]
    assert result.reasons[1].code == NO_CAPABILITY and result.reasons[1].text == "does not ship orders"


def test_a_store_without_pickup_is_left_out_of_a_pickup_order():
    result = plan(ONE_LINE, [location(1, "PAR01", stock={SKU1: 9}, pickup=False)], fulfilment_type="pickup")

    assert result.allocations == {}
    assert result.reasons[1].code == NO_CAPABILITY and result.reasons[1].text == "does not hand over pickup orders"


def test_with_the_capability_rule_off_capabilities_are_not_checked():
    candidates = [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 9}, ships=False),
        location(2, "PAR01", stock={SKU1: 9}),
    ]

    result = plan(ONE_LINE, candidates, rules=policy(eligibility={"capability": False}))

    assert list(result.allocations) == [1]


def test_a_closed_store_is_left_out_and_an_unknown_one_counts_as_open():
    candidates = [location(1, "PAR01", stock={SKU1: 9}, is_open=False), location(2, "LYO01", stock={SKU1: 9})]

    result = plan(ONE_LINE, candidates)

    assert list(result.allocations) == [2]
    assert result.reasons[1].code == CLOSED and result.reasons[1].text == "closed today"


def test_with_the_opening_hours_rule_off_a_closed_store_may_be_chosen():
    candidates = [location(1, "PAR01", stock={SKU1: 9}, is_open=False), location(2, "LYO01", stock={SKU1: 9})]

    result = plan(ONE_LINE, candidates, rules=policy(eligibility={"opening_hours": False}))

    assert list(result.allocations) == [1]


def test_a_location_at_its_daily_capacity_is_left_out():
    candidates = [
        location(1, "PAR01", stock={SKU1: 9}, daily_capacity=40, load_today=40),
        location(2, "LYO01", stock={SKU1: 9}, daily_capacity=40, load_today=39),
    ]

    result = plan(ONE_LINE, candidates)

    assert list(result.allocations) == [2]
    assert result.reasons[1].code == OVER_CAPACITY and result.reasons[1].text == "over daily capacity 40/40"


def test_a_location_without_a_capacity_has_no_limit():
    result = plan(ONE_LINE, [location(1, "PAR01", stock={SKU1: 9}, daily_capacity=None, load_today=500)])

    assert list(result.allocations) == [1]


def test_with_the_capacity_rule_off_a_full_location_may_be_chosen():
    candidates = [location(1, "PAR01", stock={SKU1: 9}, daily_capacity=40, load_today=41)]

    result = plan(ONE_LINE, candidates, rules=policy(eligibility={"daily_capacity": False}))

    assert list(result.allocations) == [1]


def test_eligibility_rules_are_checked_in_a_fixed_order():
    closed_and_full = location(1, "PAR01", stock={SKU1: 9}, is_open=False, daily_capacity=1, load_today=1)
    inactive_and_excluded = location(2, "LYO01", stock={SKU1: 9}, active=False)

    result = plan(ONE_LINE, [closed_and_full, inactive_and_excluded], exclude_location_ids=frozenset({2}))

    assert codes(result) == {1: CLOSED, 2: INACTIVE}


# --- the pilot perimeter ----------------------------------------------------------------------------------


def test_ship_from_store_is_enabled_only_at_the_stores_listed():
    rules = policy(pilot={"ship_from_store": [{"location": "PAR01"}]})
    candidates = [location(1, "LYO01", stock={SKU1: 9}), location(2, "PAR01", stock={SKU1: 9})]

    result = plan(ONE_LINE, candidates, rules=rules)

    assert list(result.allocations) == [2]
    assert result.reasons[1].code == PILOT_LOCATION
    assert result.reasons[1].text == "ship-from-store not enabled at this store"


def test_ship_from_store_is_enabled_from_its_date():
    rules = policy(pilot={"ship_from_store": [{"location": "PAR01", "from": "2027-01-15"}]})
    candidates = [location(1, "PAR01", stock={SKU1: 9})]

    before = plan(ONE_LINE, candidates, rules=rules, today=date(2027, 1, 14))
    on_the_day = plan(ONE_LINE, candidates, rules=rules, today=date(2027, 1, 15))

    assert before.allocations == {} and before.unfilled == [("a", 2)]
    assert before.reasons[1].code == PILOT_DATE
    assert before.reasons[1].text == "ship-from-store not enabled before 2027-01-15"
    assert list(on_the_day.allocations) == [1]


def test_ship_from_store_is_enabled_only_for_its_channels():
    rules = policy(pilot={"ship_from_store": [{"location": "PAR01", "channels": ["APP"]}]})
    candidates = [location(1, "PAR01", stock={SKU1: 9})]

    web = plan(ONE_LINE, candidates, rules=rules, channel="WEB")
    app = plan(ONE_LINE, candidates, rules=rules, channel="APP")

    assert web.allocations == {}
    assert web.reasons[1].code == PILOT_CHANNEL
    assert web.reasons[1].text == "ship-from-store not enabled for channel WEB"
    assert list(app.allocations) == [1]


def test_an_empty_pilot_list_enables_ship_from_store_nowhere():
    result = plan(ONE_LINE, [location(1, "PAR01", stock={SKU1: 9})], rules=policy(pilot={"ship_from_store": []}))

    assert result.allocations == {} and result.reasons[1].code == PILOT_LOCATION


def test_the_pilot_never_restricts_warehouses_or_drop_ship_suppliers():
    rules = policy(pilot={"ship_from_store": []})
    candidates = [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 9}),
        location(2, "SUPPLIER", "dropship", stock={SKU2: 9}),
    ]

    result = plan([line("a", SKU1, 2), line("b", SKU2, 1)], candidates, rules=rules)

    assert result.allocations == {1: [("a", 2)], 2: [("b", 1)]}


def test_the_click_and_collect_pilot_applies_to_pickup_orders_only():
    rules = policy(pilot={"click_collect": [{"location": "PAR01"}]})
    candidates = [location(1, "LYO01", stock={SKU1: 9})]

    pickup = plan(ONE_LINE, candidates, rules=rules, fulfilment_type="pickup", pickup_location_id=1)
    delivery = plan(ONE_LINE, candidates, rules=rules, fulfilment_type="ship")

    assert pickup.allocations == {}
    assert pickup.reasons[1].code == PILOT_LOCATION
    assert pickup.reasons[1].text == "click & collect not enabled at this store"
    assert list(delivery.allocations) == [1]


# --- stock ------------------------------------------------------------------------------------------------


def test_a_location_with_none_of_the_products_is_left_out_naming_them():
    lines = [line("a", SKU1, 1), line("c", SKU3, 1)]
    candidates = [location(1, "PAR01", stock={SKU2: 50, SKU3: 0}), location(2, "LYO01", stock={SKU1: 5})]

    result = plan(lines, candidates)

    assert result.reasons[1].code == NO_STOCK and result.reasons[1].text == "no stock of SKU-1, SKU-3"
    assert result.allocations == {2: [("a", 1)]} and result.unfilled == [("c", 1)]


def test_quantities_come_only_from_what_is_available():
    result = plan([line("a", SKU1, 5)], [location(1, "PAR01", stock={SKU1: 3})], rules=policy(max_splits=1))

    assert result.allocations == {1: [("a", 3)]} and result.unfilled == [("a", 2)]


# --- objectives, one at a time ----------------------------------------------------------------------------


def test_fewest_shipments_prefers_one_location_that_serves_the_whole_order():
    lines = [line("a", SKU1, 2), line("b", SKU2, 1)]
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "LYO01", stock={SKU1: 9, SKU2: 9})]

    result = plan(lines, candidates, rules=policy(objectives=["fewest_shipments"]))

    assert result.allocations == {2: [("a", 2), ("b", 1)]} and result.shipments == 1
    assert result.reasons[1].code == MORE_SHIPMENTS
    assert result.reasons[1].text == "would need 2 shipments (short of SKU-2), LYO01 can do it in 1"


def test_without_fewest_shipments_the_order_follows_the_ranking_and_splits():
    lines = [line("a", SKU1, 2), line("b", SKU2, 1)]
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "LYO01", stock={SKU1: 9, SKU2: 9})]

    result = plan(lines, candidates, rules=policy(objectives=["pool_priority"]))

    assert result.allocations == {1: [("a", 2)], 2: [("b", 1)]} and result.shipments == 2


def test_warehouses_first_and_stores_first():
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "WH-NORD", "warehouse", stock={SKU1: 9})]

    warehouses = plan(ONE_LINE, candidates, rules=policy(objectives=["warehouses_first"]))
    stores = plan(ONE_LINE, candidates, rules=policy(objectives=["stores_first"]))

    assert list(warehouses.allocations) == [2]
    assert warehouses.reasons[1].code == OUTRANKED
    assert warehouses.reasons[1].text == "outranked by WH-NORD: warehouses first"
    assert list(stores.allocations) == [1]
    assert stores.reasons[2].text == "outranked by PAR01: stores first"


def test_a_drop_ship_supplier_comes_after_warehouses_and_stores_alike():
    candidates = [location(1, "SUPPLIER", "dropship", stock={SKU1: 9}), location(2, "PAR01", stock={SKU1: 9})]

    for preference, why in (("warehouses_first", "drop-ship suppliers last"), ("stores_first", "stores first")):
        result = plan(ONE_LINE, candidates, rules=policy(objectives=[preference]))

        assert list(result.allocations) == [2], preference
        assert result.reasons[1].text == f"outranked by PAR01: {why}"


def test_nearest_prefers_the_closest_location_to_the_destination():
    candidates = [location(1, "PAR01", stock={SKU1: 9}, at=PARIS), location(2, "LYO01", stock={SKU1: 9}, at=LYON)]

    result = plan(ONE_LINE, candidates, rules=policy(objectives=["nearest"]), to=(45.75, 4.85))

    assert list(result.allocations) == [2]
    assert re.fullmatch(r"serves the order's only line; nearest \(1\.\d km\)", result.reasons[2].text)
    assert result.reasons[1].code == OUTRANKED
    assert re.fullmatch(r"outranked by LYO01: nearer \(1\.\d km against 39\d\.\d km\)", result.reasons[1].text)
    assert 1 < result.distances_km[2] < 2


def test_a_location_without_coordinates_ranks_after_every_located_one():
    candidates = [location(1, "PAR01", stock={SKU1: 9}), location(2, "MRS01", stock={SKU1: 9}, at=MARSEILLE)]

    result = plan(ONE_LINE, candidates, rules=policy(objectives=["nearest"]), to=LYON)

    assert list(result.allocations) == [2]
    assert result.reasons[1].text.endswith("this location has no coordinates)")


def test_an_approximate_destination_is_said_in_the_reason():
    candidates = [location(1, "PAR01", stock={SKU1: 9}, at=PARIS), location(2, "LYO01", stock={SKU1: 9}, at=LYON)]
    rules = policy(objectives=["nearest"])

    approximate = plan(ONE_LINE, candidates, rules=rules, to=(45.76, 4.84, True))
    exact = plan(ONE_LINE, candidates, rules=rules, to=(45.76, 4.84, False))

    assert "nearest to the postal code's area (" in approximate.reasons[2].text
    assert approximate.reasons[1].text.endswith(" km from the postal code's area)")
    assert "postal code" not in exact.reasons[2].text and "nearest (" in exact.reasons[2].text


def test_pool_priority_prefers_the_pools_first_location():
    candidates = [
        location(1, "PAR01", stock={SKU1: 9}, pool_rank=1),
        location(2, "LYO01", stock={SKU1: 9}, pool_rank=0),
    ]

    result = plan(ONE_LINE, candidates, rules=policy(objectives=["pool_priority"]))

    assert list(result.allocations) == [2]
    assert result.reasons[1].text == "outranked by LYO01: higher in the channel's pool"


def test_most_stock_prefers_the_location_with_the_most_units_of_the_orders_products():
    candidates = [
        location(1, "PAR01", stock={SKU1: 5, SKU2: 900}, pool_rank=0),
        location(2, "LYO01", stock={SKU1: 50}, pool_rank=1),
    ]

    result = plan(ONE_LINE, candidates, rules=policy(objectives=["most_stock"]))

    assert list(result.allocations) == [2]
    assert result.reasons[1].text == "outranked by LYO01: more stock (50 units against 5)"


def test_ties_after_every_objective_go_to_the_pool_order_then_the_location_id():
    by_rank = [location(7, "PAR01", stock={SKU1: 9}, pool_rank=0), location(3, "LYO01", stock={SKU1: 9}, pool_rank=1)]
    by_id = [location(7, "PAR01", stock={SKU1: 9}, pool_rank=0), location(3, "LYO01", stock={SKU1: 9}, pool_rank=0)]
    rules = policy(objectives=["fewest_shipments", "warehouses_first"])

    assert list(plan(ONE_LINE, by_rank, rules=rules).allocations) == [7]
    assert list(plan(ONE_LINE, by_id, rules=rules).allocations) == [3]


# --- objectives in order ----------------------------------------------------------------------------------


def test_the_first_objective_decides_between_kind_and_distance():
    candidates = [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 9}, at=LILLE),
        location(2, "LYO01", stock={SKU1: 9}, at=LYON),
    ]

    kind_first = plan(ONE_LINE, candidates, rules=policy(objectives=["warehouses_first", "nearest"]), to=LYON)
    distance_first = plan(ONE_LINE, candidates, rules=policy(objectives=["nearest", "warehouses_first"]), to=LYON)

    assert list(kind_first.allocations) == [1]
    assert list(distance_first.allocations) == [2]


def test_nearest_before_fewest_shipments_splits_to_use_the_nearest_location():
    lines = [line("a", SKU1, 2), line("b", SKU2, 1)]
    candidates = [
        location(1, "LYO01", stock={SKU1: 9}, at=LYON),
        location(2, "WH-NORD", "warehouse", stock={SKU1: 9, SKU2: 9}, at=LILLE),
    ]

    fewest_first = plan(lines, candidates, rules=policy(objectives=["fewest_shipments", "nearest"]), to=LYON)
    nearest_first = plan(lines, candidates, rules=policy(objectives=["nearest", "fewest_shipments"]), to=LYON)

    assert fewest_first.allocations == {2: [("a", 2), ("b", 1)]}
    assert fewest_first.reasons[1].code == MORE_SHIPMENTS
    assert nearest_first.allocations == {1: [("a", 2)], 2: [("b", 1)]}


# --- splitting --------------------------------------------------------------------------------------------


def test_max_splits_caps_the_locations_and_leaves_the_rest_unfilled():
    lines = [line("a", SKU1, 1), line("b", SKU2, 1), line("c", SKU3, 1)]
    candidates = [
        location(1, "PAR01", stock={SKU1: 9}),
        location(2, "LYO01", stock={SKU2: 9}),
        location(3, "MRS01", stock={SKU3: 9}),
    ]

    two = plan(lines, candidates, rules=policy(max_splits=2))
    three = plan(lines, candidates, rules=policy(max_splits=3))

    assert two.allocations == {1: [("a", 1)], 2: [("b", 1)]} and two.unfilled == [("c", 1)]
    assert two.reasons[3].code == MAX_SPLITS_REACHED
    assert two.reasons[3].text == "has SKU-3 but the order may be split over 2 locations at most"
    assert three.allocations == {1: [("a", 1)], 2: [("b", 1)], 3: [("c", 1)]} and three.unfilled == []


def test_a_split_takes_the_location_serving_the_most_units_first():
    lines = [line("a", SKU1, 4), line("b", SKU2, 4)]
    candidates = [
        location(1, "PAR01", stock={SKU1: 4}),
        location(2, "LYO01", stock={SKU1: 4, SKU2: 3}),
        location(3, "MRS01", stock={SKU2: 4}),
    ]

    result = plan(lines, candidates)

    assert list(result.allocations)[0] == 2
    assert result.shipments == 2 and result.unfilled == []


def test_a_line_is_not_split_when_a_chosen_location_can_serve_it_whole():
    lines = [line("a", SKU1, 5), line("b", SKU2, 5)]
    candidates = [location(1, "PAR01", stock={SKU1: 5, SKU2: 3}), location(2, "LYO01", stock={SKU2: 5})]

    result = plan(lines, candidates)

    assert result.allocations == {1: [("a", 5)], 2: [("b", 5)]}
    assert re.match(r"serves SKU-1; ", result.reasons[1].text)


def test_a_line_no_location_has_whole_is_split_into_the_fewest_parts():
    candidates = [
        location(1, "PAR01", stock={SKU1: 2}),
        location(2, "LYO01", stock={SKU1: 6}),
        location(3, "MRS01", stock={SKU1: 5}),
    ]

    result = plan([line("a", SKU1, 10)], candidates)

    assert result.allocations == {2: [("a", 6)], 3: [("a", 4)]} and result.unfilled == []
    assert result.reasons[2].text.startswith("serves SKU-1 (6 of 10); ")
    assert result.reasons[1].code == NOT_NEEDED


def test_a_split_line_takes_the_largest_stocks_first_whatever_the_ranking():
    candidates = [
        location(1, "LYO01", stock={SKU1: 2}, at=LYON),
        location(2, "PAR01", stock={SKU1: 6}, at=PARIS),
        location(3, "WH-NORD", "warehouse", stock={SKU1: 5}, at=LILLE),
    ]

    result = plan([line("a", SKU1, 10)], candidates, rules=policy(objectives=["nearest"], max_splits=3), to=LYON)

    assert result.allocations == {2: [("a", 6)], 3: [("a", 4)]}
    assert result.reasons[1].code == NOT_NEEDED


def test_a_location_left_without_lines_gives_its_slot_back_to_the_selection():
    lines = [line("p", SKU1, 5), line("q", SKU2, 5)]
    candidates = [
        location(1, "LYO01", stock={SKU1: 3}, at=LYON),
        location(2, "PAR01", stock={SKU1: 5, SKU2: 2}, at=PARIS),
        location(3, "WH-NORD", "warehouse", stock={SKU2: 5}, at=LILLE),
    ]

    result = plan(lines, candidates, rules=policy(objectives=["nearest", "fewest_shipments"]), to=LYON)

    assert result.allocations == {2: [("p", 5)], 3: [("q", 5)]} and result.unfilled == []
    assert result.reasons[1].code == NOT_NEEDED


# --- reasons ----------------------------------------------------------------------------------------------


def test_every_candidate_gets_a_reason_and_only_the_chosen_say_chosen():
    candidates = [
        location(1, "PAR01", stock={SKU1: 9}, active=False),
        location(2, "LYO01", stock={SKU1: 1}),
        location(3, "MRS01"),
        location(4, "WH-NORD", "warehouse", stock={SKU1: 1}),
        location(5, "NAN01", stock={SKU1: 9}, is_open=False),
    ]

    result = plan(ONE_LINE, candidates)

    assert list(result.reasons) == [1, 2, 3, 4, 5]
    assert all(reason.text for reason in result.reasons.values())
    assert {key for key, reason in result.reasons.items() if reason.chosen} == set(result.allocations) == {2, 4}
    assert all(reason.code == CHOSEN for reason in result.reasons.values() if reason.chosen)


def test_the_chosen_location_says_what_it_serves_and_why():
    lines = [line("a", SKU1, 1), line("b", SKU2, 1), line("c", SKU3, 1)]
    everything = {SKU1: 9, SKU2: 9, SKU3: 9}
    candidates = [location(1, "PAR01", stock=everything, at=PARIS), location(2, "LYO01", stock=everything, at=LYON)]

    result = plan(lines, candidates, to=(45.70, 4.80))

    assert re.fullmatch(r"serves all 3 lines; nearest \(\d+\.\d km\)", result.reasons[2].text)
    assert result.reasons[1].code == OUTRANKED and result.reasons[1].text.startswith("outranked by LYO01: nearer (")


def test_the_plan_carries_the_policy_version_it_was_made_under():
    assert plan(ONE_LINE, [location(1, "PAR01", stock={SKU1: 9})], policy_version=7).policy_version == 7
    assert plan(ONE_LINE, [location(1, "PAR01", stock={SKU1: 9})]).policy_version is None


def test_a_line_of_no_units_has_nothing_to_place():
    result = plan([line("a", SKU1, 0)], [location(1, "PAR01", stock={SKU1: 9})])

    assert result.allocations == {} and result.unfilled == [] and result.reasons[1].code == NOT_NEEDED


# --- in combination ---------------------------------------------------------------------------------------

ORDER = [line(11, SKU1, 2), line(12, SKU2, 1), line(13, SKU3, 4)]
EVERYTHING = {SKU1: 50, SKU2: 50, SKU3: 50}
NETWORK_POLICY = {
    "pilot": {"ship_from_store": [{"location": code} for code in ("PAR01", "LYO01", "BDX01", "TLS01", "STR01")]}
}


def network() -> list[Candidate]:
    """Two warehouses and six stores; the three that could serve the whole order are each kept out by a rule."""
    return [
        location(1, "WH-NORD", "warehouse", stock={SKU1: 10, SKU2: 10}, at=LILLE),
        location(2, "WH-SUD", "warehouse", stock={SKU1: 1, SKU3: 20}, at=MARSEILLE),
        location(3, "PAR01", stock=EVERYTHING, at=PARIS, is_open=False),
        location(4, "LYO01", stock={SKU1: 2, SKU3: 4}, at=LYON),
        location(5, "BDX01", stock={SKU2: 0}, at=BORDEAUX),
        location(6, "NAN01", stock=EVERYTHING, at=NANTES),
        location(7, "TLS01", stock={SKU2: 1}, at=TOULOUSE),
        location(8, "STR01", stock=EVERYTHING, at=STRASBOURG, daily_capacity=30, load_today=30),
    ]


def test_a_network_order_that_must_split_goes_to_the_best_two_locations():
    result = plan(ORDER, network(), rules=policy(**NETWORK_POLICY), to=LYON)

    assert result.allocations == {4: [(11, 2), (13, 4)], 1: [(12, 1)]}
    assert result.unfilled == [] and result.shipments == 2
    assert codes(result) == {
        1: CHOSEN,
        2: NOT_NEEDED,
        3: CLOSED,
        4: CHOSEN,
        5: NO_STOCK,
        6: PILOT_LOCATION,
        7: NOT_NEEDED,
        8: OVER_CAPACITY,
    }
    assert result.reasons[4].text.startswith("serves SKU-1, SKU-3; the most units of the order (6 of 7)")
    assert result.reasons[1].text.startswith("serves SKU-2; warehouses first")


def test_the_same_network_with_stores_first_sends_the_rest_to_a_store():
    rules = policy(**NETWORK_POLICY, objectives=["fewest_shipments", "stores_first", "nearest"])

    result = plan(ORDER, network(), rules=rules, to=LYON)

    assert result.allocations == {4: [(11, 2), (13, 4)], 7: [(12, 1)]}
    assert result.reasons[1].code == NOT_NEEDED and result.reasons[7].code == CHOSEN


def test_without_the_pilot_one_store_serves_the_whole_network_order():
    result = plan(ORDER, network(), to=LYON)

    assert result.allocations == {6: [(11, 2), (12, 1), (13, 4)]} and result.shipments == 1
    assert result.reasons[4].code == MORE_SHIPMENTS
    assert result.reasons[4].text == "would need 2 shipments (short of SKU-2), NAN01 can do it in 1"


def test_the_same_question_always_gets_the_same_plan():
    rules = policy(**NETWORK_POLICY)
    shuffled = network()
    random.Random(4).shuffle(shuffled)

    first = plan(ORDER, network(), rules=rules, to=LYON)
    again = plan(ORDER, network(), rules=rules, to=LYON)
    reordered = plan(ORDER, shuffled, rules=rules, to=LYON)

    assert first == again
    assert reordered.allocations == first.allocations and reordered.reasons == first.reasons
