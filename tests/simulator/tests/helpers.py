"""A thin client for the simulated API and helpers to rent a server and reach it over SSH."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
               "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]


@dataclass
class Client:
    api_url: str
    key: str
    session: requests.Session

    def get(self, endpoint: str, key: str | None = None, **kwargs: Any) -> requests.Response:
        return self.session.get(f"{self.api_url}/{endpoint}", headers={"auth": key or self.key}, timeout=30, **kwargs)

    def post(self, endpoint: str, body: Any = None, key: str | None = None, **kwargs: Any) -> requests.Response:
        return self.session.post(f"{self.api_url}/{endpoint}", json=body, headers={"auth": key or self.key},
                                 timeout=30, **kwargs)

    def servers(self) -> list[dict]:
        return self.get("marketplace").json()["servers"]

    def orders(self, completed: bool = False, key: str | None = None) -> list[dict]:
        params = {"return_completed": "true"} if completed else None
        answer = self.get("my_orders", key=key, params=params).json()
        assert answer["code"] == 0, answer
        return answer["orders"]

    def free_server(self, model: str = "RTX 4090", currency: str = "CLORE-Blockchain", skip: int = 0) -> dict:
        matching = [s for s in self.servers() if not s["rented"] and s.get("online", True)
                    and model in s.get("specs", {}).get("gpu", "") and currency in s.get("allowed_coins", [])]
        matching.sort(key=lambda s: s["price"]["on_demand"][currency])
        return matching[skip]

    def rent(self, server: dict | None = None, key: str | None = None, **fields: Any) -> dict:
        """Create an order and return it as my_orders lists it."""
        server = server or self.free_server()
        body = {"renting_server": server["id"], "type": "on-demand", "currency": "CLORE-Blockchain",
                "image": "cloreai/ubuntu22.04-jupyter", **fields}
        answer = self.post("create_order", body, key=key).json()
        assert answer == {"code": 0}, answer
        orders = [o for o in self.orders(key=key) if o["si"] == server["id"]]
        assert len(orders) == 1, orders
        return orders[0]


def ssh_port(order: dict) -> int:
    for entry in order["tcp_ports"]:
        container, _sep, public = entry.partition(":")
        if container == "22":
            return int(public)
    raise AssertionError(f"no port 22 in {order['tcp_ports']}")


def ssh(port: int, key: Path, command: str, user: str = "root", extra: list[str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", *SSH_OPTIONS, *(extra or []), "-i", str(key), "-p", str(port),
                           f"{user}@127.0.0.1", command], capture_output=True, text=True, timeout=timeout, check=False)


def wait_ssh(port: int, key: Path, timeout: float = 60) -> None:
    """Until a login works (the sshd of a new order takes a moment to start)."""
    deadline = time.monotonic() + timeout
    while True:
        result = ssh(port, key, "true")
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no SSH login on port {port}: {result.stderr}")
        time.sleep(0.2)


def sshd_pid(state_dir: Path, order_id: int, timeout: float = 30) -> int:
    """The pid of an order's sshd listener, from its pid file in the state dir."""
    pid_file = state_dir / "orders" / str(order_id) / "sshd.pid"
    deadline = time.monotonic() + timeout
    while not pid_file.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"no sshd pid file for order {order_id}")
        time.sleep(0.05)
    return json.loads(pid_file.read_text())["pid"]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """The pids still alive after `timeout` seconds (empty when all ended)."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def started(pid: int) -> tuple[int, int] | None:
    """(pid, start time in clock ticks since boot): names one process even after its pid is reused."""
    try:
        return pid, int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def still_running(processes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [p for p in processes if alive(p[0]) and started(p[0]) == p]


def wait_ended(processes: list[tuple[int, int]], timeout: float = 10) -> list[tuple[int, int]]:
    """The processes (from started()) still running after `timeout` seconds (empty when all ended)."""
    deadline = time.monotonic() + timeout
    while still_running(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return still_running(processes)


def kill_processes(processes: list[tuple[int, int]]) -> None:
    """SIGKILL the processes (from started()) still running: a failed test's last word on what it left."""
    for pid, _start in still_running(processes):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def mount_namespace_members(pid: int) -> list[int]:
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return []
    own = os.readlink("/proc/self/ns/mnt")
    if namespace == own:
        return [pid]
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == namespace:
                    members.append(int(entry))
            except OSError:
                continue
    return members
