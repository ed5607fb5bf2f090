"""Answers nested without end (clore-sim's deep_row / deep_answer faults, 5,000 levels), through real ansible runs:
every module that reads my_orders skips the deep row with a warning and reads the others, the inventory keeps its
other hosts, the marketplace loses one row, and a too-deep spot_marketplace answer fails clore_api_check naming it."""
from __future__ import annotations

import json

from clore_sim.faults import DEEP_ROW_ID

from .conftest import PLAYBOOKS
from .inventory.test_inventory import hosts_of, inventory_list, write_config
from .playbook import run_inventory, run_playbook

TASKS = """\
    - name: Orders
      clore.ai.clore_order_info:
    - name: GPU activity
      clore.ai.clore_gpu_activity:
        utilization: "{{ {kept: [90]} }}"
    - name: Keep one order
      clore.ai.clore_order:
        order_id: "{{ kept }}"
        state: present
        wait: false
    - name: Cancel one order
      clore.ai.clore_order:
        order_id: "{{ cancelled }}"
        state: absent
    - name: Market
      clore.ai.clore_market_info:
        limit: 500
"""
SKIPPED = "skipped orders row 1: it is nested deeper than 64 levels"


def warnings_of(result: dict) -> str:
    return "\n".join(result.get("warnings", []))


def test_every_reader_of_my_orders_skips_the_deep_row_and_keeps_the_others(sim, ansible_env, local_play):
    kept, cancelled, third = sim.seed_orders(sim.api_key, 3)
    sim.fault("my_orders", "deep_row", rate=1.0)  # every my_orders answer, for the whole test
    sim.fault("marketplace", "deep_row", rate=1.0)
    play = local_play("Every module that reads my_orders", TASKS)
    run = run_playbook(play, ansible_env, extra_vars={"kept": kept, "cancelled": cancelled})
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "recursion" not in output

    orders = run.result("Orders")
    assert sorted(o["id"] for o in orders["orders"]) == sorted([kept, cancelled, third])
    assert DEEP_ROW_ID not in [o["id"] for o in orders["orders"]]
    assert SKIPPED in warnings_of(orders)
    for name in ("GPU activity", "Keep one order", "Cancel one order"):
        result = run.result(name)
        assert not result.get("failed"), result
        assert SKIPPED in warnings_of(result), name
    assert run.result("Keep one order")["changed"] is False
    assert run.result("Cancel one order")["changed"] is True
    assert cancelled not in [o["id"] for o in sim.orders() if o.get("ended_at") is None]
    market = run.result("Market")
    assert market["servers"] and DEEP_ROW_ID not in [s["id"] for s in market["servers"]]
    assert "marketplace: skipped servers row 1: it is nested deeper than 64 levels" in warnings_of(market)


def test_the_inventory_keeps_its_other_hosts(sim, ansible_env, tmp_path):
    ids = sim.seed_orders(sim.api_key, 2)
    sim.fault("my_orders", "deep_row", rate=1.0)
    config = write_config(tmp_path, include_pending=True)
    listing = inventory_list(config, ansible_env)
    assert hosts_of(listing, "clore") == sorted(f"clore-{i}" for i in ids)
    proc = run_inventory(config, ansible_env, "--list")
    assert SKIPPED in " ".join(proc.stderr.split())
    assert "recursion" not in proc.stderr and "Traceback" not in proc.stderr


def test_check_api_reports_a_deep_row_and_fails_on_a_deep_answer_naming_it(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 1)
    check = "Call every read-only endpoint and compare the answers"
    sim.fault("my_orders", "deep_row", count=2)  # both my_orders reads of the check
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = run.result(check)
    assert result["report"]["my_orders"]["objects"]["orders[]"] == 1
    assert SKIPPED.replace("skipped", "my_orders: skipped") in warnings_of(result)

    sim.fault("spot_marketplace", "deep_answer")
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env)
    assert run.rc != 0
    result = run.result(check)
    assert result["failed"] is True
    assert result["msg"].startswith("Clore.ai API spot_marketplace: the answer (HTTP 200) was not read: it is JSON "
                                    "nested deeper than 64 levels")
    assert "Traceback" not in json.dumps(result) and "recursion" not in json.dumps(result)
