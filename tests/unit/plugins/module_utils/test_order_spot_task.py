"""OrderTask with spot_max_price over the in-memory Clore: bids within the cap, re-bids, outbid orders."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.request import Terms
from ansible_collections.clore.ai.plugins.module_utils._order.spot import RivalCandidates, SpotMarkets
from ansible_collections.clore.ai.plugins.module_utils.market import normalize_server
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask, OrderTaskFailed

from order_fakes import FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"
USD = "USD-Blockchain"


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    # Host minimums (spot, USD-Blockchain): half the on-demand price.
    fake = FakeClore([server(1, 6.0), server(2, 8.0), server(3, 4.0, rented=True)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def run(market: FakeClore, check_mode: bool = False, **args) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, image=IMAGE, type="spot", currency=USD, **args)
    return OrderTask(market, order_request(params), check_mode=check_mode, diff=False, warn=lambda _m: None).run()


def test_a_free_server_is_bid_at_the_hosts_minimum(market):
    result = run(market, server_id=1, spot_max_price=5.0)
    assert market.posts("create_order") == [("create_order", 1)]
    (order,) = result["orders"]
    assert (order["spot_bid"], order["spot_active"], order["spot_status"]) == (3.0, True, "active")


def test_a_server_held_by_a_rival_is_bid_just_above_it_and_never_above_the_cap(market):
    market.rival_offers[3] = [{"offer_id": 900, "bid": 4.0, "active": True, "currency": USD}]
    planned = run(market, check_mode=True, server_id=3, spot_max_price=5.0, spot_bid_step=0.25)
    assert planned["would_create"][0]["price_per_day"] == 4.25 and market.posts() == []
    with pytest.raises(OrderTaskFailed, match=r"top rival bid is 4 USD-Blockchain/day; winning needs a bid of 4.25 "
                                              r"USD-Blockchain/day, above spot_max_price 4\.1"):
        run(market, server_id=3, spot_max_price=4.1, spot_bid_step=0.25)
    assert market.posts() == []


def test_a_bid_that_does_not_run_is_raised_within_the_cap(market):
    order = market.add_order(1, IMAGE, price=3.0, spot=True)
    market.rival_offers[1] = [{"offer_id": 900, "bid": 3.5, "active": True, "currency": USD}]
    result = run(market, server_id=1, spot_max_price=5.0, spot_bid_step=0.5)
    assert market.posts("set_spot_price") == [("set_spot_price", order["id"], 4.0)]
    assert result["repriced"] == [order["id"]]


def test_a_bid_that_cannot_win_within_the_cap_is_cancelled_and_reported(market):
    order = market.add_order(1, IMAGE, price=3.0, spot=True)
    market.rival_offers[1] = [{"offer_id": 900, "bid": 9.0, "active": True, "currency": USD}]
    with pytest.raises(OrderTaskFailed) as failed:
        run(market, server_id=1, spot_max_price=5.0)
    result = failed.value.result
    assert result["cancelled"] == [order["id"]]
    (entry,) = result["outbid"]
    assert (entry["id"], entry["bid"], entry["winning_bid"], entry["cancelled"]) == (order["id"], 3.0, 9.0, True)
    assert market.posts("set_spot_price") == [] and market.posts("create_order") == []


def test_spot_rebid_false_reports_without_raising(market):
    order = market.add_order(1, IMAGE, price=3.0, spot=True)
    market.rival_offers[1] = [{"offer_id": 900, "bid": 3.5, "active": True, "currency": USD}]
    with pytest.raises(OrderTaskFailed):
        run(market, server_id=1, spot_max_price=5.0, spot_rebid=False)
    assert market.posts("set_spot_price") == []
    assert ("cancel_order", order["id"], None) in market.posts("cancel_order")


def test_a_bid_outbid_before_it_was_listed_fails_at_once_as_outbid_and_costing_nothing(market):
    # A rival re-bid within a second of the create: the order ended before my_orders listed it as active.
    market.fault("create_order", "ends_at_once")
    market.rival_offers[1] = [{"offer_id": 900, "bid": 3.5, "active": True, "currency": USD}]
    with pytest.raises(OrderTaskFailed) as failed:
        run(market, server_id=1, spot_max_price=5.0)
    message = str(failed.value)
    (order,) = market.orders
    assert f"order {order['id']} ended as soon as it was created, before my_orders listed it as active: outbid" \
        in message
    assert "have ended (listed as expired in my_orders): they no longer cost money" in message
    assert "may still exist" not in message and "probably exists" not in message
    result = failed.value.result
    assert result["ended"] == [order["id"]]
    assert [entry["id"] for entry in result["outbid"]] == [order["id"]]
    assert market.posts() == [("create_order", 1)]


FLEET = {"count": 2, "gpu": ["4090"], "spot_max_price": 5.0, "spot_bid_step": 0.25}


def test_a_fleet_whose_free_server_is_offline_wins_a_rival_held_one_within_the_cap(market):
    # Two free servers within the cap (so the plan needs no rival), the first offline (its create is refused):
    # fail-over goes on to server 3, which a rival holds at 4.0 and 4.25 wins.
    market.bids_win = True
    market.rival_offers[3] = [{"offer_id": 900, "bid": 4.0, "active": True, "currency": USD}]
    market.fault("create_order", "server-offline")
    result = run(market, **FLEET)
    assert market.posts("create_order") == [("create_order", 1), ("create_order", 2), ("create_order", 3)]
    bids = {o["server_id"]: (o["spot_bid"], o["spot_active"]) for o in result["orders"]}
    assert bids == {2: (4.0, True), 3: (4.25, True)}, result
    assert [(s["server_id"], s["reason"]) for s in result["skipped_servers"]] == [(1, "server-offline")]
    assert result["shortfall"] == {"count": 0, "reasons": {}}


def test_a_fleet_reads_no_rival_market_while_the_free_servers_suffice(market):
    market.rival_offers[3] = [{"offer_id": 900, "bid": 4.0, "active": True, "currency": USD}]
    result = run(market, **FLEET)
    assert sorted(o["server_id"] for o in result["orders"]) == [1, 2]
    assert 3 not in spot_reads(market), "the free servers sufficed: no rival's market is read"


def test_who_outbid_an_ended_member_is_read_after_the_replacement_is_created(market):
    # Order 100 of a fleet of 1 lost server 1 to a rival (it ended): the replacement is created first, and only
    # then are the ended orders and server 1's market read for the report, so no read holds the create back.
    lost = market.add_order(1, IMAGE, price=3.0, spot=True)
    lost["expired"] = True
    market.rival_offers[1] = [{"offer_id": 900, "bid": 6.0, "active": True, "currency": USD}]
    result = run(market, count=1, gpu=["4090"], spot_max_price=5.0)
    assert [o["server_id"] for o in result["orders"]] == [2]
    create = market.calls.index(("create_order", 2))
    assert market.calls.index(("my_orders", "with ended")) > create
    assert market.calls.index(("spot_marketplace", 1)) > create
    (entry,) = result["outbid"]
    assert (entry["id"], entry["server_id"], entry["ended"], entry["winning_bid"]) == (lost["id"], 1, True, 6.0)


def test_a_server_won_back_still_reports_the_rival_that_had_outbid_the_ended_order(market):
    # The replacement outbids the rival on the very server the ended order lost: the report tells the rival it beat
    # (from the market read before the create), never the run's own new bid.
    market.bids_win = True
    lost = market.add_order(3, IMAGE, price=3.0, spot=True)
    lost["expired"] = True
    market.servers[1]["online"] = market.servers[2]["online"] = False
    market.rival_offers[3] = [{"offer_id": 900, "bid": 3.5, "active": True, "currency": USD}]
    result = run(market, count=1, gpu=["4090"], spot_max_price=5.0, spot_bid_step=0.25)
    assert [o["server_id"] for o in result["orders"]] == [3]
    assert [(e["id"], e["winning_bid"]) for e in result["outbid"] if e["ended"]] == [(lost["id"], 3.5)], \
        result["outbid"]


def spot_reads(market: FakeClore) -> list[int]:
    return [call[1] for call in market.calls if call[0] == "spot_marketplace"]


def held(*rows: dict) -> list[dict]:
    return [normalize_server(row) for row in rows]


def test_rival_candidates_are_read_lazily_cheapest_minimum_first_within_the_limit(market):
    market.servers.update({7: server(7, 2.0, rented=True), 8: server(8, 4.0, rented=True),
                           9: server(9, 20.0, rented=True)})
    market.rival_offers.update({
        3: [{"offer_id": 901, "bid": 4.0, "active": True, "currency": USD}],   # minimum 2.0: won at 4.25
        9: [{"offer_id": 903, "bid": 4.5, "active": True, "currency": USD}],   # minimum 10.0: above the cap
    })  # 7 (minimum 1.0) and 8 (minimum 2.0) run no spot bid: rented on demand
    terms = Terms(type="spot", currency=USD, spot_max_price=5.0, spot_bid_step=0.25)
    servers = held(market.servers[9], market.servers[8], market.servers[3], market.servers[7])
    rivals = RivalCandidates(SpotMarkets(market), servers, terms, limit=3)

    assert rivals.take(0) == [] and spot_reads(market) == []
    assert [c.server_id for c in rivals.take(1)] == [3]
    assert spot_reads(market) == [7, 8, 3]  # by minimum (8 and 3 tie at 2.0: listing order), up to the first win
    assert [(c.server_id, c.price) for c in rivals] == [(3, 4.25)]
    assert spot_reads(market) == [7, 8, 3], "at most `limit` servers are read, each once: 9 is not"
    assert sorted(rivals.reasons) == ["rented, and not on spot"] * 2
    assert {s["server_id"] for s in rivals.skipped} == {7, 8}


def test_a_rival_the_cap_cannot_win_is_passed_over_with_the_bid_it_needs(market):
    market.rival_offers[3] = [{"offer_id": 901, "bid": 6.0, "active": True, "currency": USD}]
    terms = Terms(type="spot", currency=USD, spot_max_price=5.0, spot_bid_step=0.25)
    rivals = RivalCandidates(SpotMarkets(market), held(market.servers[3]), terms, limit=10)
    assert rivals.take(2) == [] and list(rivals) == []
    (entry,) = rivals.skipped
    assert (entry["server_id"], entry["bid_needed"], entry["top_rival_bid"]) == (3, 6.25, 6.0)
    assert rivals.reasons == ["spot_max_price"]
