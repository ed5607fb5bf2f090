"""What runs on a rented machine is counted in the CPU seconds of whoever started clore-sim: stopping a machine ends
its processes deepest first, so that each is reaped by its own parent, even with an SSH connection still open (as
Ansible's ControlPersist keeps one). `make test`'s and `pytest --cpu-report`'s figures depend on it."""
from __future__ import annotations

import os
import resource
import subprocess

import pytest
import requests
from clore_sim.testing import SimServer

from .helpers import SSH_OPTIONS, Client, ssh_port, wait_ssh

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated order machines need root")

# Spins until this process has used 1 CPU second, then prints how many it used.
BURN = "python3 -c 'import time\nwhile time.process_time() < 1.0: pass\nprint(time.process_time())'"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_a_command_run_over_a_connection_left_open_is_counted_once_the_simulator_stops(tmp_path, ssh_keypair):
    key = ssh_keypair[0]
    control = ["-o", f"ControlPath={tmp_path}/master", "-i", str(key)]
    before = children_cpu()
    with SimServer(tmp_path / "sim-state") as sim, requests.Session() as session:
        order = Client(sim.api_url, sim.api_key, session).rent(ports={"22": "tcp"}, ssh_key=ssh_keypair[1])
        port = str(ssh_port(order))
        wait_ssh(int(port), key)
        master = ["ssh", *SSH_OPTIONS, *control, "-o", "ControlMaster=yes", "-o", "ControlPersist=120", "-p", port,
                  "root@127.0.0.1", "true"]
        assert subprocess.run(master, capture_output=True, text=True, timeout=60, check=False).returncode == 0
        burn = subprocess.run(["ssh", *SSH_OPTIONS, *control, "-p", port, "root@127.0.0.1", BURN],
                              capture_output=True, text=True, timeout=120, check=False)
        assert burn.returncode == 0, burn.stderr
        burned = float(burn.stdout)
        # The simulator stops with the connection open: its sshd still holds the command's seconds.
    subprocess.run(["ssh", *SSH_OPTIONS, *control, "-O", "exit", "-p", port, "root@127.0.0.1"], capture_output=True,
                   timeout=30, check=False)
    counted = children_cpu() - before
    assert counted >= burned >= 1.0, f"{burned:.2f} CPU s burned on the machine, {counted:.2f} counted in all"
