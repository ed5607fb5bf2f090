"""clore_order_info and the watch_orders playbook against clore-sim, through real ansible-playbook runs."""
from __future__ import annotations

import json
from pathlib import Path

from .inventory import sim_orders
from .playbook import run_playbook

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"

TASKS = """\
    - name: All active
      clore.ai.clore_order_info:
      register: all_active
    - name: By order id
      clore.ai.clore_order_info:
        order_ids: "{{ wanted_orders }}"
    - name: By server id
      clore.ai.clore_order_info:
        server_ids: "{{ wanted_servers }}"
    - name: With ended ones
      clore.ai.clore_order_info:
        return_completed: true
"""


def test_order_info_filters_and_normalises(sim, ansible_env, ssh_keypair, local_play):
    servers = sim_orders.free_servers(sim, 3)
    for server in servers[:2]:
        sim_orders.rent(sim, server, ssh_keypair[1])
    sim_orders.rent(sim, servers[2], ssh_keypair[1], spot=True)
    orders = {o["si"]: o for o in sim_orders.wait_until_reachable(sim, 3)}
    ended = orders[servers[0]["id"]]["id"]
    sim_orders.cancel(sim, ended)
    second = orders[servers[1]["id"]]
    spot = orders[servers[2]["id"]]

    posts_before = sum(sim.counters()["posts"].values())
    run = run_playbook(local_play("Read orders", TASKS), ansible_env, check=True,
                       extra_vars={"wanted_orders": [second["id"], 999999], "wanted_servers": [servers[2]["id"]]})
    assert run.rc == 0, run.stdout + run.stderr
    assert sum(sim.counters()["posts"].values()) == posts_before  # reads only, in check mode too

    active = run.result("All active")
    assert active["changed"] is False
    assert sorted(o["id"] for o in active["orders"]) == sorted([second["id"], spot["id"]])
    assert active["count"] == 2
    got = active["orders_by_id"][str(second["id"])]
    assert got["server_id"] == servers[1]["id"]
    assert (got["ssh_host"], got["ssh_port"], got["ssh_user"]) == ("127.0.0.1", sim_orders.ssh_port(second), "root")
    assert got["ssh_command"] == f"ssh -p {sim_orders.ssh_port(second)} root@127.0.0.1"
    assert got["ready"] is True and got["spot"] is False and got["expired"] is False
    assert got["price_per_day"] == second["price"] and got["currency"] == second["currency"]
    assert got["gpu_model"] and got["gpu_count"] >= 1
    assert got["age_seconds"] >= 0 and got["time_left_seconds"] <= got["mrl_seconds"]
    assert active["orders_by_id"][str(spot["id"])]["spot"] is True
    assert set(active["spend_by_currency"]) == {second["currency"], spot["currency"]}

    by_id = run.result("By order id")
    assert [o["id"] for o in by_id["orders"]] == [second["id"]]
    assert by_id["missing_order_ids"] == [999999]

    by_server = run.result("By server id")
    assert [o["id"] for o in by_server["orders"]] == [spot["id"]]

    with_ended = run.result("With ended ones")
    ended_order = with_ended["orders_by_id"][str(ended)]
    assert ended_order["expired"] is True and with_ended["count"] == 3

    assert ssh_keypair[1].split()[1] not in run.stdout


def test_watch_orders_playbook(sim, ansible_env, ssh_keypair):
    for server in sim_orders.free_servers(sim, 2):
        sim_orders.rent(sim, server, ssh_keypair[1])
    orders = sim_orders.wait_until_reachable(sim, 2)
    run = run_playbook(PLAYBOOKS / "watch_orders.yml", ansible_env)
    assert run.rc == 0, run.stdout + run.stderr
    read = run.result("Read my orders")
    assert sorted(o["id"] for o in read["orders"]) == sorted(o["id"] for o in orders)
    shown = [r["msg"] for r in run.task_results("Show each order")[0]["results"]]
    assert len(shown) == 2
    for order in read["orders"]:
        (line,) = [m for m in shown if m.startswith(f"order {order['id']} on server {order['server_id']} ")]
        assert f"ssh -p {order['ssh_port']} root@127.0.0.1" in line
        assert f"spent {order['spend']:.4f} {order['currency']} at {order['price_per_day']:.4f}/day" in line
        assert f"({order['gpu_count']}x {order['gpu_model']}, {order['country']}, on-demand): running" in line
        # The order's mrl is in hours (as the real API sends it): a new order has nearly all of them left.
        assert order["mrl_seconds"] == order["mrl"] * 3600 and order["time_left_seconds"] > (order["mrl"] - 1) * 3600
        assert f", {order['time_left_seconds'] // 3600}h left;" in line
    assert run.result("Show the number of orders")["msg"] == "2 order(s)"
    spent = [r["msg"] for r in run.task_results("Show the spend so far per currency")[0]["results"]]
    assert sorted(spent) == sorted(f"spent so far: {total:.4f} {currency}"
                                   for currency, total in read["spend_by_currency"].items())


HOSTILE_HOST = "-oProxyCommand=touch /tmp/clore-order-info-pwned"


def test_one_unreadable_order_is_skipped_and_an_unsafe_endpoint_reported_without_it(sim, ansible_env, local_play):
    unreadable, hostile, fine = sim.seed_orders(sim.api_key, 3)
    sim.admin("POST", "order_fields", {"order_id": unreadable, "fields": {"ct": float("inf")}})  # JSON 1e999
    sim.admin("POST", "order_fields", {"order_id": hostile, "fields": {"pub_cluster": [HOSTILE_HOST]}})

    run = run_playbook(local_play("Read orders", TASKS), ansible_env,
                       extra_vars={"wanted_orders": [], "wanted_servers": []})
    assert run.rc == 0, run.stdout + run.stderr
    active = run.result("All active")
    assert sorted(active["orders_by_id"]) == sorted([str(hostile), str(fine)])
    reported = active["orders_by_id"][str(hostile)]
    assert reported["ready"] is False and reported["ssh_host"] is None and reported["ssh_command"] is None
    assert "pub_cluster entry" in reported["ssh_endpoint_error"]
    assert HOSTILE_HOST not in json.dumps({k: v for k, v in reported.items() if k != "ssh_endpoint_error"})
    assert active["orders_by_id"][str(fine)]["ready"] is True
    (skipped, without_endpoint) = active["warnings"]
    assert f"order {unreadable}: ct inf is not a finite number" in skipped
    assert f"Order {hostile} is returned without an SSH endpoint" in without_endpoint
