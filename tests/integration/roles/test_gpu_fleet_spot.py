"""clore.ai.gpu_fleet renting spot with a price cap against clore-sim's spot auction: one ansible-playbook run rents a
free server at the host's minimum and outbids a rival on another within the cap, passes over one the cap cannot win,
and the next play reaches both servers over SSH."""
from __future__ import annotations

from ..order.helpers import free_servers
from ..playbook import run_playbook
from .conftest import PLAYBOOKS

USD = "USD-Blockchain"
CAP = 12.0
STEP = 0.5


def test_gpu_fleet_rents_spot_within_the_cap_and_reaches_the_servers(sim, ansible_env, ssh_keypair):
    # Three RTX 4090 taking USD-Blockchain with a host minimum within half the cap: one stays free, one a rival holds
    # at a bid the cap beats, one a rival holds above the cap. Every other RTX 4090 is rented on demand.
    free, beatable, too_dear = free_servers(sim, spot_bid=CAP / 2)[:3]
    for row in free_servers(sim, spot_bid=10_000):
        if row["id"] not in (free["id"], beatable["id"], too_dear["id"]):
            sim.rent_elsewhere(row["id"])
    assert sim.rival_bid(beatable["id"], 9.0, currency=USD)["active"]
    assert sim.rival_bid(too_dear["id"], CAP + 5, currency=USD)["active"]

    fleet = {
        "gpu_fleet_count": 2,
        "gpu_fleet_gpu": ["RTX 4090"],
        "gpu_fleet_type": "spot",
        "gpu_fleet_currency": USD,
        "gpu_fleet_spot_max_price": CAP,
        "gpu_fleet_spot_bid_step": STEP,
        "gpu_fleet_spot_candidates": 30,
        "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0]),
        "gpu_fleet_group": "rented",
    }
    run = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    converged = run.result("Converge the fleet")
    orders = {o["server_id"]: o for o in converged["orders"]}
    assert sorted(orders) == sorted([free["id"], beatable["id"]]) and len(converged["created"]) == 2, converged

    # Spot, bid the least that wins: the host's minimum on the free server, the rival's bid plus the step on the
    # other; both run, and none is above the cap.
    for order in orders.values():
        assert order["spot"] and order["currency"] == USD and order["spot_active"], order
        assert order["spot_bid"] <= CAP and order["price_per_day"] <= CAP, order
    assert orders[free["id"]]["spot_bid"] == free["price"]["spot"][USD]
    assert orders[beatable["id"]]["spot_bid"] == 9.0 + STEP
    skipped = {s["server_id"]: s for s in converged["skipped_servers"]}
    assert skipped[too_dear["id"]]["bid_needed"] == CAP + 5 + STEP and skipped[too_dear["id"]]["top_rival_bid"] == CAP + 5
    assert too_dear["id"] not in orders

    # The next play reached each server over SSH, with the spot variables the role gives its hosts.
    added = {item["add_host"]["host_name"]: item["add_host"]["host_vars"]
             for item in run.task_results("Add the fleet's servers to group rented")[0]["results"]}
    for order in orders.values():
        name = f"clore-{order['id']}"
        assert run.result("Read the GPUs", name)["stdout_lines"] == [order["gpu_model"]] * order["gpu_count"]
        assert added[name]["clore_spot"] is True and float(added[name]["clore_price_per_day"]) <= CAP
    assert "spot" in run.result("Show the fleet")["msg"][1]
