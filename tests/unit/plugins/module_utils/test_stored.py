"""stored: only allow-listed fields of an API record are stored, nested objects included."""
from __future__ import annotations

import json

from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order, strip_order
from ansible_collections.clore.ai.plugins.module_utils.stored import ORDER, SPECS, keep_allowed

NOW = 1_700_000_100

SECRET = "s3cret-in-specs"


def raw_order() -> dict:
    return {
        "id": 7, "si": 70, "image": "ubuntu", "currency": "CLORE-Blockchain", "price": 12.5, "ct": NOW - 100,
        "spot": False, "pub_cluster": ["n1.clore.test"], "tcp_ports": ["22:10022"], "mon_container": 2,
        "gpu_array": [["RTX 4090"], "RTX 4090"],
        "specs": {"gpu": "2x NVIDIA GeForce RTX 4090", "gpuram": 24, "ram": 64, "cpus": "16/32", "disk": "NVMe 900GB",
                  "net": {"cc": "DE", "up": 900, "down": 950, "token": SECRET, "test_history": [{"p": SECRET}]},
                  "ssh_password": SECRET, "env": {"KEY": SECRET}, "board": {"auth": SECRET}},
        "ssh_password": SECRET, "env": {"A": SECRET},
    }


def test_an_order_keeps_what_is_read_and_nothing_else():
    raw = raw_order()
    stored = strip_order(raw)
    assert SECRET not in json.dumps(stored)
    assert stored["specs"] == {"gpu": "2x NVIDIA GeForce RTX 4090", "gpuram": 24, "ram": 64, "cpus": "16/32",
                               "disk": "NVMe 900GB", "net": {"cc": "DE", "up": 900, "down": 950}}
    assert normalize_order(stored, now=NOW) == normalize_order(raw, now=NOW)


def test_leaf_fields_keep_flat_values_only():
    fields = {"tcp_ports": None, "pub_cluster": None, "gpu_array": None, "price": None}
    kept = keep_allowed({"tcp_ports": {"22": 10022, "x": {"password": SECRET}}, "pub_cluster": ["a", {"b": SECRET}],
                         "gpu_array": [["A", ["too", SECRET]], "B"], "price": {"nested": {"token": SECRET}}}, fields)
    assert kept == {"tcp_ports": {"22": 10022}, "pub_cluster": ["a"], "gpu_array": [["A"], "B"], "price": {}}


def test_a_nested_field_that_is_not_an_object_is_kept_flat():
    assert keep_allowed({"specs": "weird"}, ORDER) == {"specs": "weird"}
    assert keep_allowed({"specs": [{"gpu": SECRET}]}, ORDER) == {"specs": []}
    assert keep_allowed({"net": None}, SPECS) == {"net": None}


def test_not_a_mapping_is_returned_as_it_is():
    assert keep_allowed(["x"], ORDER) == ["x"] and keep_allowed(None, ORDER) is None


def test_depth_of_what_is_stored_is_bounded():
    deep: object = 1
    for _level in range(5000):
        deep = [deep]
    stored = keep_allowed({"id": 1, "gpu_array": deep, "specs": {"net": {"cc": deep}}}, ORDER)
    assert stored == {"id": 1, "gpu_array": [[]], "specs": {"net": {"cc": [[]]}}}  # two levels of lists at most
