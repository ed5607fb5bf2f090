"""Fixtures for clore_order's integration tests: one generic play that runs the module with given arguments.

Each run's registered result is written to a JSON file by an `always:` task (also in check mode), so a test reads the
module's own result whether the task succeeded or failed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..playbook import PlaybookRun, run_playbook

ORDER_PLAY = """\
- name: One clore_order task with the arguments in `order_args`
  hosts: "{{ order_hosts | default('localhost') }}"
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Order block
      block:
        - name: Order
          clore.ai.clore_order: "{{ order_args }}"
          register: order_result
      always:
        - name: Save the result
          ansible.builtin.copy:
            content: "{{ order_result | default({}) | to_json }}"
            dest: "{{ result_dir }}/{{ inventory_hostname }}.json"
            mode: "0600"
          check_mode: false
"""


@dataclass
class OrderRun:
    run: PlaybookRun
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
    """run_order(env, args, check=False, diff=False, inventory=None, forks=None, verbosity=0) -> OrderRun."""
    play = tmp_path / "order.yml"
    play.write_text(ORDER_PLAY)
    counter = {"n": 0}

    def run(env: dict[str, str], args: dict[str, Any], *, check: bool = False, diff: bool = False,
            inventory: Path | None = None, forks: int | None = None, verbosity: int = 0,
            extra: dict[str, Any] | None = None) -> OrderRun:
        counter["n"] += 1
        result_dir = tmp_path / f"results-{counter['n']}"
        result_dir.mkdir()
        extra_vars = {"order_args": args, "result_dir": str(result_dir), **(extra or {})}
        if inventory is not None:
            extra_vars.setdefault("order_hosts", "all")
        done = run_playbook(play, env, extra_vars=extra_vars, check=check, diff=diff, inventory=inventory,
                            forks=forks, verbosity=verbosity, json_output=False)
        results = {p.stem: json.loads(p.read_text()) for p in sorted(result_dir.glob("*.json"))}
        assert results, f"no result saved (rc {done.rc})\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return OrderRun(done, results)

    return run
