"""Spot orders and prices, and wallets (the host side is in test_hosts.py)."""
from __future__ import annotations

import pytest
from clore_sim.testing import SimServer

from .helpers import Client

SPOT = {"type": "spot", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}


def _rent_spot(client: Client, factor: float = 1.5) -> tuple[dict, dict]:
    server = client.free_server()
    bid = round(server["price"]["spot"]["CLORE-Blockchain"] * factor, 4)
    assert client.post("create_order", {**SPOT, "renting_server": server["id"], "spotprice": bid}).json() == {"code": 0}
    (order,) = client.orders()
    return server, order


def test_spot_order_and_spot_marketplace(client: Client) -> None:
    server, order = _rent_spot(client)
    assert order["spot"] is True and order["price"] == pytest.approx(server["price"]["spot"]["CLORE-Blockchain"] * 1.5,
                                                                     rel=1e-3)
    answer = client.get("spot_marketplace", params={"market": server["id"]}).json()
    assert answer["code"] == 0 and answer["exists"] is True
    market = answer["market"]
    assert market["offers"] == [{"offer_id": order["id"], "bid": order["price"], "active": True, "my": True,
                                 "currency": "CLORE-Blockchain"}]
    assert market["server"]["min_pricing"] == server["price"]["spot"]
    assert market["server"]["mrl"] == server["mrl"] and market["server"]["online"] is True
    assert set(market["currency_rates_in_usd"]) == {"bitcoin", "CLORE-Blockchain", "USD-Blockchain"}
    assert client.get("spot_marketplace", params={"market": 1}).json() == {"market": {}, "exists": False, "code": 0}
    assert client.get("spot_marketplace").json()["code"] == 2


def test_set_spot_price_rules(sim: SimServer, client: Client) -> None:
    server, order = _rent_spot(client, factor=1.5)
    minimum = server["price"]["spot"]["CLORE-Blockchain"]
    price = order["price"]

    def set_price(value) -> dict:
        return client.post("set_spot_price", {"order_id": order["id"], "desired_price": value}).json()

    assert set_price(price * 2) == {"code": 0}  # raising is free
    price *= 2
    too_far = set_price(price * 0.5)
    assert too_far["code"] == 6 and too_far["error"] == "exceeded_max_step"
    assert too_far["max_step"] == pytest.approx(price * 0.1)
    assert set_price(price * 0.95) == {"code": 0}
    again = set_price(price * 0.9)
    assert again["code"] == 6 and again["error"] == "can_lower_every_600_seconds"
    assert 590 <= again["time_to_lowering"] <= 600
    sim.advance_clock(601)
    assert set_price(price * 0.95 * 0.95) == {"code": 0}
    assert client.orders()[0]["price"] == pytest.approx(price * 0.95 * 0.95)
    sim.configure(spot_lower_window=0, spot_max_step=1.0)
    assert set_price(minimum * 0.5) == {"code": 6, "error": "too_low_price", "min_price": minimum}
    assert set_price("10")["code"] == 2
    assert client.post("set_spot_price", {"desired_price": 1.0}).json()["code"] == 2


def test_set_spot_price_on_demand_order_is_refused(client: Client) -> None:
    order = client.rent()
    answer = client.post("set_spot_price", {"order_id": order["id"], "desired_price": 1.0}).json()
    assert answer == {"code": 6, "error": "not-a-spot-order"}


def test_outbid_spot_order_expires(sim: SimServer, client: Client) -> None:
    server, order = _rent_spot(client)
    sim.outbid(order["id"])
    assert client.orders() == []
    assert client.orders(completed=True)[0]["expired"] is True
    offers = client.get("spot_marketplace", params={"market": server["id"]}).json()["market"]["offers"]
    assert offers and all(not o["my"] for o in offers)
    assert next(s for s in client.servers() if s["id"] == server["id"])["rented"] is True


def test_wallets(client: Client) -> None:
    answer = client.get("wallets").json()
    assert answer["code"] == 0
    wallets = {w["name"]: w for w in answer["wallets"]}
    assert set(wallets) == {"bitcoin", "CLORE-Blockchain", "USD-Blockchain"}
    for wallet in wallets.values():
        assert wallet["balance"] > 0 and wallet["deposit"] and wallet["withdrawal_fee"] >= 0


def test_accounts_with_own_balances(tmp_path) -> None:
    import requests
    accounts = {"rich": {"bitcoin": 3.0}, "other": {"USD-Blockchain": 7.5}}
    with SimServer(tmp_path / "s", accounts=accounts) as sim:
        assert sim.api_key == "rich" and sim.keys == ["rich", "other"]
        wallets = requests.get(f"{sim.api_url}/wallets", headers={"auth": "other"}, timeout=10).json()["wallets"]
    assert next(w for w in wallets if w["name"] == "USD-Blockchain")["balance"] == 7.5
