"""clore.ai.orders run as ansible-rulebook runs it: my_orders, spot markets and wallets between polls, as events."""
from __future__ import annotations

import json

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

from eda_fakes import API_KEY

CLORE = "CLORE-Blockchain"
CT = 1_800_000_000


def raw_order(order_id: int, *, spot: bool = False, ready: bool = False, expired: bool = False,
              spend: float = 10.0, mrl: int = 240) -> dict:
    """A my_orders entry as the API lists it (docs: /work/shared/clore-api.md, Order)."""
    return {"id": order_id, "si": order_id + 9000, "image": "cloreai/ubuntu22.04-jupyter", "currency": CLORE,
            "price": 100.0, "spend": spend, "creation_fee": 0.0, "ct": CT, "mrl": mrl, "spot": spot,
            "expired": expired, "specs": {"gpu": "1x NVIDIA GeForce RTX 4090", "net": {"cc": "DE"}},
            "pub_cluster": ["n1.c1.clorecloud.net"] if ready else [], "tcp_ports": ["22:10022"] if ready else [],
            "http_port": "", "http_pub": "", "online": ready, "mon_container": 2 if ready else 0}


def orders(*entries: dict) -> tuple[int, dict]:
    return 200, {"orders": list(entries), "code": 0}


def market(order_id: int, rival_bid: float | None = None) -> tuple[int, dict]:
    """A spot market where our bid runs, or where a rival's higher bid runs and ours waits."""
    offers = [{"offer_id": order_id, "bid": 100.0, "active": rival_bid is None, "my": True, "currency": CLORE}]
    if rival_bid is not None:
        offers.insert(0, {"offer_id": 555, "bid": rival_bid, "active": True, "my": False, "currency": CLORE})
    return 200, {"market": {"offers": offers, "server": {"min_pricing": {CLORE: 50.0}},
                            "currency_rates_in_usd": {CLORE: 0.05, "bitcoin": 60000.0}},
                 "exists": True, "code": 0}


def wallets(clore: float) -> tuple[int, dict]:
    return 200, {"wallets": [{"name": CLORE, "deposit": "addr", "balance": clore, "withdrawal_fee": 1.0},
                             {"name": "bitcoin", "deposit": "addr", "balance": 0.5, "withdrawal_fee": 0.0001}],
                 "code": 0}


def kinds(events: list[dict]) -> list[tuple[str, int | str | None]]:
    return [(e["type"], e["order"]["id"] if "order" in e else e.get("wallet", {}).get("currency"))
            for e in events]


def test_every_change_between_polls_is_an_event(api, run_source):
    api.script["my_orders"] = [
        orders(raw_order(1, spot=True, ready=True)),                                  # baseline
        orders(raw_order(1, spot=True, ready=True), raw_order(2)),                    # 2 created, 1 outbid
        orders(raw_order(1, spot=True, expired=True, spend=12.5), raw_order(2, ready=True, spend=30.0)),
    ]
    api.script["spot_marketplace"] = [market(1), market(1, rival_bid=150.0), market(1, rival_bid=150.0)]
    api.script["wallets"] = [wallets(900.0), wallets(900.0), wallets(400.0)]
    args = {"interval": 4, "spend_over": {"amount": 20, "currency": "CLORE"}, "wallet_low": {"CLORE": 500}}
    events, waits = run_source("orders", args, 3)

    assert kinds(events) == [
        ("order_outbid", 1), ("spot_top_bid_changed", 1), ("order_created", 2),
        ("order_ended", 1), ("order_ready", 2), ("spend_over", 2), ("wallet_low", CLORE),
    ]
    outbid, changed, created, ended, ready, spend, low = events
    assert created["order"]["ready"] is False and "previous" not in created
    assert outbid["spot"]["top_bid"] == 150.0 and outbid["spot"]["running"] is False
    assert changed["previous"]["top_mine"] is True and changed["spot"]["top_mine"] is False
    assert (ended["reason"], ended["order"]["spend"], ended["listed"]) == ("outbid", 12.5, True)
    assert ready["order"]["ssh_command"] == "ssh -p 10022 root@n1.c1.clorecloud.net"
    assert spend["threshold"] == {"amount": 20.0, "currency": CLORE}
    assert low["wallet"] == {"currency": CLORE, "balance": 400.0, "deposit_address": "addr", "withdrawal_fee": 1.0}
    # The order as clore_order_info returns it: money in dollars at the spot market's rate, age, lifetime.
    assert spend["order"]["spend_usd"] == pytest.approx(30.0 * 0.05) and spend["order"]["usd_source"] == \
        "spot_marketplace"
    assert "age_hours" in spend["order"] and "lifetime_due_at" in spend["order"]
    assert waits == [4, 4, 4]
    # One my_orders (ended ones included) a poll, the spot market of each spot order, wallets when asked.
    assert api.endpoints() == ["my_orders", "spot_marketplace", "wallets"] * 2 + ["my_orders", "wallets"]
    assert all("return_completed=true" in path for _m, path, _h in api.sent if "my_orders" in path)


def test_an_end_is_explained_by_the_wallet_and_the_spot_market_read_for_it(api, run_source):
    api.script["my_orders"] = [
        orders(raw_order(1), raw_order(2, spot=True)),
        orders(raw_order(1, expired=True), raw_order(2, spot=True, expired=True)),
    ]
    # Order 2's market is read at the baseline (ours runs), then once more for its end (a rival runs now).
    api.script["spot_marketplace"] = [market(2), market(2, rival_bid=180.0)]
    api.script["wallets"] = [wallets(-3.0)]
    events, _waits = run_source("orders", {"interval": 2}, 2)
    reasons = {e["order"]["id"]: (e["reason"], e["reason_detail"]) for e in events if e["type"] == "order_ended"}
    assert reasons[1][0] == "balance" and CLORE in reasons[1][1]
    assert reasons[2][0] == "outbid" and "180" in reasons[2][1]
    assert api.endpoints() == ["my_orders", "spot_marketplace", "my_orders", "spot_marketplace", "wallets"]


def test_an_end_its_spot_market_explains_is_told_without_reading_the_wallets(api, run_source):
    api.script["my_orders"] = [orders(raw_order(1, spot=True), raw_order(2, spot=True)),
                               orders(raw_order(1, spot=True, expired=True), raw_order(2, spot=True))]
    # Order 1's market at the baseline (ours runs), then once more for its end (a rival runs now).
    api.script["spot_marketplace"] = [market(1), market(2), market(2), market(1, rival_bid=180.0)]
    events, _waits = run_source("orders", {"interval": 2}, 2)
    ended = [e for e in events if e["type"] == "order_ended"]
    assert [(e["order"]["id"], e["reason"]) for e in ended] == [(1, "outbid")]
    assert "wallets" not in api.endpoints()  # the balance could not change the reason: no call for it


def test_ending_soon_once_per_order(api, run_source):
    api.script["my_orders"] = [orders(raw_order(1, mrl=24))]  # created long ago: its 24 h have nearly passed
    api.script["spot_marketplace"] = [market(1)]  # the coin rates, read once for all three polls
    events, _waits = run_source("orders", {"interval": 2, "ending_soon_hours": 1e9, "spot_markets": False}, 3)
    assert kinds(events) == [("ending_soon", 1)]
    assert events[0]["threshold_hours"] == 1e9
    assert events[0]["order"]["usd_per_day"] == pytest.approx(100.0 * 0.05)
    assert api.endpoints() == ["my_orders", "spot_marketplace", "my_orders", "my_orders"]


def test_an_api_error_is_one_event_and_the_key_is_in_none(api, run_source):
    api.script["my_orders"] = [(500, {"code": 1, "error": f"database error for {API_KEY}"}),
                               (500, {"code": 1}), orders(raw_order(1))]
    api.script["spot_marketplace"] = [market(1)]
    events, waits = run_source("orders", {"interval": 2, "backoff_max": 3}, 3)
    assert [e["type"] for e in events] == ["orders_error"]
    assert events[0]["endpoint"] == "my_orders" and events[0]["code"] == 1
    assert API_KEY not in json.dumps(events)
    assert waits == [3, 3, 2]


@pytest.mark.parametrize(("args", "named"), [
    ({"interval": 0}, "interval"),
    ({"spend_over": {"amount": 5, "currency": "EUR"}}, "spend_over"),
    ({"ending_soon_hours": -1}, "ending_soon_hours"),
    ({"wallet_low": {"DOGE": 1}}, "wallet_low"),
    ({"spot_markets": "yes"}, "spot_markets"),
    ({"usd_rates": {"CLORE": -1}}, "usd_rates"),
    ({"order_id": 5}, "order_id"),
])
def test_bad_arguments_stop_the_source_before_any_call(api, run_source, args, named):
    with pytest.raises(CloreConfigError) as caught:
        run_source("orders", args, 1)
    assert caught.value.option == named
    assert api.sent == []
