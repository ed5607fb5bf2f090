"""spot_view: our order's place in its server's spot market, the top bid priced in dollars at the market's rates."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.order_poll import spot_view

CLORE = "CLORE-Blockchain"


def market(rates: object) -> dict:
    return {"offers": [{"offer_id": 7, "bid": 20, "currency": CLORE, "active": True, "my": False},
                       {"offer_id": 9, "bid": 10, "currency": CLORE, "active": False, "my": True}],
            "currency_rates_in_usd": rates}


def test_the_top_bid_is_priced_at_the_market_rates_and_ours_is_not_it():
    view = spot_view(market({CLORE: 0.05}), 9)
    assert (view.listed, view.running, view.top_mine) == (True, False, False)
    assert (view.top_bid, view.top_currency) == (20.0, CLORE)
    assert view.top_usd == 1.0


def test_an_unreadable_rate_leaves_the_dollar_price_unknown_instead_of_failing_the_poll():
    for rates in ({CLORE: "n/a"}, {CLORE: float("nan")}, {CLORE: True}, "n/a", None):
        view = spot_view(market(rates), 9)
        assert view.top_bid == 20.0 and view.top_usd is None, rates
