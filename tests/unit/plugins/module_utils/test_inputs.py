"""Playbook inputs as users type them: key=value text and JSON mean the same; anything else names the variable."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.inputs import hours, id_list, number, text_list


@pytest.mark.parametrize("value, expected", [
    ("48h", 48.0), ("2d", 48.0), ("90m", 1.5), ("3600s", 1.0), ("1w", 168.0), ("48", 48.0), (48, 48.0), (1.5, 1.5),
    (" 36H ", 36.0), ("0", 0.0), (None, None), ("", None), ("  ", None),
])
def test_hours_reads_the_collections_duration_syntax(value, expected):
    assert hours(value, "reap_older_than_hours") == expected


@pytest.mark.parametrize("value", ["abc", "2x", "-5", "nan", "inf", "48 hours", True, [48], {"h": 1}])
def test_hours_refuses_anything_else_naming_the_variable(value):
    with pytest.raises(CloreConfigError, match="^reap_older_than_hours: ") as err:
        hours(value, "reap_older_than_hours")
    assert err.value.option == "reap_older_than_hours"


@pytest.mark.parametrize("value, kwargs, expected", [
    ("5", {}, 5.0), (5, {}, 5.0), (" 0.5 ", {}, 0.5), ("1e3", {"integer": True}, 1000), ("10.0", {"integer": True}, 10),
    (0, {"minimum": 0}, 0.0), ("100", {"maximum": 100}, 100.0), (None, {"optional": True}, None),
    ("", {"optional": True}, None),
])
def test_number_accepts_finite_numbers_within_bounds(value, kwargs, expected):
    found = number(value, "n", **kwargs)
    assert found == expected and type(found) is type(expected)


@pytest.mark.parametrize("value, kwargs, rule", [
    ("5USD", {}, "is not a number"), ("1x", {"integer": True}, "is not a whole number"),
    ("nan", {}, "is not a number"), ("inf", {}, "is not a number"), (float("nan"), {}, "is not a number"),
    ("-inf", {}, "is not a number"), (True, {}, "is not a number"), ([1], {}, "is not a number"),
    ("1.5", {"integer": True}, "is not a whole number"), ("-1", {"minimum": 0}, "is below 0"),
    ("0", {"above": 0}, "must be more than 0"), ("101", {"maximum": 100}, "is above 100"),
    (None, {}, "is required"), ("", {}, "is required"),
])
def test_number_refuses_with_the_rule_and_the_variable(value, kwargs, rule):
    with pytest.raises(CloreConfigError, match=rule) as err:
        number(value, "spot_fleet_count", **kwargs)
    assert str(err.value).startswith("spot_fleet_count") and err.value.option == "spot_fleet_count"


@pytest.mark.parametrize("value, expected", [
    ("100003", [100003]), ("[100003]", [100003]), ("100003,100004", [100003, 100004]),
    (" 100003 , 100004 ", [100003, 100004]), ("[100003, 100004]", [100003, 100004]), (100003, [100003]),
    ([100003, "100004"], [100003, 100004]), ([], []), ("", []), (None, []), ("[]", []),
])
def test_id_list_reads_json_and_comma_separated_forms(value, expected):
    assert id_list(value, "reap_keep_order_ids") == expected


@pytest.mark.parametrize("value", ["abc", "[100003", "100003,,100004", "0", "-1", "1.5", [True], [None], {"a": 1},
                                   "[1, [2]]", "nan"])
def test_id_list_refuses_what_is_not_ids_naming_the_variable(value):
    with pytest.raises(CloreConfigError, match="^reap_keep_order_ids"):
        id_list(value, "reap_keep_order_ids")


@pytest.mark.parametrize("value, expected", [
    ("ubuntu", ["ubuntu"]), ('["ubuntu", "nginx:1.27"]', ["ubuntu", "nginx:1.27"]), ("ubuntu, nginx", ["ubuntu", "nginx"]),
    (["RTX 4090", " A100 "], ["RTX 4090", "A100"]), (None, []), ("", []), ([], []),
])
def test_text_list_reads_json_and_comma_separated_forms(value, expected):
    assert text_list(value, "reap_keep_images") == expected


@pytest.mark.parametrize("value", ["a,,b", "[\"a\"", [1], [""], ["a", None], {"a": 1}, True, '["a", 2]'])
def test_text_list_refuses_what_is_not_texts_naming_the_variable(value):
    with pytest.raises(CloreConfigError, match="^reap_keep_images"):
        text_list(value, "reap_keep_images")
