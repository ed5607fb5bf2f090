"""The shipped playbooks run by their FQCN from any directory, as README.md and docs/playbooks.md show:
`ansible-playbook clore.ai.watch_orders`, with the collection installed and no checkout at hand."""
from __future__ import annotations

from .playbook import run_playbook


def test_watch_orders_runs_by_its_fqcn_outside_the_checkout(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = run_playbook("clore.ai.watch_orders", ansible_env, cwd=elsewhere)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.result("Show the number of orders")["msg"] == "2 order(s)"
