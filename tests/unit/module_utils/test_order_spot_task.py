"""OrderTask with spot_max_price over the in-memory Clore: bids within the cap, re-bids, outbid orders."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.args import ORDER_ARGUMENT_SPEC, validate
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
    mode = validate(params)
    return OrderTask(market, params, mode, check_mode=check_mode, diff=False, warn=lambda _m: None).run()


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
