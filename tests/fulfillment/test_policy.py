"""The routing policy document: what a valid one is, how a bad one is refused (by the JSON path of the problem)
and what a partial one becomes."""

import json

import pytest

from fulfillment.policy import DEFAULT_POLICY, OBJECTIVES, validate_policy
from oms.errors import ValidationFailed


def _errors(document) -> dict:
    with pytest.raises(ValidationFailed) as refused:
        validate_policy(document)
    return refused.value.extra["errors"]


def _pilot(**types) -> dict:
    return {**DEFAULT_POLICY, "pilot": types}


def test_the_default_policy_validates_as_it_is():
    assert validate_policy(DEFAULT_POLICY) == DEFAULT_POLICY


def test_the_default_policy_is_plain_json():
    assert json.loads(json.dumps(DEFAULT_POLICY)) == DEFAULT_POLICY


def test_changing_a_validated_policy_leaves_the_default_alone():
    policy = validate_policy(DEFAULT_POLICY)
    policy["objectives"].append("stores_first")
    policy["eligibility"]["capability"] = False

    assert "stores_first" not in DEFAULT_POLICY["objectives"]
    assert DEFAULT_POLICY["eligibility"]["capability"] is True


def test_an_empty_document_is_the_default_policy():
    assert validate_policy({}) == DEFAULT_POLICY


def test_a_rule_left_out_of_a_section_takes_its_default():
    policy = validate_policy({"eligibility": {"opening_hours": False}, "max_splits": 4})

    assert policy["eligibility"] == {"capability": True, "opening_hours": False, "daily_capacity": True}
    assert policy["max_splits"] == 4
    assert policy["objectives"] == DEFAULT_POLICY["objectives"]
    assert policy["stock"] == {"lot_outlasts_promise": True}


def test_pilot_entries_are_completed_and_their_codes_trimmed():
    policy = validate_policy(
        _pilot(
            ship_from_store=[{"location": " PAR01 ", "from": "2027-01-15", "channels": ["WEB", " APP"]}],
            click_collect=[{"location": "LYO01"}],
        )
    )

    assert policy["pilot"] == {
        "ship_from_store": [{"location": "PAR01", "from": "2027-01-15", "channels": ["WEB", "APP"]}],
        "click_collect": [{"location": "LYO01", "from": None, "channels": []}],
    }


def test_no_pilot_enables_every_type_at_every_store():
    assert validate_policy({"pilot": None})["pilot"] == {"ship_from_store": None, "click_collect": None}
    assert validate_policy({"pilot": {"click_collect": None}})["pilot"] == {
        "ship_from_store": None,
        "click_collect": None,
    }


def test_an_empty_pilot_list_is_kept_as_enabled_at_no_store():
    assert validate_policy(_pilot(ship_from_store=[]))["pilot"]["ship_from_store"] == []


def test_objectives_keep_their_order_and_may_be_switched_off():
    assert validate_policy({"objectives": ["nearest", "stores_first"]})["objectives"] == ["nearest", "stores_first"]
    assert validate_policy({"objectives": []})["objectives"] == []


def test_every_objective_is_accepted_once_except_the_two_kind_preferences_together():
    every = [name for name in OBJECTIVES if name != "stores_first"]

    assert validate_policy({"objectives": every})["objectives"] == every


@pytest.mark.parametrize("splits", [1, 20])
def test_max_splits_bounds_are_accepted(splits):
    assert validate_policy({"max_splits": splits})["max_splits"] == splits


@pytest.mark.parametrize(
    "document,path",
    [
        ({"colour": "red"}, "colour"),
        ({"eligibility": []}, "eligibility"),
        ({"eligibility": {"opening": True}}, "eligibility.opening"),
        ({"eligibility": {"capability": "yes"}}, "eligibility.capability"),
        ({"eligibility": {"daily_capacity": 1}}, "eligibility.daily_capacity"),
        ({"stock": {"lot_outlasts_promise": None}}, "stock.lot_outlasts_promise"),
        ({"stock": {"fefo": True}}, "stock.fefo"),
        ({"objectives": "nearest"}, "objectives"),
        ({"objectives": ["fewest_shipments", "nearest", "cheapest"]}, "objectives[2]"),
        ({"objectives": ["nearest", 3]}, "objectives[1]"),
        ({"objectives": ["nearest", "nearest"]}, "objectives[1]"),
        ({"objectives": ["warehouses_first", "nearest", "stores_first"]}, "objectives[2]"),
        ({"max_splits": 0}, "max_splits"),
        ({"max_splits": 21}, "max_splits"),
        ({"max_splits": "2"}, "max_splits"),
        ({"max_splits": 2.5}, "max_splits"),
        ({"max_splits": True}, "max_splits"),
        ({"pilot": []}, "pilot"),
        ({"pilot": {"drive": None}}, "pilot.drive"),
        ({"pilot": {"ship_from_store": "PAR01"}}, "pilot.ship_from_store"),
        ({"pilot": {"ship_from_store": ["PAR01"]}}, "pilot.ship_from_store[0]"),
        ({"pilot": {"click_collect": [{"from": "2027-01-15"}]}}, "pilot.click_collect[0].location"),
        ({"pilot": {"click_collect": [{"location": " "}]}}, "pilot.click_collect[0].location"),
        ({"pilot": {"click_collect": [{"location": "X" * 41}]}}, "pilot.click_collect[0].location"),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01", "from": "15/01/2027"}]}},
            "pilot.ship_from_store[0].from",
        ),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01", "from": "2027-02-30"}]}},
            "pilot.ship_from_store[0].from",
        ),
        ({"pilot": {"ship_from_store": [{"location": "PAR01", "from": "20270115"}]}}, "pilot.ship_from_store[0].from"),
        ({"pilot": {"ship_from_store": [{"location": "PAR01", "from": 20270115}]}}, "pilot.ship_from_store[0].from"),
        ({"pilot": {"ship_from_store": [{"location": "PAR01", "to": "2027-02-01"}]}}, "pilot.ship_from_store[0].to"),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01", "channels": "WEB"}]}},
            "pilot.ship_from_store[0].channels",
        ),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01", "channels": ["WEB", ""]}]}},
            "pilot.ship_from_store[0].channels[1]",
        ),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01", "channels": ["WEB", "WEB"]}]}},
            "pilot.ship_from_store[0].channels[1]",
        ),
        (
            {"pilot": {"ship_from_store": [{"location": "PAR01"}, {"location": "PAR01", "from": "2027-03-01"}]}},
            "pilot.ship_from_store[1].location",
        ),
    ],
)
def test_a_bad_document_is_refused_under_the_path_of_its_problem(document, path):
    errors = _errors(document)

    assert set(errors) == {path}, errors
    assert errors[path] and all(isinstance(message, str) and message for message in errors[path])


def test_a_document_that_is_not_an_object_is_refused():
    assert set(_errors(["fewest_shipments"])) == {"non_field_errors"}


def test_an_unknown_key_is_named_with_the_keys_expected():
    [message] = _errors({"eligibility": {"opening": True}})["eligibility.opening"]

    assert "'opening'" in message and "opening_hours" in message


def test_every_problem_is_reported_at_once():
    errors = _errors(
        {
            "objectives": ["nearest", "cheapest"],
            "max_splits": 0,
            "pilot": {"ship_from_store": [{"location": "PAR01", "from": "soon"}]},
            "colour": "red",
        }
    )

    assert set(errors) == {"objectives[1]", "max_splits", "pilot.ship_from_store[0].from", "colour"}


def test_contradicting_kind_preferences_say_so():
    [message] = _errors({"objectives": ["stores_first", "warehouses_first"]})["objectives[1]"]

    assert "warehouses_first" in message and "stores_first" in message
