"""clore.ai.gpu_fleet against clore-sim: rent through clore_order, reach the servers in the next play over real SSH
with per-order known_hosts, adopt on a second run, release."""
from __future__ import annotations

import subprocess
from pathlib import Path

from ..playbook import run_playbook
from .conftest import PLAYBOOKS


def _active(sim) -> list[dict]:
    return [o for o in sim.orders() if o.get("ended_at") is None]


def test_gpu_fleet_rents_reaches_adopts_and_releases(sim, ansible_env, ssh_keypair):
    key = ssh_keypair[0]
    fleet = {
        "gpu_fleet_count": 2,
        "gpu_fleet_gpu": ["RTX 4090"],
        "gpu_fleet_gpu_count_max": 1,
        "gpu_fleet_ssh_private_key_file": str(key),
        "gpu_fleet_group": "rented",
    }
    first = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet)
    assert first.rc == 0, first.stdout[-3000:] + first.stderr
    converged = first.result("Converge the fleet")
    assert converged["changed"] and len(converged["created"]) == 2
    orders = {f"clore-{o['id']}": o for o in converged["orders"]}
    assert len(orders) == 2 and len(_active(sim)) == 2

    known_hosts_dir = Path(ansible_env["CLORE_STATE_DIR"]) / "known_hosts"
    for name, order in orders.items():
        # The next play reached each server over SSH and saw the GPU that was rented.
        gpus = first.result("Read the GPUs", name)["stdout_lines"]
        assert gpus == [order["gpu_model"]] * order["gpu_count"]
        # Host keys are checked, each order with its own file, the one the inventory plugin uses as well.
        known_hosts = known_hosts_dir / f"order-{order['id']}-{order['created_at']}"
        found = subprocess.run(["ssh-keygen", "-F", f"[{order['ssh_host']}]:{order['ssh_port']}", "-f", str(known_hosts)],
                               capture_output=True, text=True, check=False)
        assert found.returncode == 0 and "ssh-ed25519" in found.stdout
    added = first.task_results("Add the fleet's servers to group rented")
    assert len(added) == 1
    for item in added[0]["results"]:
        args = item["add_host"]["host_vars"]["ansible_ssh_common_args"]
        assert "StrictHostKeyChecking=accept-new" in args and f"UserKnownHostsFile={known_hosts_dir}/order-" in args
        assert "StrictHostKeyChecking=no" not in args

    # A second run rents nothing and reaches the same servers with the keys already recorded.
    second = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet)
    assert second.rc == 0, second.stdout[-3000:] + second.stderr
    again = second.result("Converge the fleet")
    assert not again["changed"] and again["created"] == []
    assert sorted(again["kept"]) == sorted(o["id"] for o in orders.values())
    assert sim.counters()["orders_created"] == 2
    for name in orders:
        assert second.result("Read the GPUs", name)["rc"] == 0

    release = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet | {"gpu_fleet_state": "absent"})
    assert release.rc == 0, release.stdout[-3000:] + release.stderr
    assert sorted(release.result("Cancel the fleet's orders")["cancelled"]) == sorted(o["id"] for o in orders.values())
    assert _active(sim) == []
    gone = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet | {"gpu_fleet_state": "absent"})
    assert gone.rc == 0 and not gone.result("Cancel the fleet's orders")["changed"]


def test_gpu_fleet_without_an_ssh_key_fails_before_renting(sim, ansible_env, tmp_path):
    run = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env,
                       extra_vars={"gpu_fleet_ssh_private_key_file": str(tmp_path / "missing_key")})
    assert run.rc != 0
    msg = run.result("Check the SSH key pair")["msg"]
    assert f"the private key {tmp_path / 'missing_key'} (gpu_fleet_ssh_private_key_file)" in msg
    assert "ssh-keygen -t ed25519" in msg
    assert sim.counters()["posts"] == {}
