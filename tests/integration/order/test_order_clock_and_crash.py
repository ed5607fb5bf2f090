"""Exactly once when the clocks disagree and when a run dies mid-create.

Clore's clock is played by clore-sim's `clock_offset` (every `ct` and the HTTP Date header shifted): clore-sim 300 s
behind is the controller 300 s ahead, without touching this machine's clock. The crash is a real kill of a real
ansible-playbook run right after its first create_order reached clore-sim, followed at once by a second run.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from ansible_collections.clore.ai.plugins.module_utils.account import account_digest

from ..playbook import VENV_BIN
from .conftest import ORDER_PLAY
from .helpers import GPU, IMAGE, active_orders

SKEW = 300
FLEET = {"gpu": GPU, "image": IMAGE, "wait": False}


def clore_sim_is_behind(sim) -> bool:
    """clore-sim's HTTP Date is about SKEW seconds behind this machine's clock (the knob really took effect)."""
    answer = requests.get(f"{sim.api_url}/wallets", headers={"auth": sim.api_key}, timeout=30)
    reported = parsedate_to_datetime(answer.headers["Date"]).timestamp()
    return SKEW - 30 < time.time() - reported < SKEW + 30


def test_controller_clock_ahead_fleet_rents_exactly_two(sim, ansible_env, run_order):
    sim.configure(clock_offset=-SKEW)
    assert clore_sim_is_behind(sim)
    result = run_order(ansible_env, FLEET | {"count": 2}).result
    assert not result.get("failed"), result["msg"]
    active = [o["id"] for o in active_orders(sim)]
    assert len(result["created"]) == 2 and sorted(result["created"]) == sorted(active)
    assert result["adopted"] == [] and sim.counters()["orders_created"] == 2
    assert all(time.time() - o["created_at"] > SKEW - 30 for o in result["orders"])  # Clore's ct, 5 min behind

    again = run_order(ansible_env, FLEET | {"count": 2}).result
    assert again["changed"] is False and sorted(again["kept"]) == sorted(active)
    assert sim.counters()["orders_created"] == 2


def test_controller_clock_ahead_and_a_dropped_create_answer_adopts_the_one_order(sim, ansible_env, run_order):
    sim.configure(clock_offset=-SKEW)
    sim.fault("create_order", "drop_after_commit")
    result = run_order(ansible_env, FLEET | {"count": 1, "reconcile_timeout": 10}).result
    assert not result.get("failed"), result["msg"]
    active = [o["id"] for o in active_orders(sim)]
    assert len(active) == 1 and result["adopted"] == active and result["created"] == []
    assert f"adopted after an unclear create order(s) {active[0]}" in result["msg"]
    counters = sim.counters()
    assert counters["orders_created"] == 1 and counters["posts"]["create_order"] == 1


def _descendants(root: int) -> list[int]:
    """Every process under `root`: Ansible's workers start sessions of their own, so the group alone misses them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_run(proc: subprocess.Popen) -> None:
    """SIGKILL the playbook's process group and every process it started: nothing gets to clean up."""
    tree = _descendants(proc.pid)
    for pid in tree:
        try:
            os.kill(pid, signal.SIGSTOP)  # freeze first, so that nothing forks or finishes in between
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def killed_at_first_create(sim, ansible_env: dict[str, str], tmp_path: Path, task: dict) -> dict[str, str]:
    """Run `task` in a real ansible-playbook and kill it as soon as its first create_order was accepted by clore-sim
    (the order exists, the module never hears of it); the environment to run again with."""
    # The killed module cannot remove its unpacked payload: TMPDIR keeps it in this test's directory, not in /tmp.
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = ansible_env | {"ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp"), "TMPDIR": str(scratch)}
    play = tmp_path / "crash.yml"
    play.write_text(ORDER_PLAY)
    extra = json.dumps({"order_args": task})
    proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), str(play), "-i", "localhost,", "--extra-vars", extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while sim.counters().get("orders_created", 0) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.counters().get("orders_created", 0) == 1, "the first create_order never reached clore-sim"
    finally:
        _kill_run(proc)
    assert sim.counters()["orders_created"] == 1
    return env


def test_rerun_after_a_kill_mid_create_adopts_the_order_and_rents_only_the_rest(
        sim, ansible_env, run_order, tmp_path):
    sim.configure(listing_lag=8)
    task = FLEET | {"count": 3}
    env = killed_at_first_create(sim, ansible_env, tmp_path, task)
    lost = active_orders(sim)[0]["id"]  # listed by clore-sim only 8 s after its creation

    result = run_order(env, task).result
    assert not result.get("failed"), result["msg"]
    active = sorted(o["id"] for o in active_orders(sim))
    assert len(active) == 3 and sim.counters()["orders_created"] == 3
    assert result["adopted"] == [lost] and len(result["created"]) == 2
    assert sorted(result["adopted"] + result["created"]) == active
    assert f"adopted after an unclear create order(s) {lost}" in result["msg"]
    assert any(f"adopted order {lost}" in w for w in result.get("warnings", []))


# With Retry-After (clore-sim's --retry-after header) each refused create waits 1 s; without, the client's own
# back-off of a create interval each would take 50 refusals past api_retry_timeout.
@pytest.mark.parametrize("sim_options", [{"retry_after": "header"}])
def test_a_create_sent_after_a_long_wait_and_killed_at_its_answer_is_adopted_not_rented_again(
        sim, ansible_env, run_order, tmp_path):
    # 50 answers of 429 (Retry-After: 1) before the create is accepted: it leaves some 50 s after it was recorded,
    # past reconcile_timeout + 30 s (40 s); clore-sim lists it 25 s later, after the re-run has looked once, yet
    # within 40 s of its sending.
    sim.configure(listing_lag=25)
    sim.fault("create_order", "rate_limit", count=50)
    task = FLEET | {"count": 3, "reconcile_timeout": 10}
    env = killed_at_first_create(sim, ansible_env, tmp_path, task)
    assert sim.counters()["rate_limited"] >= 50
    lost = active_orders(sim)[0]["id"]

    result = run_order(env, task).result
    assert not result.get("failed"), result["msg"]
    active = sorted(o["id"] for o in active_orders(sim))
    assert len(active) == 3 and sim.counters()["orders_created"] == 3  # not 4
    assert result["adopted"] == [lost] and len(result["created"]) == 2
    assert not any("nothing was rented" in w for w in result.get("warnings", []))


def test_a_state_write_that_fails_after_the_create_names_the_order_and_returns_it(
        sim, ansible_env, run_order, tmp_path):
    # The lifetimes record, written after the create, cannot be written: its path is taken by a directory.
    account = account_digest(ansible_env["CLORE_API_URL"], ansible_env["CLORE_API_KEY"])
    state = Path(ansible_env["CLORE_STATE_DIR"])
    state.mkdir(mode=0o700)
    (state / f"lifetimes-{account}.json").mkdir()
    result = run_order(ansible_env, FLEET | {"count": 1, "lifetime_hours": 2}).result
    active = [o["id"] for o in active_orders(sim)]
    assert result.get("failed") and len(active) == 1 and result["created"] == active
    assert "a file of the controller's state could not be used after create_order was sent" in result["msg"]
    assert f"order(s) {active[0]} were rented by this run and still exist: they cost money" in result["msg"]
    assert "Traceback" not in result["msg"] and "module_stdout" not in result
