"""What the real API does that clore-sim plays: a recorded market served as it is, Cloudflare's 1010 block, the
create_order fields of private images."""
from __future__ import annotations

import json
from pathlib import Path

import requests
from clore_sim.testing import SimServer

from .helpers import Client

ROW = {"id": 73340, "owner": 5, "mrl": 720, "rented": False, "allowed_coins": ["CLORE-Blockchain"],
       "gpu_array": ["RTX 4090"],
       "price": {"on_demand": {"CLORE-Blockchain": 1174.03}, "spot": {"CLORE-Blockchain": 640.38},
                 "usd": {"on_demand_clore": 21.1}},
       "specs": {"gpu": "1x NVIDIA GeForce RTX 4090", "gpuram": 23.99, "disk": "Samsung SSD 990 PRO 4TB 3450.9524GB",
                 "backend_version": 21, "xfs": 3, "net": {"cc": "BY", "up": 1, "down": 2, "test_history": []}}}


def test_market_file_is_served_as_recorded_and_rentable(tmp_path: Path) -> None:
    recorded = tmp_path / "marketplace.json"
    odd = {"owner": 1}  # no id: left out
    recorded.write_text(json.dumps({"recorded": "test", "servers": [ROW, odd], "my_servers": [], "code": 0}))
    with SimServer(tmp_path / "sim", extra_args=["--market-file", str(recorded)]) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        servers = client.get("marketplace").json()["servers"]
        assert servers == [ROW]
        order = client.rent(ROW, currency="CLORE-Blockchain")
        assert order["si"] == ROW["id"] and order["specs"] == ROW["specs"]
        assert client.get("marketplace").json()["servers"][0]["rented"] is True
        client.session.close()


def test_cloudflare_1010_fault_is_a_plain_text_403(sim: SimServer, client: Client) -> None:
    sim.fault("marketplace", "cloudflare_1010")
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=10)
    assert answer.status_code == 403 and answer.text == "error code: 1010"
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert client.get("marketplace").json()["code"] == 0  # once


def test_private_image_fields_are_accepted_and_the_credentials_not_kept(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    client.rent(server, dockerhub_auth="me:dckr_pat_secret", remember_password=True, image="me/private")
    stored = sim.orders()
    assert stored[0]["private_image"] is True and "dckr_pat_secret" not in json.dumps(stored)
    bad = client.post("create_order", {"renting_server": client.free_server()["id"], "type": "on-demand",
                                       "currency": "CLORE-Blockchain", "image": "x/y", "remember_password": "yes"})
    assert bad.json()["code"] == 2
