"""The AWX sample inventory source (extensions/awx/inventory/clore.yml), as it is, against clore-sim."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ..conftest import REPO
from ..playbook import VENV_BIN
from . import sim_orders
from .test_inventory import hosts_of, inventory_list

SAMPLE = REPO / "extensions" / "awx" / "inventory" / "clore.yml"


def test_sample_source_lists_ready_orders_in_awx_groups_and_reaches_them(sim, ansible_env, ssh_keypair, tmp_path):
    private_key, public_key = ssh_keypair
    on_demand_server, spot_server, pending_server = sim_orders.free_servers(sim, 3)
    sim_orders.rent(sim, on_demand_server, public_key)
    sim_orders.rent(sim, spot_server, public_key, spot=True)
    ready = {order["si"]: order for order in sim_orders.wait_until_reachable(sim, 2)}
    # The on-demand order is listed as created so long ago that half an hour of its maximum rental length (mrl, in
    # hours) is left.
    first = ready[on_demand_server["id"]]
    listed_at = time.time() - first["mrl"] * 3600 + 1800
    sim.admin("POST", "order_fields", {"order_id": first["id"], "fields": {"ct": listed_at}})
    sim.configure(provisioning_delay=3600)
    sim_orders.rent(sim, pending_server, public_key)
    on_demand = f"clore-{ready[on_demand_server['id']]['id']}"
    spot = f"clore-{ready[spot_server['id']]['id']}"

    env = ansible_env | {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"}
    calls_before = sim.counters()["requests"].get("my_orders", 0)
    listing = inventory_list(SAMPLE, env)
    assert sim.counters()["requests"].get("my_orders", 0) == calls_before + 1

    # include_pending: false - the order still provisioning is no host at all.
    assert hosts_of(listing, "clore") == sorted([on_demand, spot])
    assert hosts_of(listing, "clore_ready") == sorted([on_demand, spot])
    assert hosts_of(listing, "clore_pending") == []
    # The AWX groups of the sample.
    assert hosts_of(listing, "type_on_demand") == [on_demand]
    assert hosts_of(listing, "type_spot") == [spot]
    assert hosts_of(listing, "clore_ending_soon") == [on_demand]
    gpu_groups = [group for group in listing if group.startswith("gpu_")]
    assert sorted(host for group in gpu_groups for host in hosts_of(listing, group)) == sorted([on_demand, spot])

    # Host keys: per-order files under the state dir (CLORE_STATE_DIR, which the execution environment sets).
    known_hosts_dir = Path(ansible_env["CLORE_STATE_DIR"]) / "known_hosts"
    assert known_hosts_dir.is_dir()
    hostvars = listing["_meta"]["hostvars"]
    for host in (on_demand, spot):
        assert hostvars[host]["ansible_python_interpreter"] == "/usr/bin/python3"
        assert Path(hostvars[host]["clore_known_hosts_file"]).parent == known_hosts_dir
        assert "StrictHostKeyChecking=accept-new" in hostvars[host]["ansible_ssh_common_args"]

    # A job using this source reaches both hosts with host keys checked, and ssh records each key in its file.
    cmd = [str(VENV_BIN / "ansible"), "clore_ready", "-i", str(SAMPLE), "-m", "ansible.builtin.ping",
           "--private-key", str(private_key), "--one-line"]
    ping = subprocess.run(cmd, env=env | {"ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}, capture_output=True, text=True,
                          timeout=300, check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert ping.stdout.count("SUCCESS") == 2, ping.stdout
    for host in (on_demand, spot):
        assert "ssh-ed25519" in Path(hostvars[host]["clore_known_hosts_file"]).read_text()
