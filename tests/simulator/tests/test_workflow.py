"""The documented workflows, unchanged but for the base URL: a plain requests client and curl."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest
import requests
from clore_sim.testing import SimServer

from .helpers import SSH_OPTIONS


def test_requests_client_lists_rents_the_cheapest_4090_finds_it_connects_and_cancels(sim: SimServer, ssh_keypair) -> None:
    api, headers = sim.api_url, {"auth": sim.api_key}
    market = requests.get(f"{api}/marketplace", headers=headers, timeout=30).json()
    free_4090 = [s for s in market["servers"] if not s["rented"] and "RTX 4090" in str(s.get("gpu_array"))
                 and "CLORE-Blockchain" in s["allowed_coins"]]
    cheapest = min(free_4090, key=lambda s: s["price"]["on_demand"]["CLORE-Blockchain"])
    created_after = int(time.time()) - 1
    order_body = {"renting_server": cheapest["id"], "type": "on-demand", "currency": "CLORE-Blockchain",
                  "image": "cloreai/ubuntu22.04-jupyter", "ports": {"22": "tcp", "8888": "http"},
                  "ssh_key": ssh_keypair[1], "jupyter_token": "token123"}
    assert requests.post(f"{api}/create_order", headers=headers, json=order_body, timeout=30).json() == {"code": 0}

    order = None
    for _attempt in range(100):
        orders = requests.get(f"{api}/my_orders", headers=headers, timeout=30).json()["orders"]
        order = next((o for o in orders if o["si"] == cheapest["id"] and o["ct"] >= created_after), None)
        if order and order["pub_cluster"] and order["tcp_ports"]:
            break
        time.sleep(0.1)
    assert order is not None
    host = order["pub_cluster"][0]
    port = next(int(p.split(":")[1]) for p in order["tcp_ports"] if p.startswith("22:"))
    for _attempt in range(100):
        result = subprocess.run(["ssh", *SSH_OPTIONS, "-i", str(ssh_keypair[0]), "-p", str(port), f"root@{host}",
                                 "nvidia-smi --query-gpu=name --format=csv,noheader"], capture_output=True, text=True,
                                check=False)
        if result.returncode == 0:
            break
        time.sleep(0.2)
    assert result.stdout.strip() == "NVIDIA GeForce RTX 4090", result.stderr

    answer = requests.post(f"{api}/cancel_order", headers=headers, json={"id": order["id"]}, timeout=30)
    assert answer.json() == {"code": 0}
    remaining = requests.get(f"{api}/my_orders", headers=headers, timeout=30).json()["orders"]
    assert all(o["id"] != order["id"] for o in remaining)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_the_auth_header(sim: SimServer) -> None:
    def curl(*args: str) -> dict:
        result = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    assert curl("-H", f"auth: {sim.api_key}", f"{sim.api_url}/wallets")["code"] == 0
    assert len(curl("-H", f"auth: {sim.api_key}", f"{sim.api_url}/marketplace")["servers"]) == 40
    assert curl("-H", f"auth: {sim.api_key}", f"{sim.api_url}/my_orders?return_completed=true") == {
        "orders": [], "code": 0}
    assert curl("-H", f"Authorization: Bearer {sim.api_key}", f"{sim.api_url}/wallets")["code"] == 3
    server = next(s for s in curl("-H", f"auth: {sim.api_key}", f"{sim.api_url}/marketplace")["servers"]
                  if not s["rented"] and s.get("online", True) and "CLORE-Blockchain" in s["allowed_coins"])
    body = json.dumps({"renting_server": server["id"], "type": "on-demand", "currency": "CLORE-Blockchain",
                       "image": "cloreai/ubuntu22.04-jupyter"})
    assert curl("-X", "POST", "-H", f"auth: {sim.api_key}", "-H", "Content-Type: application/json", "-d", body,
                f"{sim.api_url}/create_order") == {"code": 0}
    config = curl("-X", "GET", "-H", f"auth: {sim.api_key}", "-H", "Content-Type: application/json",
                  "-d", json.dumps({"server_name": "nope"}), f"{sim.api_url}/server_config")
    assert config == {"code": 6, "error": "server-not-found"}
    assert os.environ.get("CLORE_API_KEY") != sim.api_key
