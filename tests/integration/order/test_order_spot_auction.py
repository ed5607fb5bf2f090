"""Bid wars: clore_order with spot_max_price against other renters' bids in clore-sim (module runs; the
spot fleet playbook in a real ansible-playbook).

Every test runs under both answers clore-sim gives to a bid that is not the highest (`--spot-low-bid queue|refuse`),
since Clore does not document which one it gives.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from ..conftest import PLAYBOOKS
from ..playbook import run_playbook
from .helpers import GPU, IMAGE, active_orders, free_servers, posts

USD = "USD-Blockchain"
CAP = 12.0
STEP = 0.5


@pytest.fixture(params=["queue", "refuse"])
def sim(request, tmp_path: Path) -> Iterator[SimServer]:
    """This module's clore-sim: one per test, under each `--spot-low-bid` behaviour."""
    with SimServer(tmp_path / "sim-state", extra_args=["--spot-low-bid", request.param]) as server:
        server.low_bid = request.param
        yield server


def task(server_id: int, **overrides) -> dict:
    args = {"server_id": server_id, "image": IMAGE, "type": "spot", "currency": USD, "spot_max_price": CAP,
            "spot_bid_step": STEP, "wait": False}
    return args | overrides


def held_by_rival(sim, bid: float) -> dict:
    """A free RTX 4090 server (USD-Blockchain, minimum within the cap) that a rival now holds at `bid`."""
    row = free_servers(sim, spot_bid=CAP / 2)[0]
    placed = sim.rival_bid(row["id"], bid, currency=USD)
    assert placed["active"], placed
    return row


def creates(sim) -> int:
    return posts(sim).get("create_order", 0)


def test_win_get_outbid_win_back_within_the_cap_then_give_up_above_it(sim, ansible_env, run_order):
    row = held_by_rival(sim, 8.0)

    planned = run_order(ansible_env, task(row["id"]), check=True).result
    assert planned["would_create"][0]["price_per_day"] == 8.5, planned
    assert posts(sim) == {}, "check mode places no bid"

    won = run_order(ansible_env, task(row["id"])).result
    assert not won.get("failed"), won
    (order,) = won["orders"]
    assert (order["spot_bid"], order["spot_active"]) == (8.5, True), order
    assert order["spot_top_rival_bid"] is None  # the beaten bid ended
    first = order["id"]

    sim.rival_bid(row["id"], 10.0, currency=USD)  # outbids us: our order ends
    assert first not in [o["id"] for o in active_orders(sim)]

    back = run_order(ansible_env, task(row["id"])).result
    assert not back.get("failed"), back
    assert [(e["id"], e["bid"], e["winning_bid"], e["ended"]) for e in back["outbid"]] == [(first, 8.5, 10.0, True)]
    (again,) = back["orders"]
    assert again["spot_bid"] == 10.5 and again["spot_active"], again

    sim.rival_bid(row["id"], 13.0, currency=USD)  # above our cap
    before = creates(sim)
    gave_up = run_order(ansible_env, task(row["id"])).result
    assert gave_up["failed"], gave_up
    assert "the top rival bid is 13 USD-Blockchain/day" in gave_up["msg"], gave_up["msg"]
    assert "winning needs a bid of 13.5" in gave_up["msg"] and "spot_max_price 12" in gave_up["msg"]
    assert creates(sim) == before, "no bid above the cap"
    assert again["id"] in [e["id"] for e in gave_up["outbid"]]


def test_a_fleet_replaces_an_outbid_member_within_the_cap(sim, ansible_env, run_order):
    fleet = {"count": 2, "gpu": GPU, "image": IMAGE, "type": "spot", "currency": USD, "spot_max_price": CAP,
             "spot_bid_step": STEP, "wait": False, "spot_candidates": 3}
    first = run_order(ansible_env, fleet).result
    assert not first.get("failed") and len(first["created"]) == 2, first
    lost = first["orders"][0]
    sim.rival_bid(lost["server_id"], CAP + 5, currency=USD)  # a bid the cap cannot beat

    second = run_order(ansible_env, fleet).result
    assert not second.get("failed"), second
    assert len(second["created"]) == 1 and second["kept"] == [first["orders"][1]["id"]], second
    assert [(e["id"], e["winning_bid"]) for e in second["outbid"]] == [(lost["id"], CAP + 5)]
    assert all(o["spot_bid"] <= CAP and o["spot_active"] for o in second["orders"]), second["orders"]
    assert len(active_orders(sim)) == 2


def test_a_fleet_outbids_a_rival_when_no_server_is_free(sim, ansible_env, run_order):
    target = free_servers(sim, spot_bid=CAP / 2)[0]
    for row in free_servers(sim, spot_bid=10_000):  # every other RTX 4090 is taken on demand: no bid wins those
        if row["id"] != target["id"]:
            sim.rent_elsewhere(row["id"])
    sim.rival_bid(target["id"], 9.0, currency=USD)
    fleet = {"count": 1, "gpu": GPU, "image": IMAGE, "type": "spot", "currency": USD, "spot_max_price": CAP,
             "spot_bid_step": STEP, "wait": False, "spot_candidates": 30}
    result = run_order(ansible_env, fleet).result
    assert not result.get("failed"), result
    (order,) = result["orders"]
    assert (order["server_id"], order["spot_bid"], order["spot_active"]) == (target["id"], 9.5, True)
    assert any(s["reason"] == "rented, and not on spot" for s in result["skipped_servers"]), result


def test_a_wait_ends_at_once_when_the_order_is_outbid(sim, ansible_env, run_order):
    row = held_by_rival(sim, 8.0)
    outbid: list[float] = []

    def rival_returns() -> None:
        # Once the module has read the spot market after its create (the second read: the first chose the bid), it
        # has found its order and moves on to waiting for SSH: outbid it then.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sim.counters()["requests"].get("spot_marketplace", 0) >= 2 and active_orders(sim):
                sim.rival_bid(row["id"], 11.0, currency=USD)
                outbid.append(11.0)
                return
            time.sleep(0.2)

    helper = threading.Thread(target=rival_returns)
    helper.start()
    try:
        # No SSH key: the container never answers, so only the end of the order can end this wait early.
        result = run_order(ansible_env, task(row["id"], wait=True, wait_timeout=300)).result
    finally:
        helper.join()
    assert outbid and result["failed"], result
    assert "outbid: server" in result["msg"] and "now runs a rival bid of 11 USD-Blockchain/day" in result["msg"]
    assert "timed out" not in result["msg"]
    assert [e["winning_bid"] for e in result["outbid"]] == [11.0]


@pytest.mark.parametrize("sim", ["queue"], indirect=True)  # the rival outbids us: the low-bid answer plays no part
def test_a_bid_outbid_before_it_is_listed_fails_at_once_and_costs_nothing(sim, ansible_env, run_order):
    # A rival that re-bids the moment it is beaten, on a Clore that lists a new order 2 s late: our order ends
    # before my_orders ever lists it as active.
    sim.configure(listing_lag=2)
    row = free_servers(sim, spot_bid=CAP / 2)[0]
    rival = sim.rival_bid(row["id"], 8.0, currency=USD, ceiling=20.0, step=STEP)
    assert rival["active"], rival

    result = run_order(ansible_env, task(row["id"], wait=True, wait_timeout=300)).result
    assert result["failed"], result
    (order,) = sim.orders()  # ours: the rival's bids belong to no key
    assert order["ended_at"] is not None and active_orders(sim) == []
    assert f"order {order['id']} ended as soon as it was created, before my_orders listed it as active: outbid: " \
        f"server {row['id']} now runs a rival bid of 9 USD-Blockchain/day (ours was 8.5" in result["msg"], result["msg"]
    assert "they no longer cost money" in result["msg"] and "costs money" not in result["msg"], result["msg"]
    assert result["ended"] == [order["id"]] and [e["id"] for e in result["outbid"]] == [order["id"]]
    assert creates(sim) == 1


def own_low_bid(sim, server_id: int, price: float) -> requests.Response:
    body = {"renting_server": server_id, "type": "spot", "currency": USD, "image": IMAGE, "spotprice": price,
            "ports": {"22": "tcp"}}
    return requests.post(f"{sim.api_url}/create_order", json=body, headers={"auth": sim.api_key}, timeout=30)


def test_a_bid_that_waits_below_a_rival_is_raised_within_the_cap_or_cancelled(sim, ansible_env, run_order):
    row = held_by_rival(sim, 8.0)
    answer = own_low_bid(sim, row["id"], 7.0).json()
    if sim.low_bid == "refuse":
        assert answer.get("error") == "server-already-rented", answer
        return
    assert answer["code"] == 0, answer

    planned = run_order(ansible_env, task(row["id"]), check=True).result
    assert planned["would_reprice"][0]["to"] == 8.5 and posts(sim).get("set_spot_price", 0) == 0, planned

    raised = run_order(ansible_env, task(row["id"])).result
    assert not raised.get("failed"), raised
    (order,) = raised["orders"]
    assert raised["repriced"] == [order["id"]] and order["spot_bid"] == 8.5 and order["spot_active"], order

    sim.rival_bid(row["id"], 20.0, currency=USD)
    own_low_bid(sim, row["id"], 9.0)  # waits below 20
    lost = run_order(ansible_env, task(row["id"])).result
    assert lost["failed"] and "the top rival bid is 20 USD-Blockchain/day" in lost["msg"], lost
    standing = [e for e in lost["outbid"] if not e["ended"]]
    assert len(standing) == 1 and standing[0]["cancelled"] and standing[0]["bid"] == 9.0, lost["outbid"]
    assert standing[0]["id"] in lost["cancelled"]
    assert not [o for o in active_orders(sim) if o.get("key") == sim.api_key], "nothing of ours stands"


def test_the_spot_fleet_playbook_replaces_what_was_outbid_and_prints_the_table(sim, ansible_env, ssh_keypair):
    extra = {"spot_fleet_count": 2, "spot_fleet_max_price": CAP, "spot_fleet_bid_step": STEP,
             "spot_fleet_wait": False, "spot_fleet_ssh_private_key_file": str(ssh_keypair[0])}
    first = run_playbook(PLAYBOOKS / "spot_fleet.yml", ansible_env, extra_vars=extra)
    assert first.rc == 0, first.stdout + first.stderr
    kept = first.result("Keep the fleet, re-bidding or replacing what was outbid")
    assert len(kept["created"]) == 2, kept
    lost = kept["orders"][0]
    sim.rival_bid(lost["server_id"], CAP + 3, currency=USD)

    again = run_playbook(PLAYBOOKS / "spot_fleet.yml", ansible_env, extra_vars=extra)
    assert again.rc == 0, again.stdout + again.stderr
    fleet = again.result("Keep the fleet, re-bidding or replacing what was outbid")
    assert len(fleet["created"]) == 1 and len(fleet["orders"]) == 2, fleet
    table = again.result("Show the orders, their bids and the rivals")["msg"]
    assert table[0].split() == ["order", "server", "status", "bid/day", "runs", "top", "rival"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    for order in fleet["orders"]:
        assert rows[str(order["id"])][2:5] == ["active", str(order["spot_bid"]), "True"]
        assert order["spot_bid"] <= CAP
    assert rows[str(lost["id"])][2:6] == ["outbid", str(lost["spot_bid"]), "ended", str(CAP + 3)]


def test_a_fleet_turns_to_a_winnable_server_when_its_free_candidate_is_offline(sim, ansible_env, run_order):
    # Three RTX 4090 with a host minimum of 1 USD-Blockchain/day: one free, one free but offline (the listing does
    # not say so: its create is refused), one a rival holds at 2.0 (won at 2.05 under the 3.0 cap). Every other
    # RTX 4090 is rented on demand, which no bid can take.
    free, offline, held = free_servers(sim, spot_bid=10_000)[:3]
    for row in free_servers(sim, spot_bid=10_000):
        if row["id"] not in (free["id"], offline["id"], held["id"]):
            sim.rent_elsewhere(row["id"])
    for row in (free, offline, held):
        sim.set_prices(row["id"], spot={USD: 1.0})
    sim.set_online(offline["id"], False)
    assert sim.rival_bid(held["id"], 2.0, currency=USD)["active"]
    fleet = {"count": 2, "gpu": GPU, "image": IMAGE, "type": "spot", "currency": USD, "spot_max_price": 3.0,
             "spot_bid_step": 0.05, "wait": False}

    result = run_order(ansible_env, fleet).result
    assert not result.get("failed"), result
    bids = {o["server_id"]: (o["spot_bid"], o["spot_active"]) for o in result["orders"]}
    assert bids == {free["id"]: (1.0, True), held["id"]: (2.05, True)}, result
    assert {"server_id": offline["id"], "reason": "server-offline"}.items() <= next(
        s for s in result["skipped_servers"] if s["server_id"] == offline["id"]).items(), result["skipped_servers"]
    assert len(active_orders(sim)) == 2

    again = run_order(ansible_env, fleet).result
    assert not again.get("failed") and not again["changed"] and again["created"] == [], again
