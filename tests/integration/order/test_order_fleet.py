"""A fleet of 6 from a 3-fork play at clore-sim's default limits: exactly 6 orders, no 429, a second run changes nothing.

Three hosts each keep a fleet of 2 with their own image (what a user writes to give each worker group its machines);
the forks meet only in the controller-wide rate limiter and the server claims.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from ..conftest import COLLECTIONS_PATH
from ..playbook import base_env
from ..real_limits import CREATE_INTERVAL, RATE_TOLERANCE, REQUEST_INTERVAL
from .helpers import GPU, IMAGE as FLEET_IMAGE, active_orders, posts

IMAGES = {"w1": "cloreai/ubuntu22.04-jupyter", "w2": "cloreai/ubuntu20.04-jupyter",
          "w3": "nvidia/cuda:12.1.0-devel-ubuntu22.04"}


@pytest.mark.slow
def test_fleet_of_six_from_three_forks(tmp_path: Path, run_order, ssh_keypair):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[workers]\n" + "".join(f"{h} fleet_image={i}\n" for h, i in IMAGES.items()))
    task = {"count": 2, "image": "{{ fleet_image }}", "ssh_key": ssh_keypair[1], "wait_timeout": 240}
    with SimServer(tmp_path / "sim", request_interval=REQUEST_INTERVAL, create_interval=CREATE_INTERVAL,
                   rate_tolerance=RATE_TOLERANCE) as sim:
        env = base_env(COLLECTIONS_PATH, tmp_path)
        env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                    "CLORE_STATE_DIR": str(tmp_path / "clore-state")})  # the default 1 s / 5 s limits

        first = run_order(env, task, inventory=inventory, forks=3)
        assert first.run.rc == 0, first.output[-3000:]
        assert set(first.results) == set(IMAGES)
        for host, result in first.results.items():
            assert result["changed"] and len(result["created"]) + len(result["adopted"]) == 2, result
            assert {o["image"] for o in result["orders"]} == {IMAGES[host]}
        orders = active_orders(sim)
        assert len(orders) == 6 and len({o["si"] for o in orders}) == 6
        counters = sim.counters()
        assert counters["rate_limited"] == 0
        assert counters["orders_created"] == 6

        posts = dict(counters["posts"])
        second = run_order(env, task, inventory=inventory, forks=3)
        assert second.run.rc == 0, second.output[-3000:]
        assert all(r["changed"] is False for r in second.results.values())
        assert sim.counters()["posts"] == posts and sim.counters()["rate_limited"] == 0
        assert len(active_orders(sim)) == 6


def test_same_fleet_task_on_three_hosts_rents_the_fleet_once(sim, ansible_env, run_order, tmp_path):
    # Three hosts run one fleet task with the same image: the fleet is one fleet, rented once.
    inventory = tmp_path / "same.ini"
    inventory.write_text("[workers]\nw1\nw2\nw3\n")
    task = {"count": 2, "image": IMAGES["w1"], "wait": False}
    done = run_order(ansible_env, task, inventory=inventory, forks=3)
    assert done.run.rc == 0, done.output[-3000:]
    assert len(active_orders(sim)) == 2 and sim.counters()["orders_created"] == 2
    assert sum(len(r["created"]) for r in done.results.values()) == 2
    assert sum(r["changed"] for r in done.results.values()) == 1


def only_two_free(sim, gpu: str = "RTX 4090") -> list[int]:
    """Rent every listed free server with that GPU elsewhere but the two cheapest online ones; their ids."""
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30).json()
    offline = set(sim.offline())  # marketplace rows do not say: the module would try them and fail over
    rows = sorted((s for s in answer["servers"] if gpu in s["specs"]["gpu"] and not s["rented"]),
                  key=lambda s: (s["id"] in offline, s["price"]["on_demand"][s["allowed_coins"][0]]))
    for row in rows[2:]:
        sim.rent_elsewhere(row["id"])
    return sorted(row["id"] for row in rows[:2])


def test_a_fleet_of_three_with_two_matching_fails_or_with_allow_partial_rents_two(sim, ansible_env, run_order):
    matching = only_two_free(sim)
    fleet = {"count": 3, "gpu": GPU, "image": FLEET_IMAGE, "wait": False}

    refused = run_order(ansible_env, fleet).result
    assert refused["failed"] and "only 2 free servers match, 3 needed; nothing was rented" in refused["msg"], refused
    assert refused["shortfall"]["count"] == 1 and posts(sim) == {}

    partial = fleet | {"allow_partial": True}
    planned = run_order(ansible_env, partial, check=True).result
    assert not planned.get("failed") and planned["changed"], planned
    assert sorted(c["server_id"] for c in planned["would_create"]) == matching
    # Why it is short: what each filter excluded, as the task's `excluded` counts it.
    reasons = {name: n for name, n in planned["excluded"].items() if n}
    assert planned["shortfall"] == {"count": 1, "reasons": reasons} and reasons, planned
    assert "would be 1 short" in planned["msg"] and posts(sim) == {}, "check mode rents nothing"

    rented = run_order(ansible_env, partial).result
    assert not rented.get("failed") and rented["changed"], rented
    assert sorted(o["server_id"] for o in rented["orders"]) == matching and len(rented["created"]) == 2
    assert rented["shortfall"] == {"count": 1, "reasons": reasons}, rented
    assert sorted(o["si"] for o in active_orders(sim)) == matching

    before = posts(sim)
    again = run_order(ansible_env, partial).result
    assert not again.get("failed") and again["changed"] is False, again
    assert posts(sim) == before and sorted(again["kept"]) == sorted(rented["created"])
    assert again["shortfall"] == {"count": 1, "reasons": {k: n for k, n in again["excluded"].items() if n}}, again
