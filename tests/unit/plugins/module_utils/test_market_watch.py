"""MarketWatch: which matching servers are offers, once per server and price; the source's market arguments."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.market_watch import (
    NEW,
    OFFER,
    PRICE_DROP,
    MarketWatch,
    drop_percent,
    market_filters,
    watched_price,
)


def server(server_id: int, usd: float, spot_usd: float | None = None, clore: float | None = None) -> dict:
    prices = {"on-demand": {"CLORE-Blockchain": clore} if clore is not None else {}, "spot": {}}
    return {"id": server_id, "usd_per_day": usd, "spot_usd_per_day": spot_usd, "prices": prices}


def offered(events: list[dict]) -> list[tuple[int, float, str]]:
    assert all(e["type"] == OFFER for e in events)
    return [(e["server"]["id"], e["price"], e["reason"]) for e in events]


def test_a_matching_server_is_offered_once_while_its_price_stays():
    watch = MarketWatch()
    assert offered(watch.offers([server(1, 5.0), server(2, 6.0)], {1, 2})) == [(1, 5.0, NEW), (2, 6.0, NEW)]
    assert watch.offers([server(1, 5.0), server(2, 6.0)], {1, 2}) == []
    assert watch.offers([server(1, 5.0)], {1, 2}) == []


def test_a_price_that_falls_is_an_offer_with_the_previous_price():
    watch = MarketWatch()
    watch.offers([server(1, 5.0)], {1})
    events = watch.offers([server(1, 4.0)], {1})
    assert offered(events) == [(1, 4.0, PRICE_DROP)]
    assert events[0]["previous"] == {"price": 5.0}


def test_a_price_that_rises_and_comes_back_is_not_offered_again():
    watch = MarketWatch()
    watch.offers([server(1, 5.0)], {1})
    assert watch.offers([server(1, 6.0)], {1}) == []
    assert watch.offers([server(1, 5.0)], {1}) == []
    assert offered(watch.offers([server(1, 4.5)], {1})) == [(1, 4.5, PRICE_DROP)]


def test_a_server_over_the_cap_then_back_at_the_same_price_is_not_offered_again():
    # Still free but out of the matching set (its price rose over max_price): remembered.
    watch = MarketWatch({"amount": 5, "currency": "USD", "type": "on-demand", "per": "day"})
    watch.offers([server(1, 5.0)], {1})
    assert watch.offers([], {1}) == []
    assert watch.offers([server(1, 5.0)], {1}) == []


def test_a_server_rented_or_gone_is_forgotten_and_offered_again_when_free():
    watch = MarketWatch()
    watch.offers([server(1, 5.0), server(2, 5.0)], {1, 2})
    assert watch.offers([], set()) == []  # 1 and 2 rented (or gone)
    assert offered(watch.offers([server(1, 5.0)], {1})) == [(1, 5.0, NEW)]


def test_price_drop_percent_needs_a_fall_of_at_least_that_much():
    watch = MarketWatch(price_drop_percent=10)
    watch.offers([server(1, 10.0)], {1})
    assert watch.offers([server(1, 9.5)], {1}) == []
    assert offered(watch.offers([server(1, 9.0)], {1})) == [(1, 9.0, PRICE_DROP)]
    # Measured from the last offer (9.0), not from the first price.
    assert watch.offers([server(1, 8.2)], {1}) == []
    assert offered(watch.offers([server(1, 8.1)], {1})) == [(1, 8.1, PRICE_DROP)]


def test_the_price_judged_is_the_one_max_price_compares():
    spot_cap = {"amount": 3, "currency": "USD", "type": "spot", "per": "hour"}
    coin_cap = {"amount": 300, "currency": "CLORE", "type": "on-demand", "per": "day"}
    one = server(1, 5.0, spot_usd=2.0, clore=200.0)
    assert watched_price(one, None) == 5.0
    assert watched_price(one, spot_cap) == 2.0
    assert watched_price(one, coin_cap) == 200.0
    event = MarketWatch(coin_cap).offers([one], {1})[0]
    assert (event["price"], event["currency"], event["order_type"]) == (200.0, "CLORE-Blockchain", "on-demand")


def test_market_filters_as_the_module_takes_them():
    filters = market_filters({"gpu": ["4090"], "max_price": 8})
    assert filters["available_only"] is True
    assert filters["max_price"] == {"amount": 8, "currency": "USD", "type": "on-demand", "per": "day"}
    assert market_filters({"max_price": {"amount": 1, "per": "gpu_hour"}})["max_price"]["per"] == "gpu_hour"
    assert market_filters({"available_only": False})["available_only"] is False


@pytest.mark.parametrize(("args", "named"), [
    ({"max_price": {"amount": 1, "per": "week"}}, "max_price"),
    ({"max_price": {"amount": -1}}, "max_price"),
    ({"currency": "DOGE"}, "currency"),
    ({"gpu": ["RTX ("]}, "gpu"),
    ({"gpu_count_min": 4, "gpu_count_max": 2}, "gpu_count_min"),
])
def test_bad_filters_are_refused_naming_the_filter(args, named):
    with pytest.raises(CloreConfigError) as caught:
        market_filters(args)
    assert caught.value.option == named


@pytest.mark.parametrize("value", [0, 100, -5, True, "10", float("nan")])
def test_price_drop_percent_must_be_between_0_and_100(value):
    with pytest.raises(CloreConfigError, match="price_drop_percent"):
        drop_percent(value)


def test_price_drop_percent_unset_or_valid():
    assert drop_percent(None) is None
    assert drop_percent(12.5) == 12.5
