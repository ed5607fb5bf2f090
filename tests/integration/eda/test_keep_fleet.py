"""extensions/eda/rulebooks/keep_fleet.yml run by the real ansible-rulebook against clore-sim: one order of a spot
fleet of 2 is outbid, and the fleet is back at 2 (re-bid within the cap, or a replacement); how soon is
measured by make bench."""
from __future__ import annotations

import pytest

from ..conftest import PLAYBOOKS
from ..playbook import run_playbook
from .conftest import CREATE_SPACING, INTERVAL
from .rulebook import wait_for
from .sim_actions import active_orders

# Generous on purpose: how soon the fleet is whole again (the goal: the poll interval + the create spacing
# + 10 s) is measured by `make bench` (tests/benchmarks/bench_eda.py), never asserted under a loaded machine's timing.
DEADLINE = INTERVAL + CREATE_SPACING + 60


def running(sim) -> list[dict]:
    """My orders that hold their server (a spot order outbid waits, without its server, until it ends)."""
    return [o for o in active_orders(sim) if not o.get("waiting")]


@pytest.mark.slow  # at the API's real limits (1 request/s, a create 5 s after any request)
def test_an_outbid_order_is_replaced(sim, rulebook_env, start_rulebook, ssh_keypair):
    fleet = {"spot_fleet_count": 2, "spot_fleet_max_price": 12.0, "spot_fleet_wait": False,
             "spot_fleet_ssh_private_key_file": str(ssh_keypair[0])}
    rented = run_playbook(PLAYBOOKS / "spot_fleet.yml", rulebook_env, extra_vars=fleet)
    assert rented.rc == 0, rented.stdout[-3000:]
    members = running(sim)
    assert len(members) == 2 and all(o["spot"] for o in members)

    sim.admin("POST", "reset", {})  # the counters: from here on, every my_orders call is the source's
    # My orders only at each look: at a 2 s interval, a spot market read per order would take most of the key's
    # 1 request/s from the playbook (clore-sim ends an outbid order at once, as Clore does: order_ended tells it).
    rulebook = start_rulebook("keep_fleet", {**fleet, "keep_fleet_interval": INTERVAL,
                                             "keep_fleet_spot_markets": False})
    # The source's first look is its baseline (an order ended before it is not told): outbid after it.
    wait_for("the orders source's first look done", lambda: sim.counters()["requests"].get("my_orders", 0) >= 2,
             60, rulebook)
    sim.outbid(members[0]["id"])
    assert len(running(sim)) == 1

    wait_for("the fleet back at 2", lambda: len(running(sim)) == 2, DEADLINE, rulebook)
    assert len(active_orders(sim)) <= 3  # at most the outbid order, until it ends, beside the two that run
