"""Auth, unknown endpoints and malformed requests: always a JSON answer with the right code, never HTML."""
from __future__ import annotations

import json
import socket

import pytest
import requests
from clore_sim.testing import SimServer

from .helpers import Client


def _raw(sim: SimServer, payload: bytes) -> bytes:
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(payload)
        chunks = []
        while True:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "headers",
    [{}, {"auth": "wrong-key"}, {"Authorization": "Bearer {key}"}, {"auth": ""}],
    ids=["missing", "wrong", "bearer", "empty"],
)
def test_bad_key_is_401_code_3(sim: SimServer, headers: dict) -> None:
    headers = {k: v.format(key=sim.api_key) for k, v in headers.items()}
    for endpoint in ("marketplace", "my_orders", "wallets"):
        answer = requests.get(f"{sim.api_url}/{endpoint}", headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["code"] == 3
    answer = requests.post(f"{sim.api_url}/create_order", headers=headers, json={}, timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (401, 3)


def test_unknown_endpoint_is_code_4(client: Client) -> None:
    for answer in (client.get("no_such_endpoint"), client.post("marketplace", {}), client.get("create_order")):
        assert answer.status_code == 404
        assert answer.json()["code"] == 4
    outside = client.session.get(client.api_url.removesuffix("/v1") + "/v2/marketplace", headers={"auth": client.key})
    assert outside.json()["code"] == 4


def test_bad_json_is_code_2(client: Client) -> None:
    answer = client.session.post(f"{client.api_url}/create_order", data=b"{not json",
                                 headers={"auth": client.key, "Content-Type": "application/json"})
    assert answer.status_code == 200
    assert answer.json()["code"] == 2
    answer = client.session.post(f"{client.api_url}/cancel_order", data=b"\xff\xfe\x00",
                                 headers={"auth": client.key})
    assert answer.json()["code"] == 2


@pytest.mark.parametrize(
    "payload",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/marketplace HTTP/9.9\r\n\r\n",
        b"BREW /v1/marketplace HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/marketplace HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"POST /v1/create_order HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
        b"POST /v1/create_order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /v1/create_order HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
    ],
    ids=["garbage", "bad-version", "unknown-method", "huge-header", "bad-length", "chunked", "too-long"],
)
def test_malformed_requests_get_json_not_html(sim: SimServer, payload: bytes) -> None:
    answer = _raw(sim, payload)
    head, _sep, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1."), answer[:200]
    assert b"<html" not in answer.lower() and b"traceback" not in answer.lower()
    assert json.loads(body)["code"] in (2, 3, 4)


def test_bodies_of_every_wrong_shape_never_crash(client: Client) -> None:
    weird = [None, [], "text", 12, {"renting_server": None}, {"id": "1"}, {"order_id": [1]}, {"server_name": 3}]
    for endpoint in ("create_order", "cancel_order", "set_spot_price", "set_server_settings"):
        for body in weird:
            answer = client.post(endpoint, body)
            assert answer.status_code == 200, (endpoint, body, answer.text)
            assert answer.json()["code"] == 2, (endpoint, body, answer.text)
    for body in weird:
        answer = client.session.get(f"{client.api_url}/server_config", data=json.dumps(body),
                                    headers={"auth": client.key})
        assert answer.json()["code"] in (2, 6), answer.text
