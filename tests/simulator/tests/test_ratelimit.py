"""Per-key rate limits: 429 with {"code": 5} and Retry-After; refused requests do not move the window."""
from __future__ import annotations

import time

import requests
from clore_sim.testing import SimServer

from .helpers import Client


def _client(sim: SimServer, key: str | None = None) -> Client:
    return Client(sim.api_url, key or sim.api_key, requests.Session())


def test_requests_closer_than_the_interval_get_429(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=1.0, create_interval=5.0) as sim:
        client = _client(sim)
        assert client.get("wallets").status_code == 200
        refused = client.get("marketplace")
        assert refused.status_code == 429
        assert refused.json() == {"code": 5}
        assert refused.headers["Retry-After"] == "1"
        assert sim.counters()["rate_limited"] == 1


def test_limit_is_per_key(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=5.0, accounts={"a": {}, "b": {}}) as sim:
        a, b = _client(sim, "a"), _client(sim, "b")
        assert a.get("wallets").status_code == 200
        assert b.get("wallets").status_code == 200
        assert a.get("wallets").status_code == 429
        assert b.get("wallets").status_code == 429
        counters = sim.counters()
        assert counters["requests_by_key"] == {"a": 2, "b": 2}
        assert counters["rate_limited"] == 2


def test_refused_request_does_not_reset_the_window(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=0.6) as sim:
        client = _client(sim)
        first = time.monotonic()
        assert client.get("wallets").status_code == 200
        time.sleep(0.3)
        assert client.get("wallets").status_code == 429
        time.sleep(max(0.0, first + 0.65 - time.monotonic()))
        # 0.65 s after the accepted request but only ~0.35 s after the refused one: served.
        assert client.get("wallets").status_code == 200


def test_create_interval_applies_to_create_order_only(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=0.0, create_interval=30.0) as sim:
        client = _client(sim)
        first, second = client.free_server(), client.free_server(skip=1)
        body = {"type": "on-demand", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}
        assert client.post("create_order", {**body, "renting_server": first["id"]}).json() == {"code": 0}
        refused = client.post("create_order", {**body, "renting_server": second["id"]})
        assert refused.status_code == 429 and refused.json() == {"code": 5}
        assert 29 <= int(refused.headers["Retry-After"]) <= 30
        assert client.get("marketplace").status_code == 200
        assert client.get("my_orders").status_code == 200
        assert len(client.orders()) == 1
        sim.configure(create_interval=0)
        assert client.post("create_order", {**body, "renting_server": second["id"]}).json() == {"code": 0}


def test_a_client_spaced_exactly_by_the_interval_is_served(tmp_path) -> None:
    """Arrival times are measured at the server with a tolerance (--rate-tolerance) for loopback jitter."""
    interval = 0.25
    with SimServer(tmp_path / "s", request_interval=interval, extra_args=("--rate-tolerance", "0.05")) as sim:
        client = _client(sim)
        client.get("wallets")  # warm the connection
        start = time.monotonic() + interval
        statuses = []
        for i in range(8):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            statuses.append(client.get("wallets").status_code)
        assert statuses == [200] * 8


def test_unauthenticated_requests_are_not_rate_limited_against_a_key(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=5.0) as sim:
        for _ in range(3):
            assert requests.get(f"{sim.api_url}/wallets", headers={"auth": "bad"}, timeout=10).status_code == 401
        assert _client(sim).get("wallets").status_code == 200
