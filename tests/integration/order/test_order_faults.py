"""Money under faults: unclear creates, a server taken mid-run, a 429 storm, and orders that never get ready."""
from __future__ import annotations

import threading
import time

import pytest

from .helpers import GPU, IMAGE, active_orders

ONE = {"count": 1, "gpu": GPU, "image": IMAGE, "wait": False}


@pytest.mark.parametrize("kind", ["drop_after_commit", "code1_after_commit"])
def test_unclear_create_that_committed_rents_exactly_one(sim, ansible_env, run_order, kind):
    sim.fault("create_order", kind)
    result = run_order(ansible_env, ONE).result
    assert not result.get("failed"), result["msg"]
    assert len(result["adopted"]) == 1 and result["created"] == []
    assert [o["id"] for o in active_orders(sim)] == result["adopted"]
    counters = sim.counters()
    assert counters["orders_created"] == 1 and counters["posts"]["create_order"] == 1
    # And the next run sees the adopted order as the fleet's member.
    assert run_order(ansible_env, ONE).result["changed"] is False
    assert sim.counters()["orders_created"] == 1


def test_unclear_create_that_did_not_commit_is_repeated_once(sim, ansible_env, run_order):
    sim.fault("create_order", "http502")  # a proxy error before the API saw the request
    result = run_order(ansible_env, ONE | {"reconcile_timeout": 2}).result
    assert not result.get("failed"), result["msg"]
    assert len(result["created"]) == 1
    assert sim.counters()["posts"]["create_order"] == 2 and len(active_orders(sim)) == 1


def test_server_taken_between_search_and_create_fails_over(sim, ansible_env, run_order):
    plan = run_order(ansible_env, ONE | {"currency": "USD"}, check=True).result
    first = {"id": plan["would_create"][0]["server_id"]}
    sim.fault("create_order", "delay", delay=3.0)  # holds the create while someone else rents the server

    def rent_elsewhere_after_search():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # The real run's market search (the check-mode run made the first).
            if sim.counters()["requests"].get("marketplace", 0) >= 2:
                break
            time.sleep(0.05)
        sim.rent_elsewhere(first["id"])

    helper = threading.Thread(target=rent_elsewhere_after_search)
    helper.start()
    result = run_order(ansible_env, ONE | {"currency": "USD"}).result
    helper.join()
    assert not result.get("failed"), result["msg"]
    assert result["skipped_servers"] == [{"server_id": first["id"],
                                          "price_per_day": plan["would_create"][0]["price_per_day"],
                                          "currency": "USD-Blockchain", "reason": "server-already-rented"}]
    assert [o["si"] for o in active_orders(sim)] == [result["orders"][0]["server_id"]]
    assert result["orders"][0]["server_id"] != first["id"]


def test_429_storm_succeeds_without_duplicates(sim, ansible_env, run_order):
    # A storm: four 429s in a row without Retry-After, waited out with the client's own growing back-off (eight
    # took some 100 s, past the back-off's cap, for nothing more); then two on the creates themselves, each sent
    # again once refused, never twice once accepted.
    sim.fault("*", "rate_limit", count=4)
    sim.fault("create_order", "rate_limit", count=2)
    result = run_order(ansible_env, ONE | {"count": 2}).result
    assert not result.get("failed"), result["msg"]
    counters = sim.counters()
    assert counters["rate_limited"] == 6
    assert counters["orders_created"] == 2 and len(active_orders(sim)) == 2
    assert sorted(result["created"]) == sorted(o["id"] for o in active_orders(sim))


def test_wait_timeout_names_the_stage_and_the_order_that_costs_money(sim, ansible_env, run_order, ssh_keypair):
    sim.configure(provisioning_delay=600)
    task = ONE | {"wait": True, "wait_timeout": 3, "ssh_key": ssh_keypair[1]}
    result = run_order(ansible_env, task).result
    assert result["failed"]
    order_id = result["created"][0]
    assert "waiting for: SSH endpoint known" in result["msg"]
    assert f"order(s) {order_id} were rented by this run and still exist: they cost money" in result["msg"]
    assert [o["id"] for o in active_orders(sim)] == [order_id]

    # With cancel_on_failure the next failing run cancels what it rented, and only that.
    more = run_order(ansible_env, task | {"count": 2, "cancel_on_failure": True}).result
    assert more["failed"] and len(more["created"]) == 1 and more["cancelled"] == more["created"]
    assert "cancelled the order(s) this run created" in more["msg"]
    assert [o["id"] for o in active_orders(sim)] == [order_id]


def test_unreachable_ssh_fails_at_the_banner_stage(sim, ansible_env, run_order, ssh_keypair):
    rented = run_order(ansible_env, ONE | {"ssh_key": ssh_keypair[1]}).result
    order_id = rented["created"][0]
    sim.set_ssh_reachable(order_id, False)
    result = run_order(ansible_env, {"order_id": order_id, "wait_timeout": 4, "cancel_on_failure": True}).result
    assert result["failed"]
    assert f"order {order_id}: SSH endpoint 127.0.0.1:" in result["msg"]
    assert "waiting for: SSH answering with its banner" in result["msg"]
    # The order existed before this run: cancel_on_failure never touches it.
    assert result["cancelled"] == [] and [o["id"] for o in active_orders(sim)] == [order_id]
