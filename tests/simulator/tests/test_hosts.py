"""The host side: my_servers and server_config shaped like the real rows, set_server_settings in both forms with its
refusals, and a hosted server offered on the market, rented by another key and seen rented by its owner."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from clore_sim.market import USD_RATES
from clore_sim.testing import SimServer

from .helpers import Client

REAL_ROWS = Path(__file__).resolve().parents[2] / "unit" / "fixtures" / "real_my_servers.json"
RENTER = "sim-test-renter-key"


def my_servers(client: Client, key: str | None = None) -> list[dict]:
    answer = client.get("my_servers", key=key).json()
    assert answer["code"] == 0, answer
    return answer["servers"]


def config(client: Client, name: str, key: str | None = None) -> dict:
    return client.session.get(f"{client.api_url}/server_config", data=json.dumps({"server_name": name}),
                              headers={"auth": key or client.key, "Content-Type": "application/json"},
                              timeout=30).json()


def settings(client: Client, body: dict) -> dict:
    """POST set_server_settings; the body is encoded here so that NaN can be sent as a real client might."""
    return client.session.post(f"{client.api_url}/set_server_settings", data=json.dumps(body),
                               headers={"auth": client.key, "Content-Type": "application/json"}, timeout=30).json()


def test_my_servers_rows_have_the_fields_of_the_real_rows(client: Client) -> None:
    real = json.loads(REAL_ROWS.read_text())["servers"]
    free_real = next(row for row in real if "rented" not in row)
    rows = my_servers(client)
    assert len(rows) == 2
    for row in rows:
        assert set(row) == set(free_real), set(row) ^ set(free_real)
        assert set(free_real["specs"]) <= set(row["specs"])
        assert set(free_real["specs"]["net"]) <= set(row["specs"]["net"])
        assert isinstance(row["oc_gpus"], str) and json.loads(row["oc_gpus"])[0]["name"]
        assert row["visibility"] == "hidden" and row["autoprice"] == "usd"
        assert set(row["pricing"]) == set(row["min_spot_pricing"]) == {"CLORE-Blockchain", "bitcoin"}
        for coin, price in row["pricing"].items():  # autoprice: the coin prices follow the USD price
            assert price * USD_RATES[coin] == pytest.approx(row["usd_pricing"]["on_demand"], rel=1e-3)
        assert row["gpu_count"] == len(row["gpu_array"]) == 1
    assert my_servers(client) == rows  # the same answer twice


def test_server_config_shape_and_refusals(client: Client) -> None:
    name = my_servers(client)[0]["name"]
    answer = config(client, name)
    assert answer["code"] == 0
    cfg = answer["config"]
    assert cfg["name"] == name and cfg["rental_status"] == 0 and cfg["mrl"] == 240
    assert {"id", "connected", "visibility", "pricing", "spot_pricing", "mrl", "online", "specs", "allowed_coins",
            "autoprice", "usd_pricing"} <= set(cfg)
    assert client.get("server_config", params={"server_name": name}).json()["config"] == cfg
    assert config(client, "nope") == {"code": 6, "error": "server-not-found"}
    assert client.get("server_config").json()["code"] == 2


def test_per_currency_form_is_applied(client: Client) -> None:
    name = my_servers(client)[0]["name"]
    body = {"name": name, "availability": True, "mrl": 96, "bitcoin_on_demand": 0.0001, "bitcoin_spot": 0.00005,
            "CLORE-Blockchain_on_demand": 300.0, "CLORE-Blockchain_spot": 150.0, "USD-Blockchain_on_demand": 6.5,
            "USD-Blockchain_spot": 3.25, "enabled-bitcoin": False, "enabled-CLORE-Blockchain": True,
            "enabled-USD-Blockchain": True, "autoprice": False, "usd_pricing": {"on_demand": 7.0, "spot": 3.5}}
    assert settings(client, body) == {"code": 0}
    cfg = config(client, name)["config"]
    assert cfg["visibility"] == "public" and cfg["mrl"] == 96 and cfg["autoprice"] is False
    assert cfg["allowed_coins"] == ["CLORE-Blockchain", "USD-Blockchain"]
    assert cfg["pricing"] == {"bitcoin": 0.0001, "CLORE-Blockchain": 300.0, "USD-Blockchain": 6.5}
    assert cfg["spot_pricing"] == {"bitcoin": 0.00005, "CLORE-Blockchain": 150.0, "USD-Blockchain": 3.25}
    assert cfg["usd_pricing"] == {"on_demand": 7.0, "spot": 3.5}
    (row,) = [r for r in my_servers(client) if r["name"] == name]
    assert row["pricing"] == cfg["pricing"] and row["min_spot_pricing"] == cfg["spot_pricing"]

    # autoprice back on: the coin prices follow the new USD prices
    assert settings(client, {"name": name, "autoprice": "usd", "usd_pricing": {"on_demand": 8.0, "spot": 4.0}}) == {
        "code": 0}
    cfg = config(client, name)["config"]
    assert cfg["pricing"] == {"bitcoin": 0.0001, "CLORE-Blockchain": 320.0, "USD-Blockchain": 8.0}
    assert cfg["spot_pricing"]["USD-Blockchain"] == 4.0 and cfg["mrl"] == 96  # what was not sent is kept


def test_older_form_is_applied_and_keeps_the_other_coins(client: Client) -> None:
    name = my_servers(client)[1]["name"]
    assert settings(client, {"name": name, "autoprice": False}) == {"code": 0}
    before = config(client, name)["config"]
    assert settings(client, {"name": name, "availability": True, "mrl": 72, "on_demand": 2500.0,
                             "spot": 1200.0}) == {"code": 0}
    cfg = config(client, name)["config"]
    assert cfg["visibility"] == "public" and cfg["mrl"] == 72
    assert cfg["pricing"] == {**before["pricing"], "CLORE-Blockchain": 2500.0}
    assert cfg["spot_pricing"] == {**before["spot_pricing"], "CLORE-Blockchain": 1200.0}
    assert settings(client, {"name": name, "on_demand": {"bitcoin": 0.0002}}) == {"code": 0}
    assert config(client, name)["config"]["pricing"]["bitcoin"] == 0.0002


@pytest.mark.parametrize("change", [
    {"mrl": 5}, {"mrl": 3001}, {"mrl": "long"}, {"mrl": 24.5}, {"availability": "yes"},
    {"CLORE-Blockchain_on_demand": 0}, {"bitcoin_spot": -1.0}, {"CLORE-Blockchain_on_demand": math.nan},
    {"CLORE-Blockchain_on_demand": "300"}, {"doge_on_demand": 1.0}, {"on_demand": {"doge": 1}}, {"on_demand": 0},
    {"on_demand": 10.0, "bitcoin_on_demand": 0.1}, {"autoprice": "yes"}, {"usd_pricing": {"on_demand": -2}},
    {"usd_pricing": 5}, {"enabled-bitcoin": "true"},
    {"enabled-bitcoin": False, "enabled-CLORE-Blockchain": False},
    {"autoprice": False, "enabled-USD-Blockchain": True},  # a coin enabled without a price in it
])
def test_bad_settings_are_refused_and_nothing_changes(client: Client, change: dict) -> None:
    name = my_servers(client)[0]["name"]
    before = config(client, name)["config"]
    answer = settings(client, {"name": name, "availability": True, **change})
    assert answer["code"] == 2 and answer["error"], answer
    assert config(client, name)["config"] == before


def test_unknown_server_and_missing_name(client: Client) -> None:
    assert settings(client, {"name": "nope", "mrl": 24}) == {"code": 6, "error": "server-not-found"}
    assert settings(client, {"mrl": 24})["code"] == 2
    assert client.post("set_server_settings", [1]).json()["code"] == 2


def test_available_server_is_rented_by_another_key_and_its_owner_sees_it(sim: SimServer, client: Client) -> None:
    sim.add_account(RENTER)
    host = my_servers(client)[0]
    assert host["id"] not in [s["id"] for s in client.servers()]  # hidden: not on the market
    hidden = client.post("create_order", {"renting_server": host["id"], "type": "on-demand",
                                          "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"},
                         key=RENTER).json()
    assert hidden["code"] == 2

    assert settings(client, {"name": host["name"], "availability": True, "mrl": 48, "autoprice": False,
                             "CLORE-Blockchain_on_demand": 321.0, "CLORE-Blockchain_spot": 111.0}) == {"code": 0}
    listed = next(s for s in client.servers() if s["id"] == host["id"])
    assert listed["price"]["on_demand"]["CLORE-Blockchain"] == 321.0
    assert listed["price"]["spot"]["CLORE-Blockchain"] == 111.0
    assert listed["price"]["usd"]["on_demand_clore"] == pytest.approx(321.0 * USD_RATES["CLORE-Blockchain"])
    assert listed["mrl"] == 48 and listed["rented"] is False and listed["specs"] == host["specs"]
    assert client.get("marketplace").json()["my_servers"] == [host["id"]]
    assert client.get("marketplace", key=RENTER).json()["my_servers"] == []

    own = client.post("create_order", {"renting_server": host["id"], "type": "on-demand",
                                       "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}).json()
    assert own == {"code": 6, "error": "cannot-rent-own-server"}
    assert client.orders() == []

    order = client.rent(listed, key=RENTER)
    assert order["price"] == 321.0 and order["specs"] == host["specs"]
    (row,) = [r for r in my_servers(client) if r["name"] == host["name"]]
    assert row["rented"] is True
    assert row["remaining_time"] == pytest.approx((order["ct"] + 48 * 3600) * 1000, abs=2000)
    assert row["remaining_time"] > time.time() * 1000
    assert config(client, host["name"])["config"]["rental_status"] == 2
    assert next(s for s in client.servers() if s["id"] == host["id"])["rented"] is True

    assert client.post("cancel_order", {"id": order["id"]}, key=RENTER).json() == {"code": 0}
    (row,) = [r for r in my_servers(client) if r["name"] == host["name"]]
    assert "rented" not in row and "remaining_time" not in row
    assert config(client, host["name"])["config"]["rental_status"] == 0


def test_settings_survive_a_restart(sim: SimServer, client: Client) -> None:
    name = my_servers(client)[0]["name"]
    assert settings(client, {"name": name, "availability": True, "mrl": 120}) == {"code": 0}
    before = my_servers(client)
    sim.restart()
    client.api_url = sim.api_url
    assert my_servers(client) == before
    assert before[0]["id"] in [s["id"] for s in client.servers()]
