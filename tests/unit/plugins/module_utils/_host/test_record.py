"""Reading the servers a key hosts: the real my_servers rows without loss, and odd rows without failing."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils._host.record import (
    autoprice_on,
    normalize_hosted,
    read_hosted,
    rented_until,
)

REAL = json.loads((Path(__file__).resolve().parents[3] / "fixtures" / "real_my_servers.json").read_text())["servers"]


def test_the_real_rows_are_read_without_loss():
    records, warnings = read_hosted(copy.deepcopy(REAL))
    assert warnings == []  # the duplicate rig-a row is the same row twice: kept once, silently
    assert [r["name"] for r in records] == ["rig-a", "rig-b"]
    rig_a, rig_b = records
    assert rig_a["id"] == 73340 and rig_a["public_name"] == "host-a"
    assert rig_a["visibility"] == "public" and rig_a["available"] is True
    assert rig_a["connected"] is True and rig_a["online"] is True and rig_a["working_properly"] is True
    assert rig_a["rented"] is True and rig_a["remaining_time"] == 1754149391786
    assert rig_a["rented_until"] == "2025-08-02T15:43:11+00:00"
    assert rig_a["gpu_model"] == "NVIDIA GeForce RTX 4090" and rig_a["gpu_count"] == 5
    assert rig_a["gpu_array"] == ["RTX 4090"] * 5
    assert rig_a["on_demand_price"] == {"bitcoin": 0.00020855, "CLORE-Blockchain": 1174.03}
    assert rig_a["spot_min_price"] == {"bitcoin": 0.00011376, "CLORE-Blockchain": 640.38}
    assert rig_a["coins"] == ["CLORE-Blockchain", "bitcoin"]
    assert rig_a["usd_pricing"] == {"on_demand": 22, "spot": 12} and rig_a["autoprice"] is True
    assert rig_a["max_fair_price_usd"] == 42.79 and rig_a["energy_price"] == 0.08
    assert rig_a["max_poh_capacity"] == 300000
    assert rig_a["specs"] == REAL[0]["specs"]  # specs as given: backend_version, pcie_rev, xfs, net.test_history
    assert len(rig_a["oc_gpus"]) == 5 and rig_a["oc_gpus"][0]["default_power_limit"] == 450  # the JSON string, read
    assert rig_a["mrl"] is None and rig_a["rental_type"] is None and rig_a["config_read"] is False
    assert (rig_a["enable_btc_and_clore"], rig_a["enable_only_clore"], rig_a["enable_only_btc"]) == (True, True, False)
    assert rig_a["is_vpn_enabled"] is False and rig_a["mass_price_changeable"] is True

    assert rig_b["id"] == 74663 and rig_b["gpu_model"] == "NVIDIA CMP 50HX" and rig_b["gpu_count"] == 1
    assert rig_b["online"] is False and rig_b["working_properly"] is False
    assert rig_b["rented"] is False and rig_b["rented_until"] is None and rig_b["remaining_time"] is None
    assert rig_b["on_demand_price"] == {"bitcoin": 4.74e-05, "CLORE-Blockchain": 266.83}
    assert rig_b["energy_price"] is None  # absent in this row


def test_every_value_of_the_real_rows_is_kept_somewhere():
    """No field of a real row is dropped: each is a record field, inside specs/oc_gpus, or a price map."""
    mapped = {"pricing": "on_demand_price", "min_spot_pricing": "spot_min_price", "oc_gpus": "oc_gpus"}
    for row in REAL:
        (record,) = read_hosted([row])[0]
        for field in row:
            assert mapped.get(field, field) in record, field


def test_config_adds_mrl_rental_and_takes_precedence():
    config = {"name": "rig-a", "id": 73340, "mrl": 168, "rental_status": 1, "visibility": "hidden",
              "pricing": {"CLORE-Blockchain": 999.0}, "spot_pricing": {"CLORE-Blockchain": 500.0},
              "allowed_coins": ["CLORE-Blockchain"], "autoprice": False, "usd_pricing": {"on_demand": 30, "spot": 9},
              "background_job": {"image": "x", "env": {"TOKEN": "secret-env-value"}}}
    record = normalize_hosted(REAL[0], config)
    assert record["mrl"] == 168 and record["rental_type"] == "spot" and record["rented"] is True
    assert record["available"] is False and record["visibility"] == "hidden"
    assert record["on_demand_price"] == {"CLORE-Blockchain": 999.0}
    assert record["spot_min_price"] == {"CLORE-Blockchain": 500.0}
    assert record["coins"] == ["CLORE-Blockchain"] and record["autoprice"] is False
    assert record["usd_pricing"] == {"on_demand": 30, "spot": 9} and record["config_read"] is True
    assert "secret-env-value" not in json.dumps(record)
    free = normalize_hosted(REAL[0], {**config, "rental_status": 0})
    assert free["rented"] is False and free["rented_until"] is None


def test_secrets_a_row_may_carry_are_never_copied():
    row = {**REAL[1], "init_token": "very-secret-init-token"}
    assert "very-secret-init-token" not in json.dumps(normalize_hosted(row))


@pytest.mark.parametrize("field, value", [
    ("id", "abc"), ("id", -3), ("id", True), ("connected", "maybe"), ("visibility", 3), ("pricing", "cheap"),
    ("pricing", {"bitcoin": "NaN", "CLORE-Blockchain": 1e999, "doge": 5, "USD-Blockchain": -1}),
    ("min_spot_pricing", None), ("usd_pricing", [1]), ("usd_pricing", {"on_demand": "inf"}), ("autoprice", 7),
    ("gpu_array", [["RTX 4090", ["RTX 4090"]], 5]), ("gpu_count", "many"), ("specs", "none"),
    ("specs", {"gpu": 12}), ("oc_gpus", "{not json"), ("oc_gpus", 12), ("remaining_time", "soon"),
    ("remaining_time", 1e308), ("max_fair_price_usd", -5), ("rented", "yes-ish"), ("energy_price", {}),
])
def test_an_odd_field_reads_as_unknown_and_keeps_the_row(field, value):
    row = {**copy.deepcopy(REAL[0]), field: value}
    records, warnings = read_hosted([row, copy.deepcopy(REAL[1])])
    assert [r["name"] for r in records] == ["rig-a", "rig-b"] and warnings == []
    json.dumps(records)  # always serialisable


def test_odd_fields_read_as_null():
    row = {"name": "odd", "id": "12", "pricing": {"bitcoin": "NaN", "CLORE-Blockchain": "250.5", "doge": 5},
           "usd_pricing": {"on_demand": "inf", "spot": 3}, "remaining_time": "soon", "rented": True,
           "gpu_array": [["RTX 3090"], "RTX 3090"], "oc_gpus": "{not json"}
    record = normalize_hosted(row)
    assert record["id"] == 12 and record["on_demand_price"] == {"CLORE-Blockchain": 250.5}
    assert record["usd_pricing"] == {"on_demand": None, "spot": 3}
    assert record["rented"] is True and record["rented_until"] is None and record["remaining_time"] is None
    assert record["gpu_model"] == "RTX 3090" and record["gpu_count"] == 2 and record["oc_gpus"] == []
    assert record["available"] is None and record["autoprice"] is None and record["coins"] == ["CLORE-Blockchain"]


def test_bad_rows_are_skipped_with_a_warning_naming_them():
    rows = ["text", {"id": 5, "name": ""}, {"id": 6}, copy.deepcopy(REAL[1]), None]
    records, warnings = read_hosted(rows)
    assert [r["name"] for r in records] == ["rig-b"]
    assert len(warnings) == 4
    assert warnings[0].startswith("my_servers row 0 is not an object")
    assert "row 1 (id '5') has no name" in warnings[1] and "row 2 (id '6')" in warnings[2]
    assert read_hosted("not a list") == ([], [])


def test_a_server_listed_twice_with_other_values_keeps_the_first_and_says_so():
    changed = {**copy.deepcopy(REAL[0]), "usd_pricing": {"on_demand": 99, "spot": 1}}
    records, warnings = read_hosted([copy.deepcopy(REAL[0]), changed])
    assert len(records) == 1 and records[0]["usd_pricing"]["on_demand"] == 22
    assert warnings == ["my_servers row 1 (name 'rig-a') lists server 'rig-a' again with other values than row 0: "
                        "kept row 0"]


@pytest.mark.parametrize("value, expected", [
    ("usd", True), ("USD", True), (False, False), ("", False), ("off", False), (None, None), (True, True),
    ({"bitcoin": "usd", "CLORE-Blockchain": False}, True), ({"bitcoin": False}, False), ({}, None), (3, None),
])
def test_autoprice_reads_every_known_shape(value, expected):
    assert autoprice_on(value) is expected


def test_usd_pricing_per_coin_shape_of_the_newest_client():
    row = {"name": "n", "usd_pricing": {"CLORE-Blockchain": {"on_demand": 10, "spot": 4}}}
    assert normalize_hosted(row)["usd_pricing"] == {"on_demand": 10, "spot": 4}


@pytest.mark.parametrize("value, expected", [
    (1754149391786, "2025-08-02T15:43:11+00:00"), (1754149391, "2025-08-02T15:43:11+00:00"), (3600, None),
    (None, None), ("x", None), (float("inf"), None), (1e30, None),
])
def test_rented_until(value, expected):
    assert rented_until(value) == expected


def test_a_deep_oc_gpus_string_is_read_as_no_gpus():
    """oc_gpus is JSON inside a string: read with the same nesting bound as every answer."""
    row = copy.deepcopy(REAL[0])
    row["oc_gpus"] = "[" * 5000 + "]" * 5000
    assert normalize_hosted(row)["oc_gpus"] == []
