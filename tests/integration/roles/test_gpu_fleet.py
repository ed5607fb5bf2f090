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
        host_vars = item["add_host"]["host_vars"]
        order = orders[item["add_host"]["host_name"]]
        # The host-key settings are clore_order's (the inventory's policy), not computed again by the role.
        assert host_vars["ansible_ssh_common_args"] == order["ssh_common_args"]
        assert host_vars["clore_known_hosts_file"] == order["known_hosts_file"] == \
            str(known_hosts_dir / f"order-{order['id']}-{order['created_at']}")
        assert "StrictHostKeyChecking=accept-new" in order["ssh_common_args"]
        assert "StrictHostKeyChecking=no" not in order["ssh_common_args"]

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


def test_gpu_fleet_check_mode_rents_nothing_then_reaches_what_exists(sim, ansible_env, ssh_keypair, tmp_path):
    known_hosts_dir = tmp_path / "fleet-known-hosts"
    fleet = {
        "gpu_fleet_count": 2,
        "gpu_fleet_gpu": ["RTX 4090"],
        "gpu_fleet_gpu_count_max": 1,
        "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0]),
        "gpu_fleet_group": "rented",
        "gpu_fleet_known_hosts_dir": str(known_hosts_dir),
    }
    plan = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet, check=True)
    assert plan.rc == 0, plan.stdout[-3000:] + plan.stderr
    would = plan.result("Converge the fleet")
    assert len(would["would_create"]) == 2 and would["orders"] == []
    shown = plan.result("Show the fleet")["msg"]
    assert shown[0].startswith("rented: 0 of 2 server(s)") and "check mode: nothing rented" in shown[0]
    assert [line.split(",")[0] for line in shown[1:]] == [f"would rent server {c['server_id']}"
                                                          for c in would["would_create"]]
    assert sim.counters()["posts"] == {} and _active(sim) == []
    assert not known_hosts_dir.exists()  # check mode creates nothing, not even the directory

    rented = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet)
    assert rented.rc == 0, rented.stdout[-3000:] + rented.stderr
    posts = sim.counters()["posts"]

    # In check mode the existing fleet is kept and reached with the known_hosts files of the real run.
    check = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet, check=True)
    assert check.rc == 0, check.stdout[-3000:] + check.stderr
    kept = check.result("Converge the fleet")
    assert not kept["changed"] and kept["would_create"] == [] and len(kept["orders"]) == 2
    for order in kept["orders"]:
        assert order["known_hosts_file"] == str(known_hosts_dir / f"order-{order['id']}-{order['created_at']}")
        assert Path(order["known_hosts_file"]).is_file()  # written by the real run's SSH connections
    added = check.task_results("Add the fleet's servers to group rented")[0]["results"]
    assert sorted(i["add_host"]["host_name"] for i in added) == sorted(f"clore-{o['id']}" for o in kept["orders"])
    assert sim.counters()["posts"] == posts

    release = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, check=True,
                           extra_vars=fleet | {"gpu_fleet_state": "absent"})
    assert release.rc == 0, release.stdout[-3000:] + release.stderr
    assert sorted(release.result("Cancel the fleet's orders")["would_cancel"]) == sorted(o["id"] for o in kept["orders"])
    assert release.result("Show what was released")["msg"].startswith("rented: would cancel ")
    assert sim.counters()["posts"] == posts and len(_active(sim)) == 2


def test_gpu_fleet_rents_a_private_image_without_showing_its_credentials(sim, ansible_env, ssh_keypair):
    auth = "me:dckr_pat_fleetSecret7"
    fleet = {"gpu_fleet_count": 1, "gpu_fleet_gpu": ["RTX 4090"], "gpu_fleet_image": "me/private-worker",
             "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0]), "gpu_fleet_dockerhub_auth": auth,
             "gpu_fleet_remember_password": True}
    run = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet, diff=True)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    assert auth not in run.stdout + run.stderr
    orders = _active(sim)
    assert len(orders) == 1 and orders[0]["private_image"] is True and orders[0]["image"] == "me/private-worker"
