"""The rented machine: a real sshd per order, isolated from the host, with an nvidia-smi stand-in."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .helpers import (Client, alive, kill_processes, mount_namespace_members, ssh, ssh_port, sshd_pid, started,
                      still_running, wait_ended, wait_gone, wait_ssh)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated order machines need root")


def _rent_ssh(client: Client, key_text: str, server: dict | None = None, **fields) -> dict:
    return client.rent(server, ports={"22": "tcp"}, ssh_key=key_text, **fields)


def test_login_with_the_order_key_and_refusal_with_another(client: Client, ssh_keypair, other_keypair) -> None:
    order = _rent_ssh(client, ssh_keypair[1])
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    result = ssh(port, ssh_keypair[0], "id -un; hostname; test -x /usr/bin/python3 && echo python-ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "root" and "python-ok" in result.stdout
    refused = ssh(port, other_keypair[0], "true")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr
    as_other_user = ssh(port, ssh_keypair[0], "true", user="nobody")
    assert as_other_user.returncode == 255


def test_the_session_is_isolated_from_the_host(sim: SimServer, client: Client, ssh_keypair) -> None:
    order = _rent_ssh(client, ssh_keypair[1])
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    marker = f"clore-sim-isolation-{order['id']}"
    script = (
        f"set -e; for d in /root /tmp /var/tmp /workspace /usr/local/bin; do echo x > $d/{marker}; done; "
        f"ls /root/{marker} /usr/local/bin/{marker} >/dev/null; "
        f"for d in /etc /usr /opt /var/lib /; do if touch $d/{marker} 2>/dev/null; then echo WROTE $d; fi; done; "
        f"test ! -e {sim.state_dir.resolve()}/state.json && echo state-hidden; "
        f"python3 -c 'import os; print(os.getcwd())'"
    )
    result = ssh(port, ssh_keypair[0], script)
    assert result.returncode == 0, result.stderr
    assert "WROTE" not in result.stdout
    assert "state-hidden" in result.stdout and "/root" in result.stdout
    for directory in ("/root", "/tmp", "/var/tmp", "/workspace", "/usr/local/bin", "/etc", "/usr", "/opt", "/"):
        assert not Path(directory, marker).exists(), directory
    assert (sim.state_dir / "orders" / str(order["id"]) / "root" / marker).exists()  # kept per order


def test_two_orders_do_not_see_each_other(client: Client, ssh_keypair) -> None:
    first = _rent_ssh(client, ssh_keypair[1])
    second = _rent_ssh(client, ssh_keypair[1], client.free_server())
    for order in (first, second):
        wait_ssh(ssh_port(order), ssh_keypair[0])
    assert ssh(ssh_port(first), ssh_keypair[0], "echo one > /root/mine").returncode == 0
    assert ssh(ssh_port(second), ssh_keypair[0], "test ! -e /root/mine").returncode == 0


def test_nvidia_smi_reports_the_servers_gpus(client: Client, ssh_keypair) -> None:
    servers = client.servers()
    server = next(s for s in servers if s["specs"]["gpu"] == "2x NVIDIA GeForce RTX 4090" and not s["rented"])
    order = _rent_ssh(client, ssh_keypair[1], server)
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    table = ssh(port, ssh_keypair[0], "nvidia-smi")
    assert table.returncode == 0
    assert table.stdout.count("NVIDIA GeForce RTX 4090") == 2
    assert "24576MiB" in table.stdout and f"CUDA Version: {server['cuda_version']}" in table.stdout
    csv = ssh(port, ssh_keypair[0], "nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv")
    assert csv.stdout.splitlines() == [
        "index, name, memory.total [MiB], memory.used [MiB]",
        "0, NVIDIA GeForce RTX 4090, 24576 MiB, 1 MiB",
        "1, NVIDIA GeForce RTX 4090, 24576 MiB, 1 MiB",
    ]
    bare = ssh(port, ssh_keypair[0], "nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits")
    assert bare.stdout.splitlines() == ["NVIDIA GeForce RTX 4090, 24576"] * 2
    listing = ssh(port, ssh_keypair[0], "nvidia-smi -L")
    assert listing.stdout.startswith("GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-")
    bad = ssh(port, ssh_keypair[0], "nvidia-smi --query-gpu=bogus --format=csv")
    assert bad.returncode != 0


def test_password_only_order(sim: SimServer, client: Client, tmp_path: Path) -> None:
    order = client.rent(ports={"22": "tcp"}, ssh_password="Secret123")
    port = ssh_port(order)
    askpass = tmp_path / "askpass.sh"
    askpass.write_text("#!/bin/sh\necho Secret123\n")
    askpass.chmod(0o700)
    env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
    command = ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
               "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "ConnectTimeout=10",
               "-p", str(port), "root@127.0.0.1"]
    for _attempt in range(50):
        result = subprocess.run([*command, "id -un"], capture_output=True, text=True, env=env, timeout=30,
                                stdin=subprocess.DEVNULL, check=False)
        if result.returncode == 0:
            break
    assert result.stdout.strip() == "root", result.stderr
    askpass.write_text("#!/bin/sh\necho WrongPassword1\n")
    wrong = subprocess.run([*command, "true"], capture_output=True, text=True, env=env, timeout=30,
                           stdin=subprocess.DEVNULL, check=False)
    assert wrong.returncode == 255
    assert "root:" in Path("/etc/shadow").read_text()  # the host's shadow is untouched
    assert "Secret123" not in client.get("my_orders").text
    assert "Secret123" not in (sim.state_dir / "state.json").read_text()  # only its hash is kept


def test_no_sshd_without_port_22_or_credentials(client: Client) -> None:
    order = client.rent(ports={"22": "tcp"})
    port = ssh_port(order)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_cancel_stops_sshd_and_every_session(sim: SimServer, client: Client, ssh_keypair) -> None:
    order = _rent_ssh(client, ssh_keypair[1])
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    session = subprocess.Popen(["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                "-i", str(ssh_keypair[0]), "-p", str(port), "root@127.0.0.1",
                                "nohup sleep 600 >/dev/null 2>&1 & sleep 600"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pid = sshd_pid(sim.state_dir, order["id"])
        for _attempt in range(100):
            members = mount_namespace_members(pid)
            if len(members) >= 4:
                break
            subprocess.run(["sleep", "0.1"], check=False)
        assert len(members) >= 4, members  # sshd, its session, the shell, the sleeps
        assert client.post("cancel_order", {"id": order["id"]}).json() == {"code": 0}
        assert wait_gone(members) == []
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        session.kill()
        session.wait()


def test_shutdown_leaves_nothing_running(tmp_path: Path, ssh_keypair) -> None:
    import requests
    sim = SimServer(tmp_path / "s")
    sim.start()
    try:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        orders = [_rent_ssh(client, ssh_keypair[1], client.free_server()) for _index in range(3)]
        pids = []
        for order in orders:
            wait_ssh(ssh_port(order), ssh_keypair[0])
            pids += mount_namespace_members(sshd_pid(sim.state_dir, order["id"]))
        simulator_pid = sim.pid
    finally:
        status = sim.stop()
    assert status == 0
    assert not alive(simulator_pid)
    assert wait_gone(pids, timeout=2) == []
    assert not list((tmp_path / "s" / "orders").glob("*/sshd.pid"))


def _eventually(read, timeout: float = 5.0):
    """read()'s first truthy answer within `timeout` seconds (the last answer otherwise)."""
    deadline = time.monotonic() + timeout
    while not (value := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_unreachable_ssh_accepts_but_sends_no_banner(sim: SimServer, client: Client, ssh_keypair) -> None:
    from clore_sim.ssh import wait_banner
    order = _rent_ssh(client, ssh_keypair[1])
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    # The admin call answers once the switch is made: no moment in between, when the port refused, is seen after it.
    silent = {o["id"]: o["ssh_silent_connections"] for o in sim.orders()}
    assert silent[order["id"]] == 0
    sim.set_ssh_reachable(order["id"], False)
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the port still accepts
    # The admin view counts the connections held, which tells a test that a client has reached the silent port.
    assert _eventually(lambda: next(o["ssh_silent_connections"] for o in sim.orders() if o["id"] == order["id"])) == 1
    assert wait_banner("127.0.0.1", port, timeout=1.5) is None
    sim.set_ssh_reachable(order["id"], True)
    assert next(o["ssh_silent_connections"] for o in sim.orders() if o["id"] == order["id"]) == 0
    assert wait_banner("127.0.0.1", port, timeout=1.5) is not None
    wait_ssh(port, ssh_keypair[0])


def test_restart_keeps_orders_balances_and_brings_sshd_back(tmp_path: Path, ssh_keypair) -> None:
    import requests
    state = tmp_path / "s"
    sim = SimServer(state, accounts={"persist-key": {}})
    sim.start()
    try:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        order = _rent_ssh(client, ssh_keypair[1])
        cancelled = client.rent(client.free_server())
        client.post("cancel_order", {"id": cancelled["id"]})
        port = ssh_port(order)
        wait_ssh(port, ssh_keypair[0])
        assert ssh(port, ssh_keypair[0], "echo kept > /root/note").returncode == 0
        wallets = client.get("wallets").json()["wallets"]
        sim.restart()
        client = Client(sim.api_url, sim.api_key, requests.Session())
        orders = client.orders(completed=True)
        assert {o["id"]: o["expired"] for o in orders} == {order["id"]: False, cancelled["id"]: True}
        assert ssh_port(client.orders()[0]) == port
        wait_ssh(port, ssh_keypair[0])
        assert ssh(port, ssh_keypair[0], "cat /root/note").stdout.strip() == "kept"
        after = {w["name"]: w["balance"] for w in client.get("wallets").json()["wallets"]}
        for wallet in wallets:
            assert after[wallet["name"]] == pytest.approx(wallet["balance"], rel=1e-4)
        assert next(s for s in client.servers() if s["id"] == order["si"])["rented"] is True
    finally:
        sim.stop()


def test_ansible_runs_modules_over_the_order_ssh(client: Client, ssh_keypair, tmp_path: Path) -> None:
    ansible = Path(sys.executable).parent / "ansible"
    if not ansible.exists():
        pytest.skip("ansible is not installed next to this python")
    order = _rent_ssh(client, ssh_keypair[1])
    port = ssh_port(order)
    wait_ssh(port, ssh_keypair[0])
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"), "ANSIBLE_NOCOLOR": "1"}
    base = [str(ansible), "all", "-i", "127.0.0.1,", "-u", "root", "--private-key", str(ssh_keypair[0]),
            "-e", f"ansible_port={port}", "-e", "ansible_python_interpreter=/usr/bin/python3"]
    ping = subprocess.run([*base, "-m", "ping"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert ping.returncode == 0 and '"ping": "pong"' in ping.stdout, ping.stdout + ping.stderr
    script = ("python3 -m venv /root/venv && /root/venv/bin/python -c 'print(42)' && "
              "nvidia-smi --query-gpu=name --format=csv,noheader")
    venv = subprocess.run([*base, "-m", "shell", "-a", script], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert venv.returncode == 0, venv.stdout + venv.stderr
    assert "42" in venv.stdout and "NVIDIA" in venv.stdout
    copy = subprocess.run([*base, "-m", "copy", "-a", "content=hello dest=/workspace/hello.txt"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert copy.returncode == 0 and "CHANGED" in copy.stdout, copy.stdout + copy.stderr
    assert not Path("/workspace/hello.txt").exists()


def test_isolation_off_warns_and_still_serves_ssh(tmp_path: Path, ssh_keypair) -> None:
    import requests
    with SimServer(tmp_path / "s", extra_args=("--isolation", "off")) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        order = _rent_ssh(client, ssh_keypair[1])
        port = ssh_port(order)
        wait_ssh(port, ssh_keypair[0])
        result = ssh(port, ssh_keypair[0], "nvidia-smi --query-gpu=name --format=csv,noheader")
        assert result.returncode == 0, result.stderr
        assert "NVIDIA" in result.stdout
        log = sim.log_path.read_text()
    assert "NOT ISOLATED" in log and "NOT isolated" in log


def test_a_crashed_simulator_leaves_sshd_that_the_next_start_replaces(tmp_path: Path, ssh_keypair) -> None:
    import requests
    state = tmp_path / "s"
    sim = SimServer(state)
    old: list[tuple[int, int]] = []
    sim.start()
    try:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        order = _rent_ssh(client, ssh_keypair[1])
        port = ssh_port(order)
        wait_ssh(port, ssh_keypair[0])
        listener = started(sshd_pid(state, order["id"]))
        assert listener, "the order's sshd is not running"
        # The sshd and whatever else lives in its namespace (the sessions of the login above may still be ending).
        old = [p for p in map(started, mount_namespace_members(listener[0])) if p]
        sim.process.kill()  # no clean shutdown
        sim.process.wait()
        assert still_running([listener]) == [listener]  # the crash left the order's sshd running
        sim.start()
        assert wait_ended(old, timeout=30) == []
        wait_ssh(port, ssh_keypair[0])
        assert started(sshd_pid(state, order["id"])) not in old
    finally:
        sim.stop()  # also stops the sshd of a simulator that died, from its pid file
        kill_processes(old)


def test_stopping_an_order_spares_a_namespace_number_now_held_by_others() -> None:
    """The order's processes are gone and the number of their mount namespace belongs to a new one (another order's,
    another clore-sim's): stopping the order must not kill what lives there."""
    from clore_sim.ssh import kill_all
    own = os.readlink("/proc/self/ns/mnt")
    stranger = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "60"])
    try:
        namespace = own
        for _attempt in range(200):
            namespace = os.readlink(f"/proc/{stranger.pid}/ns/mnt")
            if namespace != own:
                break
            time.sleep(0.01)
        assert namespace != own
        gone = subprocess.Popen(["true"])
        gone.wait()
        kill_all(gone.pid, namespace, grace=0.2)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
