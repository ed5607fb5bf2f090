"""The clore.ai input filters: thin wrappers whose errors are Ansible filter errors naming the variable."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.filter import hours, id_list, image_id, number, text_list

FILTERS = {"hours": hours, "id_list": id_list, "image_id": image_id, "number": number, "text_list": text_list}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_file_registers_its_filter_under_its_own_name(name):
    assert FILTERS[name].FilterModule().filters() == {name: getattr(FILTERS[name], name)}


def test_conversions():
    assert hours.hours("2d", "v") == 48.0
    assert number.number("3", "v", integer=True, minimum=0) == 3
    assert number.number("", "v", optional=True) is None
    assert id_list.id_list("100003,100004", "v") == [100003, 100004]
    assert text_list.text_list('["ubuntu"]', "v") == ["ubuntu"]
    assert image_id.image_id("library/ubuntu", "v") == "docker.io/library/ubuntu:latest"
    assert image_id.image_id("Ubuntu", strict=False) == "docker.io/library/ubuntu:latest"
    assert image_id.image_id(None, strict=False) is None


@pytest.mark.parametrize("spelling, expected", [
    ("2d", 48.0), ("48h", 48.0), ("2880m", 48.0), ("48", 48.0), (48, 48.0),
    ("90m", 1.5), ("5", 5.0), ("5h", 5.0), ("0.25d", 6.0), ("1w", 168.0), ("3600s", 1.0), ("", None), (None, None),
])
def test_each_spelling_of_a_duration_is_hours(spelling, expected):
    # Every spelling a playbook's -e may carry; the reap playbook's own run of two of them is in test_reap_inputs.
    assert hours.hours(spelling, "reap_older_than_hours") == expected


@pytest.mark.parametrize("call", [
    lambda: hours.hours("abc", "reap_older_than_hours"),
    lambda: number.number("1x", "reap_older_than_hours", integer=True),
    lambda: number.number("nan", "reap_older_than_hours"),
    lambda: id_list.id_list("abc", "reap_older_than_hours"),
    lambda: text_list.text_list("a,,b", "reap_older_than_hours"),
    lambda: image_id.image_id("Ubuntu", "reap_older_than_hours"),
])
def test_errors_are_filter_errors_naming_the_variable(call):
    with pytest.raises(AnsibleFilterError, match="reap_older_than_hours"):
        call()
