"""The admin API: guard, faults of every kind, counters, reset, live knobs, seeded orders."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
from clore_sim.testing import SimError, SimServer

from .helpers import Client

BODY = {"type": "on-demand", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}


def test_admin_api_is_guarded(sim: SimServer) -> None:
    answer = requests.get(f"{sim.base_url}/_sim/counters", timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (401, 3)
    answer = requests.get(f"{sim.base_url}/_sim/counters", headers={"X-Clore-Sim-Admin": "wrong"}, timeout=10)
    assert answer.status_code == 401
    assert sim.admin("GET", "nothing-here")["code"] == 4
    assert sim.admin("POST", "fault", {"endpoint": "marketplace", "kind": "explode"})["code"] == 2


def test_admin_api_is_off_without_token(tmp_path) -> None:
    state = tmp_path / "s"
    state.mkdir()
    ready = state / "ready.json"
    process = subprocess.Popen([sys.executable, "-m", "clore_sim", "--port", "0", "--state-dir", str(state),
                                "--ready-file", str(ready), "--api-key", "k", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = json.loads(ready.read_text())["url"].removesuffix("/v1")
        answer = requests.get(f"{url}/_sim/counters", headers={"X-Clore-Sim-Admin": "x"}, timeout=10)
        assert (answer.status_code, answer.json()["code"]) == (404, 4)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_counters_per_endpoint_key_and_posts(sim: SimServer, client: Client) -> None:
    client.get("marketplace")
    client.get("marketplace")
    order = client.rent()
    client.post("cancel_order", {"id": order["id"]})
    requests.get(f"{sim.api_url}/wallets", headers={"auth": "nobody"}, timeout=10)
    counters = sim.counters()
    assert counters["requests"]["marketplace"] == 3  # two, and one in free_server()
    assert counters["requests"]["create_order"] == 1 and counters["requests"]["my_orders"] == 1
    assert counters["posts"] == {"create_order": 1, "cancel_order": 1}
    assert counters["requests_by_key"][sim.api_key] == 6 and counters["requests_by_key"]["nobody"] == 1
    assert counters["orders_created"] == 1 and counters["orders_cancelled"] == 1
    sim.reset()
    assert sim.counters() == {"requests": {}, "requests_by_key": {}, "posts": {}, "rate_limited": 0,
                              "orders_created": 0, "orders_cancelled": 0, "orders_outbid": 0}


def test_fault_code1_http500_http502_next_n_calls(sim: SimServer, client: Client) -> None:
    sim.fault("marketplace", "code1", count=2)
    assert [client.get("marketplace").json() for _attempt in range(2)] == [{"code": 1}] * 2
    assert client.get("marketplace").json()["code"] == 0
    sim.fault("wallets", "http500")
    answer = client.get("wallets")
    assert (answer.status_code, answer.json()) == (500, {"code": 1})
    assert client.get("wallets").status_code == 200
    sim.fault("*", "http502")
    answer = client.get("my_orders")
    assert answer.status_code == 502 and answer.text == "error code: 502"
    assert client.get("my_orders").status_code == 200


def test_fault_rate_limit_and_delay(sim: SimServer, client: Client) -> None:
    sim.fault("wallets", "rate_limit")
    answer = client.get("wallets")
    # Without Retry-After, as clore-sim's 429s by default (--retry-after none; header: test_ratelimit.py).
    assert answer.status_code == 429 and answer.json() == {"code": 5} and "Retry-After" not in answer.headers
    assert sim.counters()["rate_limited"] == 1
    sim.fault("wallets", "delay", delay=0.8)
    started = time.monotonic()
    assert client.get("wallets").json()["code"] == 0
    assert time.monotonic() - started >= 0.75


def test_fault_at_a_rate(sim: SimServer, client: Client) -> None:
    sim.fault("wallets", "code1", rate=0.5)
    codes = [client.get("wallets").json()["code"] for _attempt in range(60)]
    assert 10 < codes.count(1) < 50 and codes.count(0) > 10
    assert len(sim.admin("GET", "faults")["faults"]) == 1
    sim.reset()
    assert sim.admin("GET", "faults")["faults"] == []


def test_drop_after_commit_creates_the_order_without_answering(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    sim.fault("create_order", "drop_after_commit")
    with pytest.raises(requests.ConnectionError):
        client.post("create_order", {**BODY, "renting_server": server["id"]})
    assert [o["si"] for o in client.orders()] == [server["id"]]
    assert sim.counters()["orders_created"] == 1


def test_code1_after_commit_creates_the_order_and_answers_code_1(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    sim.fault("create_order", "code1_after_commit")
    assert client.post("create_order", {**BODY, "renting_server": server["id"]}).json() == {"code": 1}
    assert [o["si"] for o in client.orders()] == [server["id"]]


def test_fault_code1_before_commit_creates_nothing(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    sim.fault("create_order", "code1")
    assert client.post("create_order", {**BODY, "renting_server": server["id"]}).json() == {"code": 1}
    assert client.orders() == []


def test_configure_live_knobs(sim: SimServer, client: Client) -> None:
    knobs = sim.configure(request_interval=5.0)
    assert knobs["request_interval"] == 5.0
    assert client.get("wallets").status_code == 200
    assert client.get("wallets").status_code == 429
    sim.configure(request_interval=0)
    assert client.get("wallets").status_code == 200
    with pytest.raises(SimError):
        sim.configure(servers=5)
    sim.configure(listing_lag=30)
    client.post("create_order", {**BODY, "renting_server": client.free_server()["id"]})
    assert client.orders() == []
    assert len(sim.orders()) == 1


def test_seed_orders(sim: SimServer, client: Client) -> None:
    ids = sim.seed_orders(sim.api_key, 10)
    assert len(ids) == 10
    orders = client.orders()
    assert sorted(o["id"] for o in orders) == sorted(ids)
    assert all(o["tcp_ports"] and o["mon_container"] == 2 for o in orders)
    assert sim.counters()["orders_created"] == 10
    with pytest.raises(SimError):
        sim.seed_orders(sim.api_key, 1000)


def test_fault_deep_row_and_deep_answer(sim: SimServer, client: Client) -> None:
    """Shapes json.dumps cannot write: a first row nested DEEP_LEVELS deep, or a member `deep` that deep."""
    from clore_sim.faults import DEEP_LEVELS, DEEP_ROW_ID

    client.rent()
    sim.fault("my_orders", "deep_row")
    text = client.get("my_orders").text
    assert text.count("[") >= DEEP_LEVELS and f'"id": {DEEP_ROW_ID}' in text
    assert text.index(str(DEEP_ROW_ID)) < text.index('"si"')  # the deep row comes first, the real one after it
    with pytest.raises(RecursionError):
        json.loads(text)
    assert len(client.get("my_orders").json()["orders"]) == 1  # one shot only
    sim.fault("spot_marketplace", "deep_answer")
    server_id = client.servers()[0]["id"]
    text = client.get("spot_marketplace", params={"market": server_id}).text
    assert '"deep": ' + "[" * DEEP_LEVELS in text and '"code": 0' in text


def test_fault_deep_row_in_the_encoded_marketplace(sim: SimServer, client: Client) -> None:
    from clore_sim.faults import DEEP_LEVELS, DEEP_ROW_ID

    sim.fault("marketplace", "deep_row")
    text = client.get("marketplace").text
    assert text.startswith('{"servers": [{"id": ' + str(DEEP_ROW_ID)) and "[" * DEEP_LEVELS in text
