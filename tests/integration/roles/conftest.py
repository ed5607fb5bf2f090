"""Rented machines for the role tests: orders created straight through clore-sim's API (no collection module in
between), and a static inventory that reaches them over real SSH with a known_hosts file per order."""
from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from clore_sim.testing import SimServer

PLAYBOOKS = Path(__file__).parent / "playbooks"
READY_TIMEOUT = 60.0
IMAGE = "cloreai/ubuntu22.04-jupyter"


@dataclass
class RentedHost:
    name: str
    order_id: int
    server_id: int
    host: str
    port: int
    gpu_model: str
    gpu_count: int


def _gpu(specs: dict) -> tuple[str, int]:
    """("NVIDIA GeForce RTX 4090", 2) from specs.gpu "2x NVIDIA GeForce RTX 4090"."""
    match = re.match(r"\s*(\d+)\s*x\s*(.+)", str(specs.get("gpu", "")))
    assert match, f"unexpected specs.gpu {specs.get('gpu')!r}"
    return match.group(2).strip(), int(match.group(1))


def _ssh_banner(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class Renter:
    """Creates orders on free servers of one GPU model and waits until their SSH answers with a banner."""

    def __init__(self, sim: SimServer, public_key: str):
        self.sim = sim
        self.public_key = public_key
        self.headers = {"auth": sim.api_key}

    def _get(self, endpoint: str) -> dict:
        answer = requests.get(f"{self.sim.api_url}/{endpoint}", headers=self.headers, timeout=30).json()
        assert answer["code"] == 0, answer
        return answer

    def free_servers(self, gpu: str, gpu_count: int = 1) -> list[dict]:
        offline = set(self.sim.offline())  # marketplace rows do not say
        return [
            s for s in self._get("marketplace")["servers"]
            if s["id"] not in offline and not s.get("rented") and gpu in str(s.get("specs", {}).get("gpu"))
            and _gpu(s["specs"])[1] == gpu_count
        ]

    def rent(self, count: int = 1, gpu: str = "RTX 4090", gpu_count: int = 1) -> list[RentedHost]:
        servers = self.free_servers(gpu, gpu_count)[:count]
        assert len(servers) == count, f"clore-sim has only {len(servers)} free {gpu_count}x {gpu}"
        for server in servers:
            body = {"renting_server": server["id"], "type": "on-demand", "currency": server["allowed_coins"][0],
                    "image": IMAGE, "ports": {"22": "tcp"}, "ssh_key": self.public_key}
            answer = requests.post(f"{self.sim.api_url}/create_order", headers=self.headers, json=body, timeout=30)
            assert answer.json() == {"code": 0}, answer.text
        wanted = {s["id"] for s in servers}
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            rented = [self._host(o) for o in self._get("my_orders")["orders"] if o["si"] in wanted]
            if len(rented) == count and all(h and _ssh_banner(h.host, h.port) for h in rented):
                return sorted(rented, key=lambda h: h.order_id)
            time.sleep(0.2)
        raise AssertionError(f"the orders on servers {sorted(wanted)} did not answer over SSH in {READY_TIMEOUT} s")

    @staticmethod
    def _host(order: dict) -> RentedHost | None:
        ports = dict(entry.split(":") for entry in order.get("tcp_ports") or [])
        if not order.get("pub_cluster") or "22" not in ports:
            return None
        model, count = _gpu(order["specs"])
        return RentedHost(f"clore-{order['id']}", order["id"], order["si"], order["pub_cluster"][0],
                          int(ports["22"]), model, count)


def write_inventory(path: Path, hosts: list[RentedHost], private_key: Path, known_hosts_dir: Path) -> Path:
    """A static inventory in the shape the clore.ai.clore plugin gives: clore_* variables, per-order known_hosts."""
    known_hosts_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    inventory = {"all": {"children": {"rented": {"hosts": {
        h.name: {
            "ansible_host": h.host,
            "ansible_port": h.port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(private_key),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts_dir}/order-{h.order_id} "
                                       "-o StrictHostKeyChecking=accept-new",
            "ansible_python_interpreter": "/usr/bin/python3",
            "clore_id": h.order_id,
            "clore_server_id": h.server_id,
            "clore_gpu_model": h.gpu_model,
            "clore_gpu_count": h.gpu_count,
        } for h in hosts
    }}}}}
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


@pytest.fixture
def rent_hosts(sim: SimServer, ssh_keypair: tuple[Path, str], tmp_path: Path) -> Callable[..., tuple[Path, list]]:
    """rent_hosts(count, gpu, gpu_count) -> (inventory path, [RentedHost]): real sshd containers from clore-sim."""
    private_key, public_key = ssh_keypair
    renter = Renter(sim, public_key)

    def rent(count: int = 1, gpu: str = "RTX 4090", gpu_count: int = 1) -> tuple[Path, list[RentedHost]]:
        hosts = renter.rent(count, gpu, gpu_count)
        inventory = write_inventory(tmp_path / "inventory.yml", hosts, private_key, tmp_path / "known_hosts")
        return inventory, hosts

    return rent


def ssh(host: RentedHost, private_key: Path, known_hosts: Path, command: str) -> str:
    """Run a command on a rented host over real SSH, independently of Ansible; its stdout."""
    result = subprocess.run(
        ["ssh", "-i", str(private_key), "-p", str(host.port), "-o", f"UserKnownHostsFile={known_hosts}",
         "-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes", f"root@{host.host}", command],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, f"ssh {command!r}: {result.stderr}"
    return result.stdout
