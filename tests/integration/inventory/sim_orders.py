"""Rent, list and cancel orders on clore-sim straight over its HTTP API, as a test's own setup.

Tests of the inventory and of clore_order_info need orders to exist; creating them here keeps those tests
independent of the order module.
"""
from __future__ import annotations

import socket
import time
from typing import Any

import requests

IMAGE = "cloreai/ubuntu22.04-jupyter"


def call(sim: Any, method: str, endpoint: str, body: dict | None = None, params: dict | None = None) -> dict:
    answer = requests.request(method, f"{sim.api_url}/{endpoint}", headers={"auth": sim.api_key}, json=body,
                              params=params, timeout=30).json()
    assert answer.get("code") == 0, f"{endpoint}: {answer}"
    return answer


def free_servers(sim: Any, count: int) -> list[dict]:
    """`count` servers that are free and online, cheapest first (so that the default balances cover them)."""
    offline = set(sim.offline())  # marketplace rows do not say
    servers = [s for s in call(sim, "GET", "marketplace")["servers"]
               if not s.get("rented") and s["id"] not in offline and s.get("allowed_coins")]
    servers.sort(key=lambda s: min(s["price"]["on_demand"].values()))
    assert len(servers) >= count, f"only {len(servers)} free servers"
    return servers[:count]


def rent(sim: Any, server: dict, ssh_public_key: str | None = None, *, spot: bool = False) -> None:
    """An order on `server` with port 22 mapped (a real sshd once provisioned, given a key)."""
    currency = "USD-Blockchain" if "USD-Blockchain" in server["allowed_coins"] else server["allowed_coins"][0]
    body: dict[str, Any] = {"renting_server": server["id"], "type": "spot" if spot else "on-demand",
                            "currency": currency, "image": IMAGE, "ports": {"22": "tcp"}}
    if spot:
        body["spotprice"] = server["price"]["spot"][currency] * 1.1
    if ssh_public_key:
        body["ssh_key"] = ssh_public_key
    call(sim, "POST", "create_order", body)


def my_orders(sim: Any, return_completed: bool = False) -> list[dict]:
    params = {"return_completed": "true"} if return_completed else None
    return call(sim, "GET", "my_orders", params=params)["orders"]


def ssh_port(order: dict) -> int | None:
    ports = order.get("tcp_ports") or []
    mapping = dict(p.split(":", 1) for p in ports) if isinstance(ports, list) else ports
    return int(mapping["22"]) if "22" in mapping else None


def wait_until_reachable(sim: Any, count: int, timeout: float = 60) -> list[dict]:
    """My `count` active orders once each has port 22 mapped and its sshd answers with a banner."""
    deadline = time.monotonic() + timeout
    while True:
        orders = my_orders(sim)
        if len(orders) >= count and all(o.get("pub_cluster") and ssh_port(o) for o in orders):
            break
        assert time.monotonic() < deadline, f"orders not provisioned in {timeout} s: {orders}"
        time.sleep(0.2)
    for order in orders:
        wait_for_banner(order["pub_cluster"][0], ssh_port(order), deadline)
    return orders


def wait_for_banner(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                conn.settimeout(2)
                if conn.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"no SSH banner on {host}:{port}"
        time.sleep(0.2)


def cancel(sim: Any, order_id: int) -> None:
    call(sim, "POST", "cancel_order", {"id": order_id})
