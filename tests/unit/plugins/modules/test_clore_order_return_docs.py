"""One order, documented twice: clore_order's RETURN `orders` and clore_order_info's must not drift apart.

Ansible reads RETURN as one literal string per module (a doc fragment extends DOCUMENTATION only), so both modules
spell out every field for ansible-doc. These tests keep the two lists the same - the same keys, described alike -
but for the fields only one module returns, and keep each list equal to the keys the module really returns.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from ansible_collections.clore.ai.plugins.module_utils._order.bid_choice import BidChoice
from ansible_collections.clore.ai.plugins.module_utils._order.spot import order_info
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import ssh_settings
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.reaping import add_money_and_age

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"

# Money and lifetime figures clore_order_info adds to an order (reaping.add_money_and_age).
INFO_ONLY = {"age_hours", "spend_usd", "lifetime_due_at", "lifetime_expired"}
# What a spot order's market says, on clore_order's spot orders only.
ORDER_ONLY = {"spot_bid", "spot_active", "spot_top_rival_bid", "spot_top_rival_currency", "spot_status"}
# The same key, worth a different sentence: clore_order lists active orders only, and converts no coin to dollars.
DESCRIBED_APART = {"expired", "usd_per_day"}

RAW = {"id": 41, "si": 7, "image": "cloreai/ubuntu22.04-jupyter", "currency": "CLORE-Blockchain", "price": 100.0,
       "spend": 1.5, "creation_fee": 0.0, "ct": 1_750_000_000, "mrl": 86400, "spot": True, "expired": False,
       "online": True, "specs": {"gpu": "1x NVIDIA GeForce RTX 4090", "gpuram": 24, "net": {"cc": "DE"}},
       "pub_cluster": ["n1.c1.clorecloud.net"], "tcp_ports": ["22:10000"], "http_port": "8888",
       "http_pub": "abc.clorecloud.net", "mon_container": 1}


def order_docs(module: str) -> dict:
    tree = ast.parse((MODULES / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))["orders"]
    raise AssertionError(f"{module} has no RETURN")


ORDER = order_docs("clore_order")
INFO = order_docs("clore_order_info")


def test_both_modules_document_the_same_fields_of_an_order():
    assert set(ORDER["contains"]) - ORDER_ONLY == set(INFO["contains"]) - INFO_ONLY


def test_a_field_documented_in_both_is_documented_alike():
    shared = set(ORDER["contains"]) & set(INFO["contains"])
    for key in sorted(shared - DESCRIBED_APART):
        assert ORDER["contains"][key] == INFO["contains"][key], key
    for key in sorted(shared & DESCRIBED_APART):
        assert ORDER["contains"][key]["type"] == INFO["contains"][key]["type"], key


def test_clore_order_names_what_it_leaves_out():
    text = " ".join(ORDER["description"])
    assert set(re.findall(r"C\((\w+)\)", text)) >= INFO_ONLY
    assert "RV(orders[].usd_per_day)" in text


def test_the_documented_fields_are_the_returned_ones():
    order = normalize_order(RAW, now=1_750_003_600)
    with_ssh = order | ssh_settings(order, "/tmp/known_hosts", "per_order")
    spot = order_info(order, {}, BidChoice("CLORE-Blockchain", None, None, None, None, None))
    assert set(ORDER["contains"]) == set(with_ssh | spot)
    info = add_money_and_age(with_ssh, {"CLORE-Blockchain": 0.025}, 1_750_003_600, None)
    assert set(INFO["contains"]) == set(info)
