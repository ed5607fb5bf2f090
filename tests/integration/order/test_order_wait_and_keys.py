"""What Ansible makes of clore_order's result after a fail-over, and waiting that ends within wait_timeout.

A result key Ansible reserves (`skipped`) would turn a task that rented servers into "skipping:" with changed=0 and
no handler; the fail-over list is `skipped_servers`. While waiting, an order that ends is reported at once with its
reason, and the money message says which orders still exist and which ended.
"""
from __future__ import annotations

import threading
import time

from ..playbook import run_playbook
from .helpers import GPU, IMAGE, active_orders

FLEET_TASKS = """\
    - name: Fleet
      clore.ai.clore_order: "{{ order_args }}"
      register: fleet
      notify: Fleet changed
    - name: Read the result as a playbook would
      ansible.builtin.set_fact:
        fleet_is_changed: "{{ fleet is changed }}"
        fleet_is_skipped: "{{ fleet is skipped }}"
        fleet_skipped_servers: "{{ fleet.skipped_servers }}"
  handlers:
    - name: Fleet changed
      ansible.builtin.debug:
        msg: the fleet changed
"""


def rent_elsewhere_once_searched(sim, server_id: int, searches: int) -> threading.Thread:
    """Rent `server_id` elsewhere as soon as the market has been read `searches` times (a create is held meanwhile)."""

    def act():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sim.counters()["requests"].get("marketplace", 0) < searches:
            time.sleep(0.05)
        sim.rent_elsewhere(server_id)

    helper = threading.Thread(target=act)
    helper.start()
    return helper


def test_fail_over_reports_changed_fires_the_handler_and_lists_skipped_servers(sim, ansible_env, run_order,
                                                                               local_play):
    args = {"count": 3, "gpu": GPU, "image": IMAGE, "currency": "USD", "wait": False}
    plan = run_order(ansible_env, args, check=True).result
    cheapest = plan["would_create"][0]
    sim.fault("create_order", "delay", delay=3.0)  # holds the first create while someone else rents the server
    helper = rent_elsewhere_once_searched(sim, cheapest["server_id"], searches=2)
    play = local_play("A fleet whose first choice is taken", FLEET_TASKS)
    try:
        done = run_playbook(play, ansible_env, extra_vars={"order_args": args})
    finally:
        helper.join()
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = done.result("Fleet")
    assert result["changed"] is True and "skipped" not in result
    assert len(result["created"]) == 3 and len(active_orders(sim)) == 3
    assert result["skipped_servers"] == [{"server_id": cheapest["server_id"], "currency": "USD-Blockchain",
                                          "price_per_day": cheapest["price_per_day"],
                                          "reason": "server-already-rented"}]
    facts = done.result("Read the result as a playbook would")["ansible_facts"]
    assert facts["fleet_is_changed"] is True and facts["fleet_is_skipped"] is False
    assert facts["fleet_skipped_servers"] == result["skipped_servers"]
    assert done.result("Fleet changed")["msg"] == "the fleet changed"
    assert done.stats["localhost"]["changed"] == 1 and done.stats["localhost"]["skipped"] == 0


def outbid_once_listed(sim, count: int) -> tuple[threading.Thread, list[int]]:
    """Outbid the first of `count` spot orders as soon as all of them are provisioned; the outbid id is appended."""
    outbid: list[int] = []

    def act():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            orders = [o for o in active_orders(sim) if o["provisioned"]]
            if len(orders) == count:
                first = min(o["id"] for o in orders)
                sim.outbid(first)
                outbid.append(first)
                return
            time.sleep(0.1)

    helper = threading.Thread(target=act)
    helper.start()
    return helper, outbid


def test_a_spot_order_outbid_while_waiting_ends_the_wait_at_once_and_is_not_said_to_cost_money(sim, ansible_env,
                                                                                               run_order):
    # No SSH key: the ports are listed but refuse connections, so the wait only probes banners until it times out.
    args = {"count": 2, "gpu": GPU, "image": IMAGE, "type": "spot", "spot_price": 12.0, "currency": "USD-Blockchain",
            "wait_timeout": 300}
    helper, outbid = outbid_once_listed(sim, 2)
    try:
        result = run_order(ansible_env, args).result
    finally:
        helper.join()
    assert result["failed"] and outbid, result
    other = next(i for i in result["created"] if i != outbid[0])
    message = result["msg"]
    assert message.startswith(f"order {outbid[0]} ended while waiting for it to get ready: outbid: server "), message
    assert "now runs a rival bid of 14.4 USD-Blockchain/day (ours was 12.0 USD-Blockchain/day)" in message
    assert "timed out" not in message
    assert (f"order(s) {outbid[0]} were rented by this run and have ended (listed as expired in my_orders): they no "
            "longer cost money") in message
    assert f"order(s) {other} were rented by this run and still exist: they cost money until cancelled" in message
    assert result["ended"] == outbid and [o["id"] for o in result["orders"]] == [other]
    assert [o["id"] for o in active_orders(sim)] == [other]
