"""Choosing a spot bid (_order/bid_choice.py): the least that wins, across currencies, with the step, under the cap."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.bid_choice import (
    DEFAULT_BID_STEP,
    bid_needed,
    choose_bid,
    free_server_bid,
    my_offer,
    round_up,
    top_rival,
    wins,
)

RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.025, "bitcoin": 60000.0}
CLORE, BTC, USDC = "CLORE-Blockchain", "bitcoin", "USD-Blockchain"


def market(offers: list[dict], minimum: dict[str, float] | None = None) -> dict:
    return {"offers": offers, "server": {"min_pricing": minimum if minimum is not None else {CLORE: 100.0}},
            "currency_rates_in_usd": RATES, "exists": True}


def offer(offer_id: int, bid: float, currency: str = CLORE, active: bool = True, my: bool = False) -> dict:
    return {"offer_id": offer_id, "bid": bid, "currency": currency, "active": active, "my": my}


def test_a_server_without_bids_is_won_at_the_hosts_minimum():
    choice = choose_bid(market([]), CLORE, cap=150.0)
    assert (choice.bid, choice.needed, choice.rival) == (100.0, 100.0, None)


def test_the_bid_is_the_top_rival_plus_the_step_when_above_the_minimum():
    choice = choose_bid(market([offer(1, 120.0), offer(2, 110.0, active=False)]), CLORE, cap=150.0, step=2.0)
    assert choice.bid == 122.0
    assert choice.rival.bid == 120.0 and choice.rival.active


def test_the_hosts_minimum_wins_over_a_low_rival():
    choice = choose_bid(market([offer(1, 50.0)]), CLORE, cap=150.0, step=2.0)
    assert choice.bid == 100.0


def test_the_default_step_depends_on_the_currency():
    choice = choose_bid(market([offer(1, 120.0)]), CLORE, cap=150.0)
    assert choice.bid == 120.0 + DEFAULT_BID_STEP[CLORE]
    in_usd = choose_bid(market([offer(1, 3.0, USDC)], {USDC: 2.5}), USDC, cap=4.0)
    assert in_usd.bid == pytest.approx(3.01)


def test_a_rival_in_another_currency_is_compared_at_the_markets_rates():
    # 0.00005 BTC = 3 USD = 120 CLORE
    choice = choose_bid(market([offer(1, 0.00005, BTC)]), CLORE, cap=150.0, step=1.0)
    assert choice.rival.in_ours == pytest.approx(120.0)
    assert choice.bid == pytest.approx(121.0)


def test_above_the_cap_no_bid_is_placed_and_the_bid_needed_is_said():
    choice = choose_bid(market([offer(1, 149.5)]), CLORE, cap=150.0, step=1.0)
    assert choice.bid is None and choice.needed == 150.5
    assert not choice.within_cap
    text = choice.refusal()
    assert "149.5 CLORE-Blockchain/day" in text and "150.5" in text and "spot_max_price 150" in text


def test_a_bid_exactly_at_the_cap_is_placed():
    assert choose_bid(market([offer(1, 149.0)]), CLORE, cap=150.0, step=1.0).bid == 150.0


def test_the_hosts_minimum_above_the_cap_refuses():
    assert choose_bid(market([], {CLORE: 200.0}), CLORE, cap=150.0).bid is None
    assert free_server_bid(200.0, 150.0) is None
    assert free_server_bid(100.0, 150.0) == 100.0
    assert free_server_bid(None, 150.0) is None


def test_our_own_offers_are_never_rivals():
    offers = [offer(7, 130.0, my=True), offer(8, 120.0, active=False)]
    assert top_rival(offers, CLORE, RATES).bid == 120.0
    # An order id named as ours counts even when `my` is missing.
    assert top_rival([offer(7, 130.0)], CLORE, RATES, {7}) is None


def test_a_rival_without_an_exchange_rate_blocks_the_bid():
    choice = choose_bid(market([offer(1, 1.0, "dogecoin")]), CLORE, cap=150.0)
    assert choice.needed is None and choice.bid is None
    assert "no exchange rate" in choice.refusal()
    assert bid_needed(100.0, choice.rival, 1.0) is None


def test_bids_are_rounded_up_never_down():
    assert round_up(0.1 + 0.2) == 0.3
    assert round_up(0.000000011) == 0.00000002
    bitcoin = choose_bid(market([offer(1, 0.0000025, BTC)], {BTC: 0.000001}), BTC, cap=0.01)
    assert bitcoin.bid == pytest.approx(0.0000027)
    assert wins(bitcoin.bid, bitcoin.rival)


def test_ties_go_to_the_running_bid():
    rival = top_rival([offer(1, 120.0)], CLORE, RATES)
    assert not wins(120.0, rival)
    assert wins(120.01, rival)
    assert wins(1.0, None)


def test_my_offer_is_found_by_order_id():
    answer = market([offer(5, 120.0, my=True, active=False), offer(6, 130.0)])
    assert my_offer(answer, 5)["active"] is False
    assert my_offer(answer, 9) is None


def test_odd_offers_are_ignored():
    answer = {"offers": [None, {"bid": "x"}, {"bid": 5.0}, offer(1, 120.0)], "server": None}
    choice = choose_bid(answer, CLORE, cap=150.0, step=1.0)
    assert choice.bid == 121.0 and choice.minimum is None
