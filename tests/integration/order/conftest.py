"""Fixtures for clore_order's integration tests: run the module with given arguments against clore-sim.

By default a run is the module's main() in a forked child, as a task hands it its arguments (tests/integration/
module_run.py): the module's code, HTTP, state files and locks are those of a real run, at a hundredth of an
ansible-playbook run's CPU. `playbook=True` (and any run with an inventory) runs the one generic play below in a real
ansible-playbook instead; each behaviour's flagship test does, so that what the controller adds (templating, check and
diff mode as the task keywords set them, several hosts and forks, the printed output) stays covered. A playbook run's
result is read from the tests' JSON stdout callback, which records a task's result whether it succeeded or failed
(also in check mode): one task per run, so a test pays for one module run, not for a second task that saves it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..module_run import ModuleRun, run_module
from ..playbook import PlaybookRun, run_playbook

ORDER_PLAY = """\
- name: One clore_order task with the arguments in `order_args`
  hosts: "{{ order_hosts | default('localhost') }}"
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Order
      clore.ai.clore_order: "{{ order_args }}"
"""


@dataclass
class OrderRun:
    run: PlaybookRun | ModuleRun
    results: dict[str, dict[str, Any]]

    @property
    def result(self) -> dict[str, Any]:
        """The result on localhost (or on the only host)."""
        assert len(self.results) == 1, self.results.keys()
        return next(iter(self.results.values()))

    @property
    def output(self) -> str:
        return self.run.stdout + self.run.stderr


@pytest.fixture
def run_order(tmp_path: Path):
    """run_order(env, args, check=False, diff=False, inventory=None, forks=None, playbook=False) -> OrderRun."""
    play = tmp_path / "order.yml"
    play.write_text(ORDER_PLAY)

    def run(env: dict[str, str], args: dict[str, Any], *, check: bool = False, diff: bool = False,
            inventory: Path | None = None, forks: int | None = None,
            extra: dict[str, Any] | None = None, playbook: bool = False) -> OrderRun:
        if not (playbook or inventory or forks or extra):
            module = run_module("clore_order", args, env, check=check, diff=diff, tmp=tmp_path / "module-tmp")
            return OrderRun(module, {"localhost": module.result})
        extra_vars = {"order_args": args, **(extra or {})}
        if inventory is not None:
            extra_vars.setdefault("order_hosts", "all")
        done = run_playbook(play, env, extra_vars=extra_vars, check=check, diff=diff, inventory=inventory,
                            forks=forks)
        results = {host: result for task in done.data.get("plays", [{}])[0].get("tasks", [])
                   if task["task"]["name"] == "Order" for host, result in sorted(task["hosts"].items())}
        assert results, f"no result recorded (rc {done.rc})\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return OrderRun(done, results)

    return run
