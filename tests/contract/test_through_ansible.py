"""The documented shapes served by clore-sim (--market-file, order_fields stubs), read by the real modules and the
inventory: the documented result for each variant, and clore_api_check passes on them."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import yaml
from clore_sim.testing import SimServer

from tests.integration.conftest import COLLECTIONS_PATH
from tests.integration.playbook import base_env, run_inventory, run_playbook

from .conftest import FIXTURES, fixture
from .test_shapes import MARKET_EXPECTED, ORDER_EXPECTED

PLAY = """
- name: Read the documented shapes
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Market
      clore.ai.clore_market_info:
        available_only: false
        gpu: []
      register: market
    - name: Orders
      clore.ai.clore_order_info:
      register: orders
    - name: Check
      clore.ai.clore_api_check:
      register: check
"""


@pytest.fixture
def documented_sim(tmp_path: Path):
    market = FIXTURES / "documented" / "marketplace.json"
    with SimServer(tmp_path / "sim", extra_args=["--market-file", str(market)]) as sim:
        yield sim


def clore_rate(rows: list[dict]) -> float:
    """USD per CLORE over the rows that give a CLORE price and its dollar figure (on-demand and spot), the median."""
    samples = []
    for row in rows:
        price = row.get("price") or {}
        usd = price.get("usd") or {}
        if "CLORE-Blockchain" in price.get("on_demand", {}) and "on_demand_clore" in usd:
            samples.append(usd["on_demand_clore"] / price["on_demand"]["CLORE-Blockchain"])
        if "CLORE-Blockchain" in price.get("spot", {}) and "spot" in usd:
            samples.append(usd["spot"] / price["spot"]["CLORE-Blockchain"])
    return statistics.median(samples)


def test_documented_shapes_through_the_modules_and_the_inventory(documented_sim, tmp_path):
    sim = documented_sim
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                "CLORE_STATE_DIR": str(tmp_path / "state"), "CLORE_API_REQUEST_INTERVAL": "0"})
    # Orders on the recorded servers, listed with the documented variants of each field.
    documented = {o["si"]: o for o in fixture("documented/orders.json")["orders"]}
    ids = sim.seed_orders(sim.api_key, 2)
    listed, ordered_servers = {}, set()
    for order in sim.orders():
        if order["id"] in ids:
            ordered_servers.add(order["si"])
            variant = documented[order["si"]] if order["si"] in documented else documented[73340]
            fields = {k: v for k, v in variant.items() if k not in ("id", "si", "expired", "ct")}
            sim.admin("POST", "order_fields", {"order_id": order["id"], "fields": fields})
            listed[order["id"]] = variant["id"]

    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    run = run_playbook(play, env)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]

    servers = {s["id"]: s for s in run.result("Market")["servers"]}
    assert set(servers) == set(MARKET_EXPECTED)
    for server_id, expected in MARKET_EXPECTED.items():
        if server_id in ordered_servers:  # rented now, by the orders above
            expected = {**expected, "rented": True}
        if server_id == 75002:  # no dollar figure of its own: CLORE at the answer's own rate
            expected = {**expected, "usd_per_day": pytest.approx(400.0 * clore_rate(fixture("documented/marketplace.json")["servers"]), abs=1e-6),
                        "usd_source": "market_rates"}
        assert {name: servers[server_id][name] for name in expected} == expected, server_id

    orders = {o["id"]: o for o in run.result("Orders")["orders"]}
    for order_id, variant_id in listed.items():
        expected = {k: v for k, v in ORDER_EXPECTED[variant_id].items() if k != "time_left_seconds"}
        assert {name: orders[order_id][name] for name in expected} == expected, variant_id

    check = run.result("Check")
    assert check["ok"] is True and check["failures"] == []
    assert "marketplace: servers[].specs.new_field" in check["unknown_fields"]

    config = tmp_path / "contract.clore.yml"
    config.write_text(yaml.safe_dump({"plugin": "clore.ai.clore"}))
    proc = run_inventory(config, env, "--list")
    assert proc.returncode == 0, proc.stderr
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    by_order = {_plain(v["clore_order_id"]) if "clore_order_id" in v else _plain(v["clore_id"]): v
                for v in hostvars.values()}
    for order_id, variant_id in listed.items():
        host = by_order[order_id]
        expected = ORDER_EXPECTED[variant_id]
        assert _plain(host["clore_ssh_host"]) == expected["ssh_host"]
        assert _plain(host["clore_ssh_port"]) == expected["ssh_port"]
        assert _plain(host["clore_mrl"]) == expected["mrl"]


def _plain(value):
    return value["__ansible_unsafe"] if isinstance(value, dict) and set(value) == {"__ansible_unsafe"} else value
