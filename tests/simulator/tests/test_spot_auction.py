"""Spot as an auction: bids of several accounts on one server, the highest (in USD) runs, outbid orders end, lower
bids wait or are refused, on-demand against spot, rivals and bid wars, host prices and a moving market."""
from __future__ import annotations

import time

import pytest
from clore_sim.ssh import wait_banner
from clore_sim.testing import SimError, SimServer

from .helpers import Client, alive, ssh_port, sshd_pid, wait_gone, wait_ssh

CLORE = "CLORE-Blockchain"
IMAGE = "cloreai/ubuntu22.04-jupyter"
KEY_B = "bidder-b"
KEY_C = "bidder-c"


def _bid(client: Client, server: dict, price: float, key: str | None = None, currency: str = CLORE,
         **fields) -> dict:
    body = {"renting_server": server["id"], "type": "spot", "currency": currency, "image": IMAGE,
            "spotprice": price, **fields}
    return client.post("create_order", body, key=key).json()


def _on_demand(client: Client, server: dict, key: str | None = None) -> dict:
    body = {"renting_server": server["id"], "type": "on-demand", "currency": CLORE, "image": IMAGE}
    return client.post("create_order", body, key=key).json()


def _order(client: Client, server: dict, key: str | None = None) -> dict:
    """The key's latest order on the server, ended or not."""
    return max((o for o in client.orders(completed=True, key=key) if o["si"] == server["id"]), key=lambda o: o["id"])


def _offers(client: Client, server: dict, key: str | None = None) -> list[dict]:
    answer = client.get("spot_marketplace", key=key, params={"market": server["id"]}).json()
    assert answer["code"] == 0, answer
    return answer["market"]["offers"]


def _minimum(server: dict, currency: str = CLORE) -> float:
    return server["price"]["spot"][currency]


def _row(client: Client, server: dict) -> dict:
    return next(s for s in client.servers() if s["id"] == server["id"])


@pytest.fixture
def bidders(sim: SimServer) -> tuple[str, str]:
    sim.add_account(KEY_B)
    sim.add_account(KEY_C)
    return KEY_B, KEY_C


def test_a_higher_bid_of_another_key_ends_the_running_order(sim: SimServer, client: Client, bidders) -> None:
    server = client.free_server()
    low = _minimum(server) * 1.1
    assert _bid(client, server, low) == {"code": 0}
    mine = _order(client, server)
    assert _offers(client, server) == [{"offer_id": mine["id"], "bid": low, "active": True, "my": True,
                                        "currency": CLORE}]
    assert _bid(client, server, low * 1.5, key=KEY_B) == {"code": 0}
    theirs = _order(client, server, key=KEY_B)
    assert [o["id"] for o in client.orders()] == []  # no longer among my running orders
    ended = _order(client, server)
    assert ended["id"] == mine["id"] and ended["expired"] is True
    assert ended["pub_cluster"] == [] and ended["tcp_ports"] == []
    assert theirs["expired"] is False and theirs["pub_cluster"] == ["127.0.0.1"]
    assert _offers(client, server) == [{"offer_id": theirs["id"], "bid": low * 1.5, "active": True, "my": False,
                                        "currency": CLORE}]
    assert _offers(client, server, key=KEY_B)[0]["my"] is True
    row = _row(client, server)
    assert row["rented"] is True and row["price"]["spot"] == server["price"]["spot"]
    assert sim.counters()["orders_outbid"] == 1


def test_bids_in_different_currencies_compare_in_usd(client: Client, bidders) -> None:
    server = next(s for s in client.servers() if not s["rented"] and s.get("online", True)
                  and {"bitcoin", CLORE} <= set(s["allowed_coins"]))
    rates = client.get("spot_marketplace", params={"market": server["id"]}).json()["market"]["currency_rates_in_usd"]
    btc_bid = round(max(_minimum(server, "bitcoin"), _minimum(server) * rates[CLORE] / rates["bitcoin"]) * 1.2, 8)
    assert _bid(client, server, btc_bid, currency="bitcoin") == {"code": 0}
    btc_in_clore = btc_bid * rates["bitcoin"] / rates[CLORE]
    # A far larger number, yet below in USD: it waits.
    assert _bid(client, server, round(btc_in_clore * 0.99, 4), key=KEY_B) == {"code": 0}
    assert _order(client, server, key=KEY_B)["expired"] is False
    assert [(o["currency"], o["active"]) for o in _offers(client, server)] == [("bitcoin", True), (CLORE, False)]
    # Above in USD: it wins.
    assert _bid(client, server, round(btc_in_clore * 1.05, 4), key=KEY_C) == {"code": 0}
    assert _order(client, server)["expired"] is True
    offers = _offers(client, server, key=KEY_C)
    assert [(o["currency"], o["active"], o["my"]) for o in offers] == [(CLORE, True, True), (CLORE, False, False)]


def test_a_low_bid_waits_without_endpoint_or_charge_and_runs_when_the_bids_above_end(
        sim: SimServer, client: Client, bidders) -> None:
    server = client.free_server()
    high = _minimum(server) * 1.5
    assert _bid(client, server, high, key=KEY_B) == {"code": 0}
    assert _bid(client, server, high, ports={"22": "tcp"}) == {"code": 0}  # equal is not above: it waits
    waiting = _order(client, server)
    assert waiting["expired"] is False and waiting["spot"] is True and waiting["price"] == high
    assert waiting["pub_cluster"] == [] and waiting["tcp_ports"] == [] and waiting["mon_container"] == 0
    assert [o["id"] for o in client.orders()] == [waiting["id"]]
    offers = {o["offer_id"]: o for o in _offers(client, server)}
    assert offers[waiting["id"]]["active"] is False and offers[waiting["id"]]["my"] is True
    assert sum(o["active"] for o in offers.values()) == 1
    sim.advance_clock(3600)
    assert _order(client, server)["spend"] == 0  # a bid that does not run costs nothing
    assert _order(client, server, key=KEY_B)["spend"] > 0

    top = _order(client, server, key=KEY_B)
    assert client.post("cancel_order", {"id": top["id"]}, key=KEY_B).json() == {"code": 0}
    running = _order(client, server)
    assert running["id"] == waiting["id"] and running["pub_cluster"] == ["127.0.0.1"]
    assert running["tcp_ports"] and running["mon_container"] == 2
    assert _offers(client, server) == [{"offer_id": waiting["id"], "bid": high, "active": True, "my": True,
                                        "currency": CLORE}]
    assert sim.counters()["orders_outbid"] == 0
    sim.advance_clock(3600)
    assert _order(client, server)["spend"] == pytest.approx(high / 24, rel=0.01)


def test_the_highest_waiting_bid_runs_next_and_of_equal_bids_the_earliest(client: Client, bidders) -> None:
    server = client.free_server()
    base = _minimum(server) * 1.1
    assert _bid(client, server, base * 2, key=KEY_B) == {"code": 0}
    assert _bid(client, server, base) == {"code": 0}
    assert _bid(client, server, base * 1.5, key=KEY_C) == {"code": 0}
    assert _bid(client, server, base * 1.5) == {"code": 0}
    first_at_15 = _order(client, server, key=KEY_C)
    assert client.post("cancel_order", {"id": _order(client, server, key=KEY_B)["id"]}, key=KEY_B).json()["code"] == 0
    offers = _offers(client, server, key=KEY_C)
    assert [(o["bid"], o["active"]) for o in offers] == [(base * 1.5, True), (base * 1.5, False), (base, False)]
    assert offers[0]["offer_id"] == first_at_15["id"] and offers[0]["my"] is True


def test_low_bid_refused_mode(tmp_path) -> None:
    import requests
    with SimServer(tmp_path / "s", accounts={"a": {}, "b": {}}, extra_args=["--spot-low-bid", "refuse"]) as sim:
        client = Client(sim.api_url, "a", requests.Session())
        server = client.free_server()
        high = _minimum(server) * 1.5
        assert _bid(client, server, high, key="b") == {"code": 0}
        assert _bid(client, server, high) == {"code": 6, "error": "server-already-rented"}
        assert _bid(client, server, high * 0.9) == {"code": 6, "error": "server-already-rented"}
        assert _bid(client, server, _minimum(server) * 0.5)["error"] == "too_low_price"  # price is checked first
        assert client.orders(completed=True) == []
        assert _bid(client, server, high * 1.01) == {"code": 0}
        assert _order(client, server, key="b")["expired"] is True
        assert sim.configure(spot_low_bid="queue")["spot_low_bid"] == "queue"  # the switch is live too
        assert _bid(client, server, high, key="b") == {"code": 0}
        assert _order(client, server, key="b")["pub_cluster"] == []


def test_outbid_grace_keeps_the_outbid_order_running_until_it_ends(sim: SimServer, client: Client, bidders) -> None:
    sim.configure(spot_outbid_grace=300)
    server = client.free_server()
    low = _minimum(server) * 1.1
    assert _bid(client, server, low, ports={"22": "tcp"}) == {"code": 0}
    mine = _order(client, server)
    assert _bid(client, server, low * 2, key=KEY_B, ports={"22": "tcp"}) == {"code": 0}
    still = _order(client, server)
    assert still["expired"] is False and still["tcp_ports"] == mine["tcp_ports"]
    theirs = _order(client, server, key=KEY_B)
    assert theirs["tcp_ports"] == [] and theirs["mon_container"] == 0  # its machine comes when mine is gone
    assert [(o["my"], o["active"]) for o in _offers(client, server)] == [(False, True), (True, False)]
    assert sim.counters()["orders_outbid"] == 0
    sim.advance_clock(301)
    assert _order(client, server)["expired"] is True
    assert _order(client, server, key=KEY_B)["tcp_ports"] and _order(client, server, key=KEY_B)["mon_container"] == 2
    assert sim.counters()["orders_outbid"] == 1


def test_on_demand_is_refused_on_a_spot_rented_server_unless_it_preempts(
        sim: SimServer, client: Client, bidders) -> None:
    server = client.free_server()
    bid = _minimum(server) * 1.2
    assert _bid(client, server, bid) == {"code": 0}
    assert _bid(client, server, bid, key=KEY_C) == {"code": 0}  # waits below
    assert _on_demand(client, server, key=KEY_B) == {"code": 6, "error": "server-already-rented"}
    with pytest.raises(SimError, match="on_demand_preempts_spot"):
        sim.rent_elsewhere(server["id"])
    assert sim.configure(on_demand_preempts_spot=True)["on_demand_preempts_spot"] is True
    assert _on_demand(client, server, key=KEY_B) == {"code": 0}
    assert _order(client, server)["expired"] is True
    assert sim.counters()["orders_outbid"] == 1
    assert _order(client, server, key=KEY_B)["pub_cluster"] == ["127.0.0.1"]
    # Spot bids are refused under an on-demand rental; the one waiting waits on.
    assert _bid(client, server, bid * 10) == {"code": 6, "error": "server-already-rented"}
    waiting = _order(client, server, key=KEY_C)
    assert waiting["expired"] is False and waiting["pub_cluster"] == []
    assert [o["active"] for o in _offers(client, server)] == [False]
    assert client.post("cancel_order", {"id": _order(client, server, key=KEY_B)["id"]}, key=KEY_B).json()["code"] == 0
    assert _order(client, server, key=KEY_C)["pub_cluster"] == ["127.0.0.1"]


def test_rent_elsewhere_preempts_spot_when_the_switch_is_on(tmp_path) -> None:
    import requests
    with SimServer(tmp_path / "s", extra_args=["--on-demand-preempts-spot"]) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        server = client.free_server()
        assert _bid(client, server, _minimum(server) * 1.2) == {"code": 0}
        sim.rent_elsewhere(server["id"])
        assert _order(client, server)["expired"] is True
        assert _offers(client, server) == [] and _row(client, server)["rented"] is True
        assert sim.counters()["orders_outbid"] == 1


def test_set_spot_price_raise_takes_the_server_and_a_lowered_bid_can_lose_it(sim: SimServer, client: Client,
                                                                             bidders) -> None:
    server = client.free_server()
    base = _minimum(server) * 1.2
    assert _bid(client, server, base * 1.2, key=KEY_B) == {"code": 0}
    assert _bid(client, server, base) == {"code": 0}
    mine = _order(client, server)

    def set_price(order: dict, price: float, key: str | None = None) -> dict:
        return client.post("set_spot_price", {"order_id": order["id"], "desired_price": price}, key=key).json()

    assert set_price(mine, base * 1.1) == {"code": 0}  # raised, still not above: waits
    assert _order(client, server)["pub_cluster"] == []
    assert set_price(mine, base * 1.3) == {"code": 0}
    assert _order(client, server)["pub_cluster"] == ["127.0.0.1"]
    theirs = _order(client, server, key=KEY_B)
    assert theirs["expired"] is True
    # Lowering keeps its rules (max step, one lowering per window) and may hand the server to a waiting bid.
    assert _bid(client, server, base * 1.25, key=KEY_C) == {"code": 0}
    assert set_price(mine, base * 1.3 * 0.5)["error"] == "exceeded_max_step"
    assert set_price(mine, base * 1.3 * 0.95) == {"code": 0}
    assert _order(client, server)["expired"] is True
    assert _order(client, server, key=KEY_C)["pub_cluster"] == ["127.0.0.1"]
    assert set_price(_order(client, server, key=KEY_C), base * 1.2, key=KEY_C) == {"code": 0}
    assert set_price(_order(client, server, key=KEY_C), base * 1.15, key=KEY_C)["error"] == \
        "can_lower_every_600_seconds"
    assert sim.counters()["orders_outbid"] == 2  # theirs (KEY_B), then mine
    assert sorted(o["id"] for o in sim.orders() if o["end_reason"] == "outbid") == [theirs["id"], mine["id"]]


def test_rival_bids_outbid_wait_and_are_withdrawn(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    bid = _minimum(server) * 1.2
    assert _bid(client, server, bid) == {"code": 0}
    rival = sim.rival_bid(server["id"], bid * 1.1)
    assert rival["active"] is True and rival["state"] == "bidding"
    assert _order(client, server)["expired"] is True
    assert sim.counters()["orders_outbid"] == 1
    assert _bid(client, server, bid) == {"code": 0}  # below the rival: waits
    low = sim.rival_bid(server["id"], bid * 0.9)
    assert low["waiting"] is True and low["active"] is False
    assert [(o["offer_id"], o["active"], o["my"]) for o in _offers(client, server)] == [
        (rival["offer_id"], True, False), (_order(client, server)["id"], False, True), (low["offer_id"], False, False)]
    assert {b["offer_id"] for b in sim.rivals()["bids"]} == {rival["offer_id"], low["offer_id"]}
    assert {o["id"] for o in sim.orders()} == {o["id"] for o in client.orders(completed=True)}  # no rival there
    assert sim.withdraw_rival(rival_id=rival["rival_id"]) == [rival["offer_id"]]
    assert _order(client, server)["pub_cluster"] == ["127.0.0.1"]  # mine was the highest left
    sim.release_elsewhere(server["id"])  # everybody else lets go
    assert [o["my"] for o in _offers(client, server)] == [True]
    with pytest.raises(SimError, match="too_low_price"):
        sim.rival_bid(server["id"], _minimum(server) * 0.5)
    sim.configure(spot_low_bid="refuse")
    with pytest.raises(SimError, match="server-already-rented"):
        sim.rival_bid(server["id"], bid)


def test_a_rival_rebids_up_to_its_ceiling(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    start = round(_minimum(server) * 1.2, 4)
    step = round(_minimum(server) * 0.1, 4)
    ceiling = round(start + 4 * step, 4)
    rival = sim.rival_bid(server["id"], start, ceiling=ceiling, step=step)
    assert rival["active"] is True
    war = []
    for _round in range(3):
        top = max(o["bid"] for o in _offers(client, server) if o["active"])
        assert _bid(client, server, round(top + step / 2, 4)) == {"code": 0}
        war.append(_order(client, server)["expired"])
    # The rival answered twice (at start + 1.5 steps, then + 3 steps); + 4.5 steps was above its ceiling.
    assert war == [True, True, False]
    (state,) = sim.rivals()["rivals"]
    assert state["state"] == "gave-up" and state["rebids"] == 2 and state["active"] is False
    assert sim.counters()["orders_outbid"] == 2
    mine = [o for o in client.orders(completed=True) if o["si"] == server["id"]]
    assert [o["expired"] for o in sorted(mine, key=lambda o: o["id"])] == [True, True, False]


def test_a_rival_with_a_delay_rebids_only_after_it(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    start = _minimum(server) * 1.2
    sim.rival_bid(server["id"], start, ceiling=start * 3, step=start * 0.1, delay=120)
    assert _bid(client, server, start * 1.5) == {"code": 0}
    assert _order(client, server)["pub_cluster"] == ["127.0.0.1"]
    sim.advance_clock(60)
    assert _order(client, server)["expired"] is False
    sim.advance_clock(61)
    assert _order(client, server)["expired"] is True
    (rival,) = sim.rivals()["rivals"]
    assert rival["active"] is True and rival["bid"] == pytest.approx(start * 1.6, rel=1e-3)


def test_admin_outbid_places_a_higher_bid(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    bid = _minimum(server) * 1.2
    assert _bid(client, server, bid) == {"code": 0}
    mine = _order(client, server)
    sim.outbid(mine["id"])
    assert _order(client, server)["expired"] is True
    (offer,) = _offers(client, server)
    assert offer["active"] is True and offer["my"] is False and offer["bid"] == pytest.approx(bid * 1.2)
    with pytest.raises(SimError, match="not a running spot order"):
        sim.outbid(mine["id"])


def test_set_prices_moves_the_listing_and_the_minimum_and_survives_a_restart(sim: SimServer, client: Client) -> None:
    server = client.free_server()
    price = sim.set_prices(server["id"], on_demand={CLORE: 123456.0}, spot={CLORE: 65432.0})
    assert price["on_demand"][CLORE] == 123456.0 and price["spot"][CLORE] == 65432.0
    row = _row(client, server)
    assert row["price"] == price
    if server["allowed_coins"][0] == CLORE:
        assert row["price"]["usd"]["spot"] == pytest.approx(65432.0 * 0.025)
    assert row["price"]["usd"]["on_demand_clore"] == pytest.approx(123456.0 * 0.025)
    assert _bid(client, server, 65000.0) == {"code": 6, "error": "too_low_price", "min_price": 65432.0}
    with pytest.raises(SimError, match="on_demand"):
        sim.set_prices(server["id"], on_demand={"dogecoin": 1.0})
    sim.restart()
    client.api_url = sim.api_url
    assert _row(client, server)["price"] == price


def test_a_waiting_bid_and_a_rival_survive_a_restart(tmp_path) -> None:
    import requests
    state = tmp_path / "s"
    sim = SimServer(state, accounts={"a": {}})
    try:
        sim.start()
        client = Client(sim.api_url, "a", requests.Session())
        server = client.free_server()
        bid = _minimum(server) * 1.2
        rival = sim.rival_bid(server["id"], bid * 2)
        assert _bid(client, server, bid) == {"code": 0}
        sim.restart()
        client.api_url = sim.api_url
        assert _order(client, server)["pub_cluster"] == []
        assert [o["active"] for o in _offers(client, server)] == [True, False]
        sim.withdraw_rival(rival_id=rival["rival_id"])
        assert _order(client, server)["pub_cluster"] == ["127.0.0.1"]
    finally:
        sim.stop()


def _market_state(sim: SimServer, client: Client) -> list:
    return [(s["id"], s["rented"], s["price"]) for s in client.servers()] + [sorted(
        (b["server_id"], b["bid"], b["currency"], b["active"]) for b in sim.rivals()["bids"])]


def test_market_churn_is_the_same_for_the_same_seed(tmp_path) -> None:
    import requests
    runs = []
    for name, seed in (("one", 7), ("two", 7), ("three", 8)):
        with SimServer(tmp_path / name, seed=seed) as sim:
            client = Client(sim.api_url, sim.api_key, requests.Session())
            before = _market_state(sim, client)
            events = sim.churn(40)
            after = _market_state(sim, client)
            runs.append((events, after))
            assert after != before
            assert len(events) == 40 and {e.split(":")[0] for e in events} >= {"rent", "bid", "reprice"}
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_market_churn_at_a_rate_moves_the_market_by_itself(tmp_path) -> None:
    import requests
    with SimServer(tmp_path / "s", extra_args=["--market-churn", "600"]) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        before = _market_state(sim, client)
        deadline = time.monotonic() + 30
        while _market_state(sim, client) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _market_state(sim, client) != before
        assert sim.admin("GET", "config")["market_churn"] == 600


def test_churn_outbids_my_order_sometimes(sim: SimServer, client: Client) -> None:
    """Other renters bid on a server where my bid runs: in time one bids above it, and my order ends."""
    offline = set(sim.offline())  # marketplace rows do not say
    servers = [s for s in client.servers()
               if not s["rented"] and s["id"] not in offline and CLORE in s["allowed_coins"]]
    for server in servers:
        assert _bid(client, server, _minimum(server)) == {"code": 0}
    for _batch in range(20):
        sim.churn(20)
        if sim.counters()["orders_outbid"]:
            break
    assert sim.counters()["orders_outbid"] >= 1
    assert any(o["expired"] for o in client.orders(completed=True))


def test_outbid_stops_the_sshd_and_a_waiting_bid_gets_its_own(sim: SimServer, client: Client, ssh_keypair,
                                                              bidders) -> None:
    server = client.free_server()
    bid = _minimum(server) * 1.2
    assert _bid(client, server, bid, ports={"22": "tcp"}, ssh_key=ssh_keypair[1]) == {"code": 0}
    mine = _order(client, server)
    port = ssh_port(mine)
    assert wait_banner("127.0.0.1", port, timeout=15) is not None
    pid = sshd_pid(sim.state_dir, mine["id"])
    assert _bid(client, server, bid * 0.9, key=KEY_B, ports={"22": "tcp"}, ssh_key=ssh_keypair[1]) == {"code": 0}
    assert _order(client, server, key=KEY_B)["tcp_ports"] == []  # waiting: no port, no sshd
    sim.rival_bid(server["id"], bid * 1.5)
    assert _order(client, server)["expired"] is True
    assert wait_gone([pid], timeout=15) == []
    for _attempt in range(20):
        if wait_banner("127.0.0.1", port, timeout=0.5) is None:
            break
    assert wait_banner("127.0.0.1", port, timeout=0.5) is None
    assert not alive(pid)
    sim.withdraw_rival(server_id=server["id"])
    theirs = _order(client, server, key=KEY_B)
    assert theirs["tcp_ports"] and theirs["pub_cluster"] == ["127.0.0.1"]
    wait_ssh(ssh_port(theirs), ssh_keypair[0])
