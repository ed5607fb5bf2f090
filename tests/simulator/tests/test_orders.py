"""create_order, my_orders, cancel_order: shapes, validation, code-6 reasons, money, lifecycle, key isolation."""
from __future__ import annotations

import time

import pytest
import requests
from clore_sim.testing import SimServer

from .helpers import Client

BASE = {"type": "on-demand", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}


def test_create_answers_code_0_only_and_order_has_documented_shape(client: Client, ssh_keypair) -> None:
    server = client.free_server()
    answer = client.post("create_order", {**BASE, "renting_server": server["id"], "ports": {"22": "tcp", "8888": "http"},
                                          "ssh_key": ssh_keypair[1], "env": {"A": "1"}, "jupyter_token": "tok"})
    assert answer.json() == {"code": 0}
    (order,) = client.orders()
    assert order["si"] == server["id"]
    assert order["image"] == BASE["image"] and order["currency"] == "CLORE-Blockchain"
    assert order["price"] == server["price"]["on_demand"]["CLORE-Blockchain"]
    assert order["spot"] is False and order["expired"] is False
    assert abs(order["ct"] - time.time()) < 5 and order["mrl"] == server["mrl"]  # hours, as the real API sends
    assert order["specs"] == server["specs"]
    assert order["pub_cluster"] == ["127.0.0.1"]
    assert len(order["tcp_ports"]) == 1 and order["tcp_ports"][0].startswith("22:")
    assert order["http_port"] == "8888" and order["http_pub"]
    assert order["mon_container"] == 2 and order["online"] is True
    assert order["creation_fee"] > 0 and order["spend"] >= 0
    for secret in ("ssh_key", "ssh_password", "jupyter_token", "env"):
        assert secret not in order


MALFORMED = [
    {"renting_server": "10"}, {"renting_server": True}, {"renting_server": None},
    {"type": "ondemand"}, {"type": None}, {"currency": "dogecoin"}, {"currency": None},
    {"image": ""}, {"image": 5}, {"image": None},
    {"type": "spot"}, {"type": "spot", "spotprice": "1"}, {"type": "spot", "spotprice": -1},
    {"ports": ["22"]}, {"ports": {"22": "udp"}}, {"ports": {"0": "tcp"}}, {"ports": {"70000": "tcp"}},
    {"ports": {"ssh": "tcp"}}, {"ports": {"80": "http", "8888": "http"}},
    {"env": ["A=1"]}, {"env": {"A": 1}}, {"env": {"K" * 129: "v"}}, {"env": {"A": "v" * 1537}},
    {"env": {f"K{i}": "v" * 1500 for i in range(9)}},
    {"ssh_password": "has space"}, {"ssh_password": "p@ss"}, {"ssh_password": "a" * 33}, {"ssh_password": 1234},
    {"ssh_key": "k" * 3073}, {"jupyter_token": "t" * 33}, {"command": ["ls"]},
    {"required_price": "1"}, {"autossh_entrypoint": "yes"},
]


def test_malformed_create_is_code_2_and_rents_nothing(client: Client) -> None:
    server_id = client.free_server()["id"]
    for change in MALFORMED:
        body = {**BASE, "renting_server": server_id, **change}
        body = {k: v for k, v in body.items() if v is not None}
        answer = client.post("create_order", body).json()
        assert answer["code"] == 2, (change, answer)
        assert answer["error"]
    assert client.orders(completed=True) == []


def test_missing_fields_are_code_2(client: Client) -> None:
    server_id = client.free_server()["id"]
    full = {**BASE, "renting_server": server_id}
    for field in full:
        body = {k: v for k, v in full.items() if k != field}
        assert client.post("create_order", body).json()["code"] == 2, field
    assert client.post("create_order", {**full, "renting_server": 1}).json()["code"] == 2  # no such server


def test_code_6_reasons_of_create(sim: SimServer, client: Client) -> None:
    servers = client.servers()
    rented = next(s for s in servers if s["rented"])
    offline = next(s for s in servers if s["id"] in sim.offline())
    clore_only = next(s for s in servers if s["allowed_coins"] == ["CLORE-Blockchain"] and not s["rented"]
                      and s["id"] not in sim.offline())

    def create(server: dict, **fields) -> dict:
        return client.post("create_order", {**BASE, "renting_server": server["id"], **fields}).json()

    assert create(rented) == {"code": 6, "error": "server-already-rented"}
    assert create(offline) == {"code": 6, "error": "server-offline"}
    assert create(clore_only, currency="bitcoin") == {"code": 6, "error": "currency-not-allowed"}
    minimum = clore_only["price"]["spot"]["CLORE-Blockchain"]
    assert create(clore_only, type="spot", spotprice=minimum * 0.9) == {"code": 6, "error": "too_low_price", "min_price": minimum}
    poor = "poor-key"
    sim.add_account(poor, {"CLORE-Blockchain": 1.0, "bitcoin": 0.0, "USD-Blockchain": 0.0})
    answer = client.post("create_order", {**BASE, "renting_server": clore_only["id"]}, key=poor).json()
    assert answer == {"code": 6, "error": "not_enough_balance"}
    price = clore_only["price"]["on_demand"]["CLORE-Blockchain"]
    assert create(clore_only, required_price=price * 2)["error"] == "price-changed"
    assert client.orders(completed=True) == []
    assert create(clore_only, required_price=price) == {"code": 0}
    assert create(clore_only) == {"code": 6, "error": "server-already-rented"}


def test_rent_elsewhere_and_set_online(sim: SimServer, client: Client) -> None:
    first, second = client.free_server(), client.free_server(skip=1)
    sim.rent_elsewhere(first["id"])
    sim.set_online(second["id"], False)
    assert client.post("create_order", {**BASE, "renting_server": first["id"]}).json()["error"] == "server-already-rented"
    assert client.post("create_order", {**BASE, "renting_server": second["id"]}).json()["error"] == "server-offline"
    sim.release_elsewhere(first["id"])
    sim.set_online(second["id"], True)
    client.rent(first)
    client.rent(second)


def test_money_spend_grows_and_balance_is_charged(sim: SimServer, client: Client) -> None:
    def balance() -> float:
        wallets = client.get("wallets").json()["wallets"]
        return next(w["balance"] for w in wallets if w["name"] == "CLORE-Blockchain")

    before = balance()
    order = client.rent()
    after_create = balance()
    assert after_create == pytest.approx(before - order["creation_fee"] - order["spend"], rel=1e-6)
    sim.advance_clock(3600)
    (order_later,) = client.orders()
    assert order_later["spend"] == pytest.approx(order["price"] / 24, rel=0.01)
    assert balance() == pytest.approx(before - order["creation_fee"] - order_later["spend"], rel=1e-6)


def test_order_ends_at_its_rental_length(sim: SimServer, client: Client) -> None:
    order = client.rent()
    sim.advance_clock(order["mrl"] * 3600 + 10)
    assert client.orders() == []
    (ended,) = client.orders(completed=True)
    assert ended["expired"] is True
    assert ended["spend"] == pytest.approx(order["price"] * order["mrl"] / 24, rel=0.001)


@pytest.mark.parametrize(("unit", "factor"), [("hours", 1), ("seconds", 3600)])
def test_order_mrl_unit_chooses_how_my_orders_sends_the_rental_length(tmp_path, unit, factor) -> None:
    with SimServer(tmp_path / "s", order_mrl_unit=unit) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        server = client.free_server()
        order = client.rent(server)
        assert order["mrl"] == server["mrl"] * factor
        sim.advance_clock(server["mrl"] * 3600 - 60)  # the order runs its whole length, whatever the unit
        assert [o["id"] for o in client.orders()] == [order["id"]]
        sim.advance_clock(120)
        assert client.orders() == []


def test_order_ends_when_money_runs_out(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    price = server["price"]["on_demand"]["CLORE-Blockchain"]
    sim.add_account("thin", {"CLORE-Blockchain": price * 0.5})  # half a day
    client.rent(server, key="thin")
    sim.advance_clock(86400 * 0.6)
    assert client.orders(key="thin") == []
    assert client.orders(key="thin", completed=True)[0]["expired"] is True


def test_cancel_lifecycle_and_issue(client: Client) -> None:
    order = client.rent()
    answer = client.post("cancel_order", {"id": order["id"], "issue": "GPU fell off the bus"})
    assert answer.json() == {"code": 0}
    assert client.orders() == []
    (ended,) = client.orders(completed=True)
    assert ended["id"] == order["id"] and ended["expired"] is True
    assert ended["pub_cluster"] == [] and ended["tcp_ports"] == []
    assert client.post("cancel_order", {"id": order["id"]}).json() == {"code": 0}  # already ended: nothing to do
    assert client.post("cancel_order", {"id": 1}).json() == {"code": 6, "error": "order-not-found"}
    assert client.post("cancel_order", {"id": order["id"], "issue": "x" * 2049}).json()["code"] == 2


def test_listing_lag_and_provisioning_delay(tmp_path, ssh_keypair) -> None:
    import requests
    with SimServer(tmp_path / "s", listing_lag=1.0, provisioning_delay=2.5) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        server = client.free_server()
        created = time.monotonic()
        body = {**BASE, "renting_server": server["id"], "ports": {"22": "tcp"}, "ssh_key": ssh_keypair[1]}
        assert client.post("create_order", body).json() == {"code": 0}
        assert client.orders() == []
        seen = []
        while time.monotonic() - created < 6:
            orders = client.orders()
            if orders:
                seen.append((time.monotonic() - created, orders[0]["mon_container"], orders[0]["pub_cluster"],
                             orders[0]["tcp_ports"]))
            time.sleep(0.1)
        first_listed = seen[0][0]
        assert first_listed >= 0.9
        deploying = [s for s in seen if s[1] == 0]
        running = [s for s in seen if s[1] == 2]
        assert deploying and running
        assert all(s[2] == [] and s[3] == [] for s in deploying)
        assert all(s[2] == ["127.0.0.1"] and s[3] for s in running)
        assert running[0][0] >= 2.4


def test_keys_are_separate_accounts(sim: SimServer, client: Client) -> None:
    sim.add_account("key-b")
    order_a = client.rent()
    server_b = client.free_server(skip=0)
    order_b = client.rent(server_b, key="key-b")
    assert [o["id"] for o in client.orders()] == [order_a["id"]]
    assert [o["id"] for o in client.orders(key="key-b")] == [order_b["id"]]
    assert client.post("cancel_order", {"id": order_b["id"]}).json() == {"code": 6, "error": "order-not-found"}
    assert client.orders(key="key-b")[0]["expired"] is False
    assert client.post("set_spot_price", {"order_id": order_b["id"], "desired_price": 1.0}).json()["code"] == 6
    wallets_a = client.get("wallets").json()["wallets"]
    wallets_b = client.get("wallets", key="key-b").json()["wallets"]
    assert wallets_a != wallets_b
