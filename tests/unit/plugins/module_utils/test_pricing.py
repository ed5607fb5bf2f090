"""The price model: each source of a dollar price in its order, usd_source, rates, and the failure without a rate.

Rows are hand-made in each price shape seen (and served by clore-sim's --price-shape): usd-keys, usd-partial,
nested-usd, original-usd, none.
"""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.market import normalize_server, price_server
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    MarketRates,
    NoUsdRate,
    RateBook,
    check_usd_rates,
    cheapest,
    complete_rates,
    native_prices,
    require_rates,
    row_usd,
)

COINS = ("USD-Blockchain", "CLORE-Blockchain", "bitcoin")


def row(price: dict, coins=COINS, server_id: int = 1) -> dict:
    return {"id": server_id, "allowed_coins": list(coins), "price": price, "specs": {"gpu": "2x RTX 4090"}}


ON_DEMAND = {"USD-Blockchain": 6.0, "CLORE-Blockchain": 200.0, "bitcoin": 0.0001}
SPOT = {"USD-Blockchain": 3.0, "CLORE-Blockchain": 100.0, "bitcoin": 0.00005}
SHAPES = {
    "usd-keys": {"on_demand": ON_DEMAND, "spot": SPOT,
                 "usd": {"on_demand_usd": 6.0, "on_demand_clore": 5.0, "on_demand_btc": 6.5, "spot": 2.5}},
    "usd-partial": {"on_demand": ON_DEMAND, "spot": SPOT, "usd": {"on_demand_clore": 5.0, "spot": 2.5}},
    "nested-usd": {"on_demand": dict(ON_DEMAND, usd=5.5), "spot": dict(SPOT, usd=2.75)},
    "original-usd": {"on_demand": ON_DEMAND, "spot": SPOT,
                     "original_usd": {"CLORE-Blockchain": {"on_demand": 4.8, "spot": 2.4},
                                      "bitcoin": {"on_demand": 6.2, "spot": 3.1}}},
    "none": {"on_demand": ON_DEMAND, "spot": SPOT},
}


@pytest.mark.parametrize(("shape", "expected"), [
    ("usd-keys", {"USD-Blockchain": (6.0, "usd_coin"), "CLORE-Blockchain": (5.0, "price.usd"),
                  "bitcoin": (6.5, "price.usd")}),
    ("usd-partial", {"USD-Blockchain": (6.0, "usd_coin"), "CLORE-Blockchain": (5.0, "price.usd")}),
    # One nested figure, several coins: it could be any coin's, so it prices none (coin rates do).
    ("nested-usd", {"USD-Blockchain": (6.0, "usd_coin")}),
    ("original-usd", {"USD-Blockchain": (6.0, "usd_coin"), "CLORE-Blockchain": (4.8, "price.original_usd"),
                      "bitcoin": (6.2, "price.original_usd")}),
    ("none", {"USD-Blockchain": (6.0, "usd_coin")}),
])
def test_each_price_shape_gives_the_rows_own_dollar_figures(shape, expected):
    assert row_usd(SHAPES[shape], "on-demand", COINS) == expected


def test_spot_figures_per_shape():
    assert row_usd(SHAPES["usd-keys"], "spot", COINS)["CLORE-Blockchain"] == (2.5, "price.usd")
    assert "bitcoin" not in row_usd(SHAPES["nested-usd"], "spot", COINS)  # which coin's is 2.75? none says
    assert row_usd({"spot": {"bitcoin": 0.0001, "usd": 2.75}}, "spot", COINS) == {"bitcoin": (2.75, "price.spot.usd")}
    assert row_usd(SHAPES["original-usd"], "spot", COINS)["bitcoin"] == (3.1, "price.original_usd")
    assert row_usd(SHAPES["none"], "spot", COINS) == {"USD-Blockchain": (3.0, "usd_coin")}


def test_sources_are_taken_in_order_the_first_present_wins():
    every = {"on_demand": dict(ON_DEMAND, usd=5.5), "spot": SPOT, "usd": {"on_demand_clore": 5.0},
             "original_usd": {"CLORE-Blockchain": {"on_demand": 4.8}, "bitcoin": {"on_demand": 6.2}}}
    figures = row_usd(every, "on-demand", COINS)
    # USD-Blockchain is a dollar whatever else the row says; price.usd before the nested key before original_usd
    # (the nested figure names no coin of the three, so original_usd prices bitcoin).
    assert figures == {"USD-Blockchain": (6.0, "usd_coin"), "CLORE-Blockchain": (5.0, "price.usd"),
                       "bitcoin": (6.2, "price.original_usd")}
    sole = {"on_demand": {"bitcoin": 0.0001, "usd": 5.5}, "original_usd": {"bitcoin": {"on_demand": 6.2}}}
    assert row_usd(sole, "on-demand", COINS) == {"bitcoin": (5.5, "price.on_demand.usd")}
    # The nested `usd` is a dollar figure, never a coin.
    assert native_prices(every["on_demand"]) == ON_DEMAND


def test_rates_come_from_the_answer_then_spot_marketplace_then_the_user():
    rates = MarketRates()
    rates.add(row({"on_demand": ON_DEMAND, "usd": {"on_demand_clore": 5.0}}))  # CLORE: 5 / 200
    rates.add(row({"on_demand": ON_DEMAND, "spot": SPOT, "usd": {"on_demand_clore": 2.0}}))  # 2 / 200
    rates.add(row({"on_demand": ON_DEMAND, "spot": SPOT, "usd": {"on_demand_clore": 5.6}}))  # 5.6 / 200: median 0.025
    book = RateBook(rates.rates())
    assert book.rate("CLORE-Blockchain") == (0.025, "market_rates") and book.missing(COINS) == ["bitcoin"]
    calls = []

    def spot_market():
        calls.append(1)
        return {"currency_rates_in_usd": {"bitcoin": 60000.0, "CLORE-Blockchain": 99.0}, "exists": True}

    complete_rates(book, {"bitcoin", "CLORE-Blockchain"}, {"bitcoin": 1.0}, spot_market)
    # A rate once known stays: CLORE from the answer, bitcoin from spot_marketplace, the user's not needed.
    assert book.sources() == {"USD-Blockchain": "usd_coin", "CLORE-Blockchain": "market_rates",
                              "bitcoin": "spot_marketplace"}
    assert book.rate("bitcoin") == (60000.0, "spot_marketplace") and calls == [1]
    complete_rates(book, {"bitcoin"}, None, spot_market)
    assert calls == [1]  # nothing missing: no second call


def test_user_rates_when_spot_marketplace_fails_or_says_nothing():
    def failing():
        raise CloreError("spot_marketplace: HTTP 500")

    book = complete_rates(RateBook(), {"bitcoin"}, {"bitcoin": 61000.0}, failing)
    assert book.rate("bitcoin") == (61000.0, "usd_rates")
    silent = complete_rates(RateBook(), {"bitcoin"}, {"BTC": 62000.0}, lambda: {"exists": False})
    assert silent.rate("bitcoin") == (62000.0, "usd_rates")


def test_without_any_rate_a_dollar_comparison_fails_naming_the_coin_and_what_to_pass():
    book = complete_rates(RateBook(), {"bitcoin", "CLORE-Blockchain"}, None, lambda: {})
    with pytest.raises(NoUsdRate) as caught:
        require_rates(book, {"bitcoin", "CLORE-Blockchain"}, "sort_by price")
    assert str(caught.value).startswith("sort_by price needs a US-dollar price, and nothing gives one for "
                                        "CLORE-Blockchain, bitcoin")
    assert "usd_rates: {CLORE-Blockchain: <US dollars per CLORE-Blockchain>, bitcoin:" in str(caught.value)
    require_rates(book, {"USD-Blockchain"}, "sort_by price")  # a dollar coin needs no rate


def test_a_server_pays_in_its_cheapest_allowed_currency_with_its_source():
    server = normalize_server(row(SHAPES["usd-partial"]))
    # Without a bitcoin rate the row prices USD-Blockchain and CLORE: CLORE is cheaper.
    assert (server["cheapest_currency"], server["cheapest_usd_per_day"], server["usd_source"]) == (
        "CLORE-Blockchain", 5.0, "price.usd")
    assert server["cheapest_usd_per_gpu_hour"] == pytest.approx(5.0 / 24 / 2, abs=1e-6)
    only_usd = normalize_server(row(SHAPES["usd-partial"]), ["USD-Blockchain"])
    assert (only_usd["cheapest_currency"], only_usd["usd_per_day"]) == ("USD-Blockchain", 6.0)
    # A bitcoin rate that makes bitcoin the cheapest changes the choice, and says where its figure came from.
    price_server(server, RateBook({"bitcoin": 40000.0}, "usd_rates"))
    assert (server["cheapest_currency"], server["usd_per_day"], server["usd_source"]) == ("bitcoin", 4.0, "usd_rates")
    assert server["usd_per_day_by_currency"] == {"USD-Blockchain": 6.0, "CLORE-Blockchain": 5.0, "bitcoin": 4.0}


def test_cheapest_breaks_ties_in_preference_order_and_skips_unpriced():
    priced = {"CLORE-Blockchain": (5.0, "price.usd"), "USD-Blockchain": (5.0, "usd_coin")}
    assert cheapest(priced, ["CLORE-Blockchain", "USD-Blockchain", "bitcoin"]) == ("USD-Blockchain", 5.0, "usd_coin")
    assert cheapest(priced, ["bitcoin"]) is None


@pytest.mark.parametrize("value", ["0.025", {"DOGE": 1}, {"bitcoin": 0}, {"bitcoin": -1}, {"bitcoin": "x"},
                                   {"bitcoin": float("nan")}, {"bitcoin": True}])
def test_bad_usd_rates_are_refused_naming_the_option(value):
    with pytest.raises(CloreConfigError) as caught:
        check_usd_rates(value)
    assert caught.value.option == "usd_rates" and str(caught.value).startswith("usd_rates")


def test_usd_rates_in_the_apis_spelling():
    assert check_usd_rates({"clore": 0.025, "BTC": 60000}) == {"CLORE-Blockchain": 0.025, "bitcoin": 60000.0}
    assert check_usd_rates(None) is None


def test_an_orders_dollars_come_from_usd_blockchain_then_its_own_figure_then_a_rate():
    from ansible_collections.clore.ai.plugins.module_utils.pricing import order_usd

    assert order_usd("USD-Blockchain", 4.8, 1.2, None) == {
        "usd_per_day": 4.8, "usd_per_hour": 0.2, "spend_usd": 1.2, "usd_source": "usd_coin"}
    # original_price_usd is the price in dollars; its ratio to the price converts the spend too.
    assert order_usd("CLORE-Blockchain", 200.0, 50.0, 5.0, {"CLORE-Blockchain": 0.02}) == {
        "usd_per_day": 5.0, "usd_per_hour": 0.20833333, "spend_usd": 1.25, "usd_source": "original_price_usd"}
    rates = RateBook({"CLORE-Blockchain": 0.025}, "spot_marketplace").as_dict()
    assert order_usd("CLORE-Blockchain", 200.0, 40.0, None, rates) == {
        "usd_per_day": 5.0, "usd_per_hour": 0.20833333, "spend_usd": 1.0, "usd_source": "spot_marketplace"}
    assert order_usd("bitcoin", 0.0001, None, "n/a", rates) == {
        "usd_per_day": None, "usd_per_hour": None, "spend_usd": None, "usd_source": None}
