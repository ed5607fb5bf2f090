"""The API check's rules: relied-on fields fail when of another type anywhere or missing everywhere; the rest is
reported; recordings lose every secret."""
from __future__ import annotations

import stat
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.api_check import check_answer
from ansible_collections.clore.ai.plugins.module_utils.api_record import REMOVED, scrub, write_recording


def order(**fields) -> dict:
    base = {"id": 1, "si": 2, "image": "x/y", "currency": "bitcoin", "price": 1.0, "ct": 1, "spot": False}
    return {**base, **fields}


def test_a_relied_on_field_of_another_type_fails_naming_it():
    report = check_answer("my_orders", {"orders": [order(), order(si="2")], "code": 0})
    assert report["failures"] == ["my_orders: orders[].si is string in 1 of 2, expected int; the collection relies "
                                  "on it"]


def test_a_relied_on_field_missing_on_some_rows_is_reported_and_missing_on_all_fails():
    some = check_answer("my_orders", {"orders": [order(), {k: v for k, v in order().items() if k != "ct"}]})
    assert some["failures"] == []
    assert {"field": "orders[].ct", "rows": 1, "of": 2, "relied": True} in some["missing"]
    every = check_answer("my_orders", {"orders": [{k: v for k, v in order().items() if k != "ct"}]})
    assert every["failures"] == ["my_orders: orders[].ct is missing and the collection relies on it"]


def test_an_answer_without_its_list_fails_and_unknown_fields_are_named():
    report = check_answer("wallets", {"code": 0, "balances": {}})
    assert report["failures"] == ["wallets: wallets is missing and the collection relies on it"]
    assert report["unknown"] == ["balances"]


def test_a_number_is_int_or_float_but_never_bool():
    report = check_answer("wallets", {"wallets": [{"name": "bitcoin", "balance": True}]})
    assert report["wrong_type"][0]["field"] == "wallets[].balance" and report["failures"]


def test_scrub_removes_secrets_and_the_key_wherever_they_are():
    answer = {"wallets": [{"name": "bitcoin", "deposit": "bc1abc"}], "note": "key KEY-123 used",
              "orders": [{"env": {"A": "b"}, "dockerhub_auth": "me:tok", "image": "x"}]}
    clean = scrub(answer, "KEY-123")
    assert clean == {"wallets": [{"name": "bitcoin", "deposit": REMOVED}], "note": "key <api_key> used",
                     "orders": [{"env": REMOVED, "dockerhub_auth": REMOVED, "image": "x"}]}


def test_a_recording_directory_it_makes_is_private(tmp_path):
    path = write_recording(str(tmp_path / "new" / "recorded"), "wallets", "wallets", {"code": 0, "wallets": []}, "k")
    for directory in (tmp_path / "new", tmp_path / "new" / "recorded"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
