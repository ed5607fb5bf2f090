"""The idempotency walk for each identity mode, against clore-sim (the fleet walk's
plan, create and re-run in a real ansible-playbook, the rest as module runs):
check-mode create -> create -> re-run unchanged with zero POSTs -> spot re-price -> cancel -> cancel again unchanged.
"""
from __future__ import annotations

from .helpers import GPU, IMAGE, active_orders, free_servers, posts, ssh_runs

SPOT = {"type": "spot", "currency": "USD", "spot_price": 12.0}


def test_fleet_walk(sim, ansible_env, run_order, ssh_keypair, tmp_path):
    private_key, public_key = ssh_keypair
    fleet = {"count": 2, "gpu": GPU, "image": IMAGE, "ssh_key": public_key, "wait_timeout": 120, **SPOT}

    planned = run_order(ansible_env, fleet, check=True, diff=True, playbook=True).result
    assert planned["changed"] is True and not planned.get("failed"), planned
    assert len(planned["would_create"]) == 2
    assert all(c["price_per_day"] == 12.0 and c["currency"] == "USD-Blockchain" for c in planned["would_create"])
    assert len(planned["diff"]["after"]["orders"]) == 2 and planned["diff"]["before"]["orders"] == []
    assert posts(sim) == {} and active_orders(sim) == []

    created = run_order(ansible_env, fleet, playbook=True).result
    assert created["changed"] is True and len(created["created"]) == 2, created
    assert not [w for w in created.get("warnings", []) if "no_log" in w], created["warnings"]
    assert sorted(o["id"] for o in active_orders(sim)) == sorted(created["created"])
    # Ready means SSH answers: the returned endpoint takes a real login with the key.
    for order in created["orders"]:
        assert order["spot"] is True and order["gpu_model"].endswith("RTX 4090")
        assert ssh_runs(private_key, order["ssh_host"], order["ssh_port"], tmp_path / "known_hosts") == "ok"

    before = posts(sim)
    again = run_order(ansible_env, fleet, playbook=True).result
    assert again["changed"] is False and sorted(again["kept"]) == sorted(created["created"])
    assert posts(sim) == before

    repriced = run_order(ansible_env, fleet | {"spot_price": 13.5}).result
    assert repriced["changed"] is True and sorted(repriced["repriced"]) == sorted(created["created"])
    assert {o["price"] for o in active_orders(sim)} == {13.5}
    assert run_order(ansible_env, fleet | {"spot_price": 13.5}).result["changed"] is False

    gone = run_order(ansible_env, {"state": "absent", "count": 0, "gpu": GPU, "image": IMAGE}).result
    assert gone["changed"] is True and sorted(gone["cancelled"]) == sorted(created["created"])
    assert active_orders(sim) == []
    before = posts(sim)
    assert run_order(ansible_env, {"state": "absent", "count": 0, "gpu": GPU, "image": IMAGE}).result["changed"] is False
    assert posts(sim) == before


def test_server_id_walk(sim, ansible_env, run_order, ssh_keypair):
    public_key = ssh_keypair[1]
    target = free_servers(sim)[0]["id"]
    task = {"server_id": target, "image": IMAGE, "ssh_key": public_key, "wait_timeout": 120, **SPOT}

    planned = run_order(ansible_env, task, check=True).result
    assert planned["changed"] is True and [c["server_id"] for c in planned["would_create"]] == [target]
    assert posts(sim) == {}

    created = run_order(ansible_env, task).result
    assert created["changed"] is True and [o["server_id"] for o in created["orders"]] == [target]
    assert created["orders"][0]["ssh_command"].startswith("ssh -p ")

    before = posts(sim)
    assert run_order(ansible_env, task).result["changed"] is False
    assert posts(sim) == before

    repriced = run_order(ansible_env, task | {"spot_price": 14.0}).result
    assert repriced["repriced"] == created["created"]
    assert posts(sim)["set_spot_price"] == 1

    gone = run_order(ansible_env, {"state": "absent", "server_id": target, "issue": "slow disk"}).result
    assert gone["cancelled"] == created["created"] and active_orders(sim) == []
    before = posts(sim)
    assert run_order(ansible_env, {"state": "absent", "server_id": target}).result["changed"] is False
    assert posts(sim) == before


def test_order_id_walk(sim, ansible_env, run_order, ssh_keypair):
    public_key = ssh_keypair[1]
    target = free_servers(sim)[0]["id"]
    # An order cannot be created by id: check mode on an unknown id fails clearly, renting nothing.
    missing = run_order(ansible_env, {"order_id": 999999, **SPOT}, check=True).result
    assert missing["failed"] and "cannot be created by id" in missing["msg"]

    order_id = run_order(ansible_env, {"server_id": target, "image": IMAGE, "ssh_key": public_key, "wait": False,
                                       **SPOT}).result["created"][0]
    task = {"order_id": order_id, "wait_timeout": 120, **SPOT}

    before = posts(sim)
    kept = run_order(ansible_env, task).result
    assert kept["changed"] is False and kept["kept"] == [order_id]
    assert posts(sim) == before

    planned = run_order(ansible_env, task | {"spot_price": 15.0}, check=True, diff=True).result
    assert planned["changed"] is True and planned["would_reprice"][0]["to"] == 15.0
    assert planned["diff"]["after"]["orders"][0]["price_per_day"] == 15.0
    assert posts(sim) == before

    assert run_order(ansible_env, task | {"spot_price": 15.0}).result["repriced"] == [order_id]
    assert run_order(ansible_env, task | {"spot_price": 15.0}).result["changed"] is False

    planned_cancel = run_order(ansible_env, {"state": "absent", "order_id": order_id}, check=True).result
    assert planned_cancel["would_cancel"] == [order_id] and len(active_orders(sim)) == 1
    assert run_order(ansible_env, {"state": "absent", "order_id": order_id}).result["cancelled"] == [order_id]
    before = posts(sim)
    assert run_order(ansible_env, {"state": "absent", "order_id": order_id}).result["changed"] is False
    assert posts(sim) == before
