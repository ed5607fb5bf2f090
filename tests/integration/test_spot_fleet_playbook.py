"""playbooks/spot_fleet.yml as cron runs it: its key=value inputs mean what they say, and a fleet that cannot be kept
within the cap fails the run (after the table), so that cron or AWX sees it."""
from __future__ import annotations

from .conftest import PLAYBOOKS
from .order.helpers import active_orders
from .playbook import run_playbook

KEEP_TASK = "Keep the fleet, re-bidding or replacing what was outbid"


def test_a_fleet_that_cannot_be_kept_within_the_cap_fails_the_run(sim, ansible_env, ssh_keypair):
    args = ["-e", "spot_fleet_count=1", "-e", "spot_fleet_max_price=0.0001", "-e", "spot_fleet_wait=false",
            "-e", f"spot_fleet_ssh_private_key_file={ssh_keypair[0]}"]
    run = run_playbook(PLAYBOOKS / "spot_fleet.yml", ansible_env, extra_args=args)
    kept = run.result(KEEP_TASK)
    assert kept["failed"] and kept["msg"]
    assert run.result("Fail when the fleet could not be kept within the cap")["msg"] == kept["msg"]
    assert run.rc != 0
    assert active_orders(sim) == []


def test_key_value_gpu_list_and_count_are_read_as_typed(sim, ansible_env, ssh_keypair):
    args = ["-e", "spot_fleet_count=1", "-e", "spot_fleet_gpu='RTX 4090,RTX 3090'", "-e", "spot_fleet_wait=false",
            "-e", f"spot_fleet_ssh_private_key_file={ssh_keypair[0]}"]
    run = run_playbook(PLAYBOOKS / "spot_fleet.yml", ansible_env, extra_args=args)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    (order,) = run.result(KEEP_TASK)["orders"]
    assert "RTX 4090" in order["gpu_model"] or "RTX 3090" in order["gpu_model"]
    assert len(active_orders(sim)) == 1
