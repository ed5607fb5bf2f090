"""guards: what every module's input passes before any API call, read from the argument spec itself."""
from __future__ import annotations

import math

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.guards import (
    check_finite,
    check_not_empty,
    check_params,
    check_whole,
    is_id_option,
    widen_scalars,
)

AMOUNT = {"amount": {"type": "float", "required": True}, "currency": {"type": "str", "default": "USD"}}
SPEC = {
    "budget": {"type": "dict", "options": AMOUNT},
    "prices": {"type": "list", "elements": "dict", "options": AMOUNT},
    "settings": {"type": "dict", "options": {"on_demand": {"type": "float"}, "spot": {"type": "float"}}},
    "env": {"type": "dict"},
    "order_id": {"type": "int"},
    "server_ids": {"type": "list", "elements": "int", "aliases": ["ids"]},
    "count": {"type": "int"},
    "hours": {"type": "float"},
    "names": {"type": "list", "elements": "str"},
    "image": {"type": "str"},
    "command": {"type": "str"},
    "state_dir": {"type": "path"},
}


def refusal(params: dict) -> CloreConfigError:
    with pytest.raises(CloreConfigError) as caught:
        check_params(SPEC, params)
    return caught.value


# ----- check_params -----
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("params", "path", "option"), [
    (lambda v: {"hours": v}, "hours", "hours"),
    (lambda v: {"budget": {"amount": v}}, "budget.amount", "budget"),
    (lambda v: {"prices": [{"amount": 1.0}, {"amount": v}]}, "prices[1].amount", "prices"),
    (lambda v: {"settings": {"spot": v}}, "settings.spot", "settings"),
])
def test_non_finite_floats_are_refused_naming_the_path(params, path, option, value):
    err = refusal(params(value))
    assert str(err) == f"{path} must be a finite number, got {value}" and err.option == option


@pytest.mark.parametrize(("params", "path"), [
    ({"order_id": True}, "order_id"), ({"count": False}, "count"),
    ({"server_ids": [4, True]}, "server_ids[1]"),
])
def test_booleans_for_whole_numbers_are_refused(params, path):
    assert str(refusal(params)).startswith(f"{path} must be a whole number, got ")


@pytest.mark.parametrize(("params", "path"), [
    ({"order_id": -3}, "order_id"), ({"order_id": 0}, "order_id"),
    ({"server_ids": [9, -1]}, "server_ids[1]"),
])
def test_ids_below_one_are_refused(params, path):
    assert str(refusal(params)).startswith(f"{path} must be 1 or more (Clore's ids start at 1)")


def test_counts_are_not_ids():
    check_params(SPEC, {"count": 0})


@pytest.mark.parametrize(("params", "path"), [
    ({"names": ["a", " "]}, "names[1]"), ({"image": ""}, "image"),
    ({"state_dir": ""}, "state_dir"),
])
def test_empty_names_and_directories_are_refused(params, path):
    assert str(refusal(params)).startswith(f"{path} must not be empty")


def test_good_input_passes_unchanged():
    params = {"budget": {"amount": 2.5, "currency": "USD"}, "order_id": 7, "server_ids": [1, 2], "hours": 0.5,
              "names": ["gpu-1"], "image": "ubuntu", "command": "", "state_dir": "/tmp/x", "count": 3}
    before = {k: (dict(v) if isinstance(v, dict) else v) for k, v in params.items()}
    check_params(SPEC, params)
    assert params == before


@pytest.mark.parametrize(("name", "expected"), [("order_id", True), ("server_ids", True), ("ids", True),
                                                ("count", False), ("max_attempts", False)])
def test_id_options_are_known_by_name(name, expected):
    assert is_id_option(name) is expected


def test_the_single_checks_accept_what_they_should():
    check_finite("x", 1.5)
    check_whole("x", 0)
    check_not_empty("x", "a")


# ----- widen_scalars -----
@pytest.mark.parametrize("value", [25, 2.5, "25"])
def test_a_number_for_a_dict_becomes_its_required_sub_option(value):
    params = {"budget": value}
    assert widen_scalars(SPEC, params) is None
    assert params == {"budget": {"amount": value}}


def test_numbers_in_a_list_of_dicts_are_widened_each():
    params = {"prices": [3, {"amount": 4}]}
    assert widen_scalars(SPEC, params) is None
    assert params == {"prices": [{"amount": 3}, {"amount": 4}]}


@pytest.mark.parametrize(("params", "start"), [
    ({"budget": True}, "budget must be a number (its amount) or a dict, got true (a boolean)"),
    ({"settings": 5}, "settings must be a dict, got a number"),
    ({"env": 5}, "env must be a dict (key: value pairs), got a number"),
    ({"prices": [1, False]}, "prices[1] must be a number (its amount) or a dict, got false (a boolean)"),
    ({"hours": True}, "hours must be a number, got true (a boolean)"),
])
def test_other_scalars_for_dicts_are_refused_and_taken_out(params, start):
    name = next(iter(params))
    err = widen_scalars(SPEC, params)
    assert str(err).startswith(start) and err.option == name
    assert name not in params  # Ansible's own checks would stop on it with a Python error text


def test_a_required_option_refused_keeps_an_empty_value_for_ansible():
    spec = {"utilization": {"type": "dict", "required": True}}
    params = {"utilization": 5}
    assert str(widen_scalars(spec, params)).startswith("utilization must be a dict")
    assert params == {"utilization": {}}


def test_text_and_dicts_are_left_to_ansible():
    params = {"budget": "amount=5", "env": "A=1", "settings": {"spot": 1}}
    assert widen_scalars(SPEC, params) is None
    assert params == {"budget": "amount=5", "env": "A=1", "settings": {"spot": 1}}


def test_an_alias_is_widened_under_the_name_given():
    spec = {"cap": {"type": "dict", "aliases": ["limit"], "options": AMOUNT}}
    params = {"limit": 9}
    assert widen_scalars(spec, params) is None and params == {"limit": {"amount": 9}}
