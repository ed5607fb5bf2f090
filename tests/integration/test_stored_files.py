"""What the collection writes on disk, through real ansible runs against clore-sim: secret-looking fields inside an
order's specs reach no file (state directory, inventory cache), everything written is private to the user, and a
corrupt state file is reported and kept aside instead of silently emptied."""
from __future__ import annotations

import stat
from pathlib import Path

from .inventory.test_inventory import hosts_of, inventory_list, write_config
from .playbook import run_inventory, run_playbook

SECRETS = ("Spec5ecretPassw0rd", "net-token-7c1f9e", "jt-in-specs-4b2d", "env-in-specs-91aa")
SPECS = {"gpu": "1x NVIDIA GeForce RTX 4090", "gpuram": 24, "ram": 64, "cpus": "16/32",
         "net": {"cc": "DE", "up": 900, "down": 950, "token": SECRETS[1]},
         "ssh_password": SECRETS[0], "jupyter_token": SECRETS[2], "env": {"HF_TOKEN": SECRETS[3]}}

TASKS = """\
    - name: Orders
      clore.ai.clore_order_info:
    - name: GPU activity
      clore.ai.clore_gpu_activity:
        utilization: "{{ {ready_order: [80]} }}"
    - name: Wait for an order without an endpoint
      clore.ai.clore_order:
        order_id: "{{ pending_order }}"
        state: present
        wait: true
        wait_timeout: 4
      ignore_errors: true
"""


def every_path(root: Path) -> list[Path]:
    return [root, *sorted(root.rglob("*"))]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def run_state_play(play: Path, env: dict, ready_order: int, pending_order: int):
    return run_playbook(play, env, extra_vars={"ready_order": ready_order, "pending_order": pending_order})


def test_secrets_in_specs_reach_no_file_and_everything_written_is_private(sim, ansible_env, tmp_path, local_play):
    ready_order, pending_order = sim.seed_orders(sim.api_key, 2)
    for order_id in (ready_order, pending_order):
        sim.admin("POST", "order_fields", {"order_id": order_id, "fields": {"specs": SPECS}})
    sim.admin("POST", "order_fields", {"order_id": pending_order, "fields": {"pub_cluster": None}})
    state = Path(ansible_env["CLORE_STATE_DIR"])
    cache = tmp_path / "inventory-cache"
    # The inventory is the first to use the state directory (it makes known_hosts/ in it).
    config = write_config(tmp_path, include_pending=True, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(cache))
    listing = inventory_list(config, ansible_env)
    assert hosts_of(listing, "clore") == sorted(f"clore-{i}" for i in (ready_order, pending_order))
    run = run_state_play(local_play("Modules that keep state", TASKS), ansible_env, ready_order, pending_order)
    assert run.result("Orders")["orders"][0]["country"] == "DE"
    assert run.result("Wait for an order without an endpoint")["failed"] is True  # it polled my_orders meanwhile

    shared_reads = list(state.glob("orders-*.json"))
    cache_files = [p for p in cache.rglob("*") if p.is_file()]
    assert shared_reads and cache_files and list(state.glob("gpu-activity-*.json"))
    assert '"cc": "DE"' in shared_reads[0].read_text()  # what is read of specs is stored, the rest is not
    for root in (state, cache):
        for path in every_path(root):
            if path.is_file():
                text = path.read_text(errors="replace")
                for secret in SECRETS:
                    assert secret not in text, f"{secret} in {path}"
    for path in every_path(state):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode(path))}"
    assert mode(cache) == 0o700 and all(mode(p) == 0o600 for p in cache_files)


def test_a_corrupt_state_file_is_reported_and_kept_aside(sim, ansible_env, local_play):
    ready_order, pending_order = sim.seed_orders(sim.api_key, 2)
    first = run_state_play(local_play("Modules that keep state", TASKS), ansible_env, ready_order, pending_order)
    assert first.rc == 0, first.stdout[-3000:] + first.stderr[-3000:]
    state = Path(ansible_env["CLORE_STATE_DIR"])
    [activity] = state.glob("gpu-activity-*.json")
    activity.write_text('{"orders": {"torn')
    run = run_state_play(local_play("Modules that keep state", TASKS), ansible_env, ready_order, pending_order)
    warnings = " ".join(" ".join(run.result("GPU activity").get("warnings", [])).split())
    [aside] = state.glob(f"{activity.name}.corrupt-*")
    assert f"clore.ai state file {activity} is not JSON (17 bytes): it was moved aside to {aside.name}" in warnings
    assert aside.read_text() == '{"orders": {"torn' and mode(aside) == 0o600
    assert not run.result("GPU activity").get("failed")


def test_the_inventory_state_dir_is_private_when_the_inventory_makes_it(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 1)
    state = Path(ansible_env["CLORE_STATE_DIR"])
    assert not state.exists()
    proc = run_inventory(write_config(tmp_path), ansible_env, "--list")
    assert proc.returncode == 0, proc.stderr
    assert mode(state) == 0o700 and mode(state / "known_hosts") == 0o700
