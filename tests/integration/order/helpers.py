"""Small readers of clore-sim state shared by the order tests."""
from __future__ import annotations

import subprocess
from pathlib import Path

import requests

IMAGE = "cloreai/ubuntu22.04-jupyter"
GPU = ["RTX 4090"]


def active_orders(sim) -> list[dict]:
    return [o for o in sim.orders() if o.get("ended_at") is None]


def posts(sim) -> dict[str, int]:
    return dict(sim.counters().get("posts", {}))


def free_servers(sim, gpu: str = "RTX 4090", spot_bid: float = 12.0) -> list[dict]:
    """Free, online servers with that GPU taking USD-Blockchain and a spot bid of `spot_bid`, cheapest first."""
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30).json()
    offline = set(sim.offline())  # marketplace rows do not say
    rows = [s for s in answer["servers"] if gpu in s["specs"]["gpu"] and not s["rented"] and s["id"] not in offline
            and "USD-Blockchain" in s["allowed_coins"] and s["price"]["spot"]["USD-Blockchain"] <= spot_bid]
    return sorted(rows, key=lambda s: s["price"]["on_demand"]["USD-Blockchain"])


def ssh_runs(private_key: Path, host: str, port: int, known_hosts: Path) -> str:
    """Run `echo ok` over real SSH in the rented container; its output."""
    done = subprocess.run(
        ["ssh", "-i", str(private_key), "-p", str(port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
         "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=accept-new",
         f"root@{host}", "echo ok"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return done.stdout.strip()
