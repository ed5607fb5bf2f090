"""The module runner of the integration tests (tests/integration/module_run.py): a run's result is what the task's
would be, warnings included whatever this process imported before, check mode reaches the module, and a run that
hangs is killed at its timeout, leaving no process behind."""
from __future__ import annotations

import os

import ansible.executor.task_executor  # noqa: F401  # pylint: disable=unused-import  # the controller's code loaded
import pytest

from .module_run import run_module, run_tasks


def test_a_warning_reaches_the_result_after_the_controllers_code_was_imported(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 1)
    sim.fault("my_orders", "deep_row", count=1)  # a row nested without end: skipped with a warning
    run = run_module("clore_order_info", {}, ansible_env, tmp=tmp_path / "module-tmp")
    assert run.rc == 0 and run.exit_code == 0, run.output
    assert len(run.result["orders"]) == 1
    assert any("skipped orders row 1: it is nested deeper than 64 levels" in warning
               for warning in run.result["warnings"]), run.result


def test_check_mode_reaches_the_module_and_rents_nothing(sim, ansible_env, tmp_path):
    args = {"count": 1, "gpu": ["RTX 4090"], "image": "cloreai/ubuntu22.04-jupyter", "wait": False}
    run = run_module("clore_order", args, ansible_env, check=True, tmp=tmp_path / "module-tmp")
    assert run.result["changed"] is True and len(run.result["would_create"]) == 1, run.result
    assert sim.counters()["posts"] == {}


def test_tasks_stop_at_the_first_failure_as_a_play_does(sim, ansible_env, tmp_path):
    runs = run_tasks("clore_market_info", {"bad": {"sort_by": "cheapness"}, "good": {}}, ansible_env,
                     tmp=tmp_path / "module-tmp")
    assert runs.rc == 2 and list(runs.runs) == ["bad"]
    assert runs.result("bad")["failed"] is True and "sort_by" in runs.result("bad")["msg"]


def test_a_run_past_its_timeout_is_killed_and_leaves_no_process(sim, ansible_env, tmp_path):
    sim.fault("wallets", "delay", count=1, delay=30)
    children_before = set(_children())
    # Raised only while the child still runs (its pipes open): it is killed then, not waited out.
    with pytest.raises(TimeoutError):
        run_module("clore_wallet_info", {}, ansible_env, tmp=tmp_path / "module-tmp", timeout=2)
    assert set(_children()) <= children_before


def _children() -> list[int]:
    """The ids of this process's live children (zombies included: a child never waited for would be one)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.append(int(entry))
    return found
