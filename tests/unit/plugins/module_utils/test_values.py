"""The field readers shared by the market and the hosted-server rows."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.values import as_bool, as_server_id, as_text


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False), (1.0, True), (0.0, False),
    ("true", True), (" TRUE ", True), ("yes", True), ("1", True), ("False", False), ("no", False), ("0", False),
    (2, None), (-1, None), (0.5, None), ("maybe", None), ("", None), (None, None), ([], None), ({}, None),
    (float("nan"), None),
])
def test_as_bool(value, expected):
    assert as_bool(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("  AMD EPYC 7543  ", "AMD EPYC 7543"), ("", None), ("   ", None), (12, "12"), (12.5, "12.5"), (10**30, str(10**30)),
    (float("inf"), None), (float("-inf"), None), (float("nan"), None), (True, None), (False, None), (None, None),
    (["a"], None), ({"a": 1}, None),
])
def test_as_text(value, expected):
    assert as_text(value) == expected


@pytest.mark.parametrize("value, expected", [
    (7, 7), (0, 0), (-1, None), (7.0, 7), (7.5, None), (-7.0, None), (float("inf"), None), (float("nan"), None),
    ("42", 42), (" 42 ", 42), ("4.2", None), ("-4", None), ("abc", None), ("", None), ("²", None),
    ("9" * 18, int("9" * 18)), ("9" * 19, None), ("1" * 5000, None), (True, None), (False, None), (None, None),
    ([7], None),
])
def test_as_server_id(value, expected):
    assert as_server_id(value) == expected
