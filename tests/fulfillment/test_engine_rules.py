"""The routing engine, rule by rule and combined, without a database: plain inputs, a plan and reasons out."""

from datetime import date

import pytest

from fulfillment.engine import Candidate, Destination, Line, plan_routing
from fulfillment.policy import DEFAULT_POLICY, validate_policy
from oms.errors import ValidationFailed

TODAY = date(2026, 12, 4)
PARIS = Destination(48.8566, 2.3522)
A, B = 1, 2


def loc(location_id, code, kind="warehouse", rank=None, lat=None, lon=None, stock=None, **fields):
    values = dict(
        location_id=location_id,
        code=code,
        kind=kind,
        active=True,
        in_pool=True,
        pool_rank=location_id if rank is None else rank,
        ships=True,
        pickup=kind == "store",
        is_open=None,
        daily_capacity=None,
        load_today=0,
        latitude=lat,
        longitude=lon,
        available=stock or {},
    )
    values.update(fields)
    return Candidate(**values)


LINES = [Line("l1", "SKU-A", A, 2), Line("l2", "SKU-B", B, 1)]


def run(candidates, lines=LINES, *, fulfilment_type="ship", destination=PARIS, **policy_changes):
    policy = validate_policy({**DEFAULT_POLICY, **policy_changes})
    return plan_routing(
        lines=lines,
        candidates=candidates,
        policy=policy,
        fulfilment_type=fulfilment_type,
        channel_code="WEB",
        today=TODAY,
        destination=destination,
    )


def test_one_location_serves_the_whole_order_when_it_can_and_every_candidate_gets_a_reason():
    plan = run([loc(1, "WH1", stock={A: 1, B: 5}), loc(2, "WH2", stock={A: 5, B: 5}), loc(3, "WH3")])

    assert plan.allocations == {2: [("l1", 2), ("l2", 1)]} and plan.unfilled == [] and plan.shipments == 1
    assert plan.reasons[2].chosen and plan.reasons[2].code == "chosen"
    assert plan.reasons[1].code == "more_shipments" and "WH2 can do it in 1" in plan.reasons[1].text
    assert plan.reasons[3].code == "no_stock" and plan.reasons[3].text == "no stock of SKU-A, SKU-B"


def test_an_order_splits_only_when_it_must_and_never_over_max_splits():
    candidates = [loc(1, "WH1", stock={A: 2}), loc(2, "WH2", stock={B: 1})]

    split = run(candidates)
    assert split.allocations == {1: [("l1", 2)], 2: [("l2", 1)]} and split.unfilled == []

    capped = run(candidates, max_splits=1)
    assert len(capped.allocations) == 1 and capped.unfilled
    assert any(r.code == "max_splits" for r in capped.reasons.values())


@pytest.mark.parametrize(
    "fields,code,text",
    [
        ({"active": False}, "inactive", "inactive"),
        ({"in_pool": False}, "not_in_pool", "pool"),
        ({"ships": False}, "no_capability", "does not ship"),
        ({"is_open": False}, "closed", "closed today"),
        ({"daily_capacity": 40, "load_today": 40}, "over_capacity", "over daily capacity 40/40"),
    ],
)
def test_each_eligibility_rule_excludes_with_its_reason(fields, code, text):
    plan = run([loc(1, "WH1", stock={A: 9, B: 9}, **fields), loc(2, "WH2", stock={A: 9, B: 9})])

    assert list(plan.allocations) == [2]
    assert plan.reasons[1].code == code and text in plan.reasons[1].text


@pytest.mark.parametrize(
    "rule,fields",
    [
        ("capability", {"ships": False}),
        ("opening_hours", {"is_open": False}),
        ("daily_capacity", {"daily_capacity": 1, "load_today": 1}),
    ],
)
def test_switchable_rules_can_be_switched_off(rule, fields):
    eligibility = {**DEFAULT_POLICY["eligibility"], rule: False}

    plan = run([loc(1, "WH1", stock={A: 9, B: 9}, **fields)], eligibility=eligibility)

    assert list(plan.allocations) == [1]


def test_the_pilot_perimeter_limits_ship_from_store_by_store_date_and_channel():
    stores = [
        loc(i, code, kind="store", stock={A: 9, B: 9}) for i, code in ((1, "PAR"), (2, "LYO"), (3, "NCE"), (4, "LIL"))
    ]
    pilot = {
        "ship_from_store": [
            {"location": "PAR", "from": "2026-12-01", "channels": []},
            {"location": "LYO", "from": "2027-01-15", "channels": []},
            {"location": "NCE", "from": "2026-01-01", "channels": ["MKT"]},
        ],
        "click_collect": None,
    }

    plan = run(stores, pilot=pilot)

    assert list(plan.allocations) == [1]
    assert plan.reasons[2].text == "ship-from-store not enabled before 2027-01-15"
    assert plan.reasons[3].text == "ship-from-store not enabled for channel WEB"
    assert plan.reasons[4].text == "ship-from-store not enabled at this store"


def test_warehouses_are_not_bound_by_the_pilot():
    pilot = {"ship_from_store": [], "click_collect": None}

    plan = run([loc(1, "PAR", kind="store", stock={A: 9, B: 9}), loc(2, "WH", stock={A: 9, B: 9})], pilot=pilot)

    assert list(plan.allocations) == [2] and plan.reasons[1].code == "pilot_location"


def test_warehouses_first_or_stores_first_decides_between_two_that_can_serve():
    candidates = [loc(1, "PAR", kind="store", stock={A: 9, B: 9}), loc(2, "WH", stock={A: 9, B: 9})]

    assert list(run(candidates, objectives=["fewest_shipments", "warehouses_first"]).allocations) == [2]
    assert list(run(candidates, objectives=["fewest_shipments", "stores_first"]).allocations) == [1]


def test_nearest_picks_the_closest_and_says_when_the_destination_is_approximate():
    candidates = [
        loc(1, "MRS", lat=43.2965, lon=5.3698, stock={A: 9, B: 9}),
        loc(2, "ORL", lat=47.9030, lon=1.9093, stock={A: 9, B: 9}),
    ]

    exact = run(candidates, objectives=["nearest"])
    approximate = run(candidates, objectives=["nearest"], destination=Destination(48.85, 2.35, approximate=True))

    assert list(exact.allocations) == [2] and "km" in exact.reasons[2].text
    assert "postal code's area" in approximate.reasons[2].text


def test_pool_priority_and_most_stock():
    candidates = [loc(1, "WH1", rank=1, stock={A: 2, B: 1}), loc(2, "WH2", rank=0, stock={A: 50, B: 50})]

    assert list(run(candidates, objectives=["pool_priority"]).allocations) == [2]
    assert list(
        run(
            [loc(1, "WH1", rank=0, stock={A: 2, B: 1}), loc(2, "WH2", rank=1, stock={A: 50, B: 50})],
            objectives=["most_stock"],
        ).allocations
    ) == [2]


def test_a_pickup_order_goes_to_its_store_only_and_excluded_locations_never_serve():
    candidates = [loc(1, "WH", stock={A: 9, B: 9}), loc(2, "PAR", kind="store", stock={A: 9, B: 9})]
    policy = validate_policy(DEFAULT_POLICY)

    pickup = plan_routing(
        lines=LINES,
        candidates=candidates,
        policy=policy,
        fulfilment_type="pickup",
        channel_code="WEB",
        today=TODAY,
        destination=None,
        pickup_location_id=2,
    )
    rerouted = plan_routing(
        lines=LINES,
        candidates=candidates,
        policy=policy,
        fulfilment_type="ship",
        channel_code="WEB",
        today=TODAY,
        destination=None,
        exclude_location_ids=frozenset({1}),
    )

    assert list(pickup.allocations) == [2]
    assert list(rerouted.allocations) == [2] and rerouted.reasons[1].code == "excluded"


def test_the_same_question_gives_the_same_plan():
    candidates = [loc(i, f"L{i}", stock={A: 1, B: 1}) for i in range(1, 8)]
    lines = [Line("l1", "SKU-A", A, 3), Line("l2", "SKU-B", B, 2)]

    first, second = run(candidates, lines, max_splits=5), run(candidates, lines, max_splits=5)

    assert first.allocations == second.allocations and first.reasons == second.reasons
    assert sum(q for served in first.allocations.values() for _, q in served) == 5


@pytest.mark.parametrize(
    "document,path",
    [
        ({"objectives": ["cheapest"]}, "objectives[0]"),
        ({"objectives": ["nearest", "nearest"]}, "objectives[1]"),
        ({"objectives": ["warehouses_first", "stores_first"]}, "objectives[1]"),
        ({"max_splits": 0}, "max_splits"),
        ({"eligibility": {"capability": "yes"}}, "eligibility.capability"),
        ({"pilot": {"ship_from_store": [{"location": "PAR", "from": "soon"}]}}, "pilot.ship_from_store[0].from"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_policy_names_the_rule(document, path):
    with pytest.raises(ValidationFailed) as refused:
        validate_policy(document)
    assert path in refused.value.extra["errors"]


def test_the_default_policy_is_valid_and_sections_left_out_take_their_defaults():
    assert validate_policy({}) == validate_policy(DEFAULT_POLICY)
    assert validate_policy({"max_splits": 3})["objectives"] == DEFAULT_POLICY["objectives"]
