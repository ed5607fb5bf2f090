"""The API check's rules: relied-on fields fail when of another type anywhere or missing everywhere; the rest is
reported; recordings lose every secret."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.api_check import PASSED, check_answer, summarize
from ansible_collections.clore.ai.plugins.module_utils.api_record import REMOVED, scrub, write_recording


def order(**fields) -> dict:
    base = {"id": 1, "si": 2, "image": "x/y", "currency": "bitcoin", "price": 1.0, "ct": 1, "spot": False,
            "pub_cluster": ["n1.c1.clorecloud.net"], "tcp_ports": ["22:10000"]}
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


@pytest.mark.parametrize("endpoint", [
    {"pub_cluster": ["n1.c1.clorecloud.net", "n2.c1.clorecloud.net"], "tcp_ports": ["22:10000", "8888:10001"]},
    {"pub_cluster": "n1.c1.clorecloud.net", "tcp_ports": {"22": 10000}},  # one SDK's types
    {"pub_cluster": [], "tcp_ports": []},  # listed before it is provisioned
    {"tcp_ports": {"22": "10000"}},
])
def test_the_ssh_endpoint_in_every_documented_shape_is_right(endpoint):
    report = check_answer("my_orders", {"orders": [order(**endpoint)]})
    assert report["wrong_type"] == [] and report["failures"] == []


@pytest.mark.parametrize(("endpoint", "field", "got"), [
    ({"tcp_ports": "22:10000"}, "orders[].tcp_ports", "string"),
    ({"tcp_ports": 10000}, "orders[].tcp_ports", "int"),
    ({"tcp_ports": [22, 10000]}, "orders[].tcp_ports", "list of int"),
    ({"tcp_ports": {"22": [10000]}}, "orders[].tcp_ports", "dict of list"),
    ({"pub_cluster": {"host": "n1"}}, "orders[].pub_cluster", "dict"),
    ({"pub_cluster": [["n1"]]}, "orders[].pub_cluster", "list of list"),
])
def test_an_ssh_endpoint_field_of_another_shape_fails_naming_it(endpoint, field, got):
    report = check_answer("my_orders", {"orders": [order(), order(**endpoint)]})
    assert [(w["field"], w["got"]) for w in report["wrong_type"]] == [(field, [got])]
    expected = {"orders[].tcp_ports": "list of string or dict of int/string",
                "orders[].pub_cluster": "list of string or string"}[field]
    assert report["failures"] == [f"my_orders: {field} is {got} in 1 of 2, expected {expected}; the collection "
                                  "relies on it"]


def test_a_field_read_but_not_relied_on_of_another_type_fails_too():
    report = check_answer("my_orders", {"orders": [order(mon_container="2")]})
    assert report["failures"] == ["my_orders: orders[].mon_container is string in 1 of 1, expected int; the "
                                  "collection reads it"]


def test_a_field_missing_on_some_rows_and_not_relied_on_is_only_reported():
    report = check_answer("my_orders", {"orders": [order(), order(http_pub="h.example")]})
    assert report["failures"] == [] and {"field": "orders[].http_pub", "rows": 1, "of": 2, "relied": False} \
        in report["missing"]


def test_the_verdict_and_the_lines_come_from_the_same_entries():
    good = check_answer("wallets", {"wallets": [{"name": "bitcoin", "balance": 1.0}]})
    bad = check_answer("my_orders", {"orders": [order(tcp_ports=10000)]})
    assert summarize({"wallets": good}) == {
        "ok": True, "failures": [], "verdict": PASSED,
        "lines": ["wallets: ok; (answer) x1, wallets[] x1; missing wallets[].deposit (1 of 1), "
                  "wallets[].withdrawal_fee (1 of 1); wrong type none; unknown none"]}
    failed = summarize({"wallets": good, "my_orders": bad})
    assert failed["ok"] is False and failed["failures"] == bad["failures"]
    assert failed["verdict"] == "FAILED (1): " + bad["failures"][0] and PASSED not in failed["verdict"]
    assert failed["lines"][1].startswith("my_orders: FAILED;")
    assert "wrong type orders[].tcp_ports (int, expected list of string or dict of int/string)" in failed["lines"][1]
