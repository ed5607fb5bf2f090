"""Runs that race each other: started together on one key (module runs, each a process of its own, against one
clore-sim).

On one controller the runs share the state directory, and with it the locks: account_budget is checked by one run at
a time. Controllers that share nothing (two state directories, or one deleted between a kill and the re-run) cannot
take turns; a fleet that finds more than its count right after renting releases the newest beyond it.
"""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .helpers import GPU, IMAGE, active_orders
from .test_order_clock_and_crash import killed_at_first_create

OTHER_IMAGE = "cloreai/ubuntu20.04-jupyter"
USD_COIN = "USD-Blockchain"


def fleet(count: int, image: str = IMAGE, **extra) -> dict:
    return {"count": count, "gpu": GPU, "image": image, "currency": USD_COIN, "wait": False, **extra}


def together(run_order, runs: list[tuple[dict, dict]]) -> list[dict]:
    """The results of module runs (env, args) started at the same time."""
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = [pool.submit(run_order, env, args) for env, args in runs]
        return [future.result().result for future in futures]


def test_account_budget_holds_for_two_images_started_together(sim, ansible_env, run_order):
    cheapest = run_order(ansible_env, fleet(1), check=True).result["would_create"][0]["price_per_day"]
    cap = {"amount": round(cheapest * 1.5, 4), "currency": "USD"}  # any two orders pass it
    # Each create is handled 10 s after it arrives: a run that read the key's orders meanwhile would not see it.
    sim.fault("create_order", "delay", count=2, delay=10)
    results = together(run_order, [(ansible_env, fleet(1, IMAGE, account_budget=cap)),
                                   (ansible_env, fleet(1, OTHER_IMAGE, account_budget=cap))])
    assert len(active_orders(sim)) == 1, [r["msg"] for r in results]
    rented = [r for r in results if r["created"]]
    refused = [r for r in results if r.get("failed")]
    assert len(rented) == 1 and len(refused) == 1
    assert "account_budget exceeded" in refused[0]["msg"] or "over budget" in refused[0]["msg"]


def test_two_controllers_with_their_own_state_dirs_end_with_count_orders(sim, ansible_env, run_order, tmp_path):
    other = ansible_env | {"CLORE_STATE_DIR": str(tmp_path / "other-controller-state")}
    results = together(run_order, [(ansible_env, fleet(2)), (other, fleet(2))])
    for result in results:
        assert not result.get("failed"), result["msg"]
    active = sorted(o["id"] for o in active_orders(sim))
    created = sorted(i for r in results for i in r["created"])
    released = sorted({i for r in results for i in r["released"]})
    assert len(active) == 2 and sorted(set(created) - set(released)) == active
    for result in results:
        for order_id in result["released"]:
            assert any("released the newest, order(s)" in w and str(order_id) in w for w in result["warnings"])


def test_a_rerun_after_a_kill_and_a_deleted_state_dir_releases_what_it_rented_again(
        sim, ansible_env, run_order, tmp_path):
    sim.configure(listing_lag=40)  # the re-run reads my_orders before the lost order is listed
    task = fleet(1)
    env = killed_at_first_create(sim, ansible_env, tmp_path, task)
    [lost] = [o["id"] for o in active_orders(sim)]
    shutil.rmtree(Path(env["CLORE_STATE_DIR"]))  # the in-flight record goes with it

    result = run_order(env, task).result
    assert not result.get("failed"), result["msg"]
    [again] = result["created"]
    assert result["surplus"] == [again] and result["released"] == [again]
    assert [o["id"] for o in active_orders(sim)] == [lost] and result["kept"] == [lost]
    assert [o["id"] for o in result["orders"]] == [lost]


def test_surplus_keep_leaves_the_other_controllers_orders(sim, ansible_env, run_order, tmp_path):
    sim.configure(listing_lag=40)  # the re-run reads my_orders before the lost order is listed
    task = fleet(1, surplus="keep")
    env = killed_at_first_create(sim, ansible_env, tmp_path, task)
    shutil.rmtree(Path(env["CLORE_STATE_DIR"]))

    result = run_order(env, task).result
    assert not result.get("failed"), result["msg"]
    assert len(active_orders(sim)) == 2 and result["released"] == [] and result["surplus"] == result["created"]
    assert any("(surplus: keep)" in w for w in result["warnings"])
