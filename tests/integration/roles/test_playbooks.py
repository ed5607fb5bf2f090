"""The ready-made playbooks, run as users run them, against clore-sim over real SSH:
rent.yml -> configure.yml and run_job.yml (through the clore.ai.clore inventory) -> cancel_order.yml -> release.yml
(watch_and_rent.yml has tests of its own: tests/integration/test_watch_and_rent.py)."""
from __future__ import annotations

from ..conftest import PLAYBOOKS as REPO_PLAYBOOKS
from ..playbook import run_playbook

INVENTORY = REPO_PLAYBOOKS / "inventory" / "clore.yml"


def _active(sim) -> list[dict]:
    return [o for o in sim.orders() if o.get("ended_at") is None]


def test_rent_configure_run_cancel_release(sim, ansible_env, ssh_keypair, tmp_path):
    key = ssh_keypair[0]
    # Ansible's default transfer (a file copied per task, no pipelining): the other tests pipeline.
    env = ansible_env | {"ANSIBLE_PRIVATE_KEY_FILE": str(key), "ANSIBLE_PIPELINING": "False"}
    fleet = {"gpu_fleet_count": 2, "gpu_fleet_ssh_private_key_file": str(key)}

    rent = run_playbook(REPO_PLAYBOOKS / "rent.yml", env, extra_vars=fleet)
    assert rent.rc == 0, rent.stdout[-3000:] + rent.stderr
    orders = rent.result("Converge the fleet")["orders"]
    assert len(orders) == 2 and all("RTX 4090" in o["gpu_model"] for o in orders)
    hosts = sorted(f"clore-{o['id']}" for o in orders)

    configure = run_playbook(REPO_PLAYBOOKS / "configure.yml", env, inventory=INVENTORY)
    assert configure.rc == 0, configure.stdout[-3000:] + configure.stderr
    assert sorted(configure.stats) == hosts
    assert run_playbook(REPO_PLAYBOOKS / "configure.yml", env, inventory=INVENTORY).changed_count() == 0

    results = tmp_path / "job-results"
    job = run_playbook(REPO_PLAYBOOKS / "run_job.yml", env, inventory=INVENTORY,
                       extra_vars={"run_job_results_dir": str(results), "run_job_poll_interval": 1})
    assert job.rc == 0, job.stdout[-3000:] + job.stderr
    by_host = {f"clore-{o['id']}": o for o in orders}
    for host in hosts:
        lines = (results / host / "gpus.csv").read_text().splitlines()
        assert len(lines) == by_host[host]["gpu_count"] and lines[0].startswith(by_host[host]["gpu_model"] + ", ")

    # One server misbehaves: cancel it with a problem report; the report reaches Clore.
    bad = orders[0]["id"]
    report = "GPU 0 falls off the bus under load (Xid 79)"
    cancel = run_playbook(REPO_PLAYBOOKS / "cancel_order.yml", env, extra_vars={"cancel_order_id": bad, "cancel_order_issue": report})
    assert cancel.rc == 0, cancel.stdout[-3000:] + cancel.stderr
    assert cancel.result("Show the outcome")["msg"] == f"Order {bad} cancelled with the problem report"
    assert next(o for o in sim.orders() if o["id"] == bad)["issue"] == report
    again = run_playbook(REPO_PLAYBOOKS / "cancel_order.yml", env, extra_vars={"cancel_order_id": bad})
    assert again.rc == 0 and again.result("Show the outcome")["msg"] == f"Order {bad} is not active: nothing to cancel"

    release = run_playbook(REPO_PLAYBOOKS / "release.yml", env, extra_vars=fleet)
    assert release.rc == 0, release.stdout[-3000:] + release.stderr
    assert release.result("Cancel the fleet's orders")["cancelled"] == [orders[1]["id"]]
    assert _active(sim) == []
    assert run_playbook(REPO_PLAYBOOKS / "release.yml", env, extra_vars=fleet).changed_count() == 0


def test_cancel_order_refuses_a_missing_order_id(sim, ansible_env):
    run = run_playbook(REPO_PLAYBOOKS / "cancel_order.yml", ansible_env)
    assert run.rc != 0
    assert "order_id is required" in run.result("Check the variables (playbooks/specs/cancel_order.yml)")["msg"]
    assert sim.counters()["requests"] == {}
