"""The price model over real and documented answers: each price shape gives the documented dollar figure and source,
and the 2024 marketplace (no dollar figure on any row) is priced at the rates a spot_marketplace answer gives."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import MarketSelection, normalize_server
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    MarketRates,
    NoUsdRate,
    RateBook,
    complete_rates,
)

from .conftest import fixture

MARKET = fixture("documented/marketplace.json")
REAL_2024 = fixture("real/marketplace-2024-sample.json")
RATES_2024 = fixture("real/spot_marketplace-2024-rates.json")

# Per documented row: (cheapest currency, dollars per day, usd_source) from the row alone.
DOCUMENTED = {
    73340: ("CLORE-Blockchain", 21.5, "price.usd"),  # newest public client's keys
    74663: ("CLORE-Blockchain", 5.0, "price.usd"),  # vendor SDK's keys, on_demand_usd too
    75001: ("USD-Blockchain", 4.0, "usd_coin"),  # price.usd with `spot` only
    75002: (None, None, None),  # no price.usd: a rate is needed
}


@pytest.mark.parametrize("row", MARKET["servers"], ids=lambda row: str(row["id"]))
def test_each_documented_price_shape_gives_its_dollar_figure_and_source(row):
    server = normalize_server(row)
    assert (server["cheapest_currency"], server["cheapest_usd_per_day"], server["usd_source"]) == DOCUMENTED[row["id"]]


def select(rows: list[dict], filters: dict, sort_by: str = "price", spot_answer: dict | None = None,
           user_rates: dict | None = None) -> tuple[list[dict], dict, list[str]]:
    """The module's flow: stream the rows, complete the rates (one spot_marketplace answer at most), result."""
    selection, rates, calls = MarketSelection(filters, sort_by), MarketRates(), []
    for raw in rows:
        rates.add(raw)
        selection.add(raw)
    book = RateBook(rates.rates())

    def spot_market():
        calls.append("spot_marketplace")
        return spot_answer or {}

    complete_rates(book, selection.rates_needed(), user_rates, spot_market)
    servers, excluded = selection.result(book)
    return servers, excluded, calls


def plain_cheapest(row: dict, usd_per_coin: dict[str, float]) -> float:
    return min(price * usd_per_coin[coin] for coin, price in row["price"]["on_demand"].items()
               if coin in row["allowed_coins"])


def test_the_2024_answer_is_capped_and_sorted_in_dollars_at_the_spot_marketplace_rates():
    rows = REAL_2024["servers"]
    usd_per_coin = RATES_2024["market"]["currency_rates_in_usd"]
    free_4090 = [r for r in rows if "RTX 4090" in r["specs"]["gpu"] and not r["rented"]]
    expected = sorted((plain_cheapest(r, usd_per_coin), r["id"]) for r in free_4090)
    under = [server_id for price, server_id in expected if price <= 10]
    assert 0 < len(under) < len(free_4090)

    servers, excluded, calls = select(rows, {"gpu": ["RTX 4090"], "max_price": {"amount": 10}},
                                      spot_answer=RATES_2024)
    assert [s["id"] for s in servers] == under and calls == ["spot_marketplace"]
    assert excluded["max_price"] == len(free_4090) - len(under)
    assert {s["usd_source"] for s in servers} == {"spot_marketplace"}

    by_price, _excluded, _calls = select(rows, {"gpu": ["RTX 4090"]}, spot_answer=RATES_2024)
    assert [s["id"] for s in by_price] == [server_id for _price, server_id in expected]


def test_the_2024_answer_without_any_rate_fails_naming_the_coins_and_usd_rates():
    with pytest.raises(NoUsdRate) as caught:
        select(REAL_2024["servers"], {"gpu": ["RTX 4090"], "max_price": {"amount": 10}})
    text = str(caught.value)
    assert "CLORE-Blockchain, bitcoin" in text and "usd_rates" in text and "max_price in USD" in text
    # The user's rates then price it, and say so.
    servers, _excluded, _calls = select(REAL_2024["servers"], {"gpu": ["RTX 4090"], "max_price": {"amount": 10}},
                                        user_rates={"CLORE-Blockchain": 0.27, "bitcoin": 60000.0})
    assert servers and {s["usd_source"] for s in servers} == {"usd_rates"}


def test_the_bitcoin_only_rows_are_priced_in_bitcoin():
    rows = [r for r in REAL_2024["servers"] if r["allowed_coins"] == ["bitcoin"]]
    assert rows
    servers, _excluded, _calls = select(rows, {"available_only": False}, spot_answer=RATES_2024)
    assert len(servers) == len(rows) and {s["cheapest_currency"] for s in servers} == {"bitcoin"}
    row = rows[0]
    server = next(s for s in servers if s["id"] == row["id"])
    assert server["usd_per_day"] == pytest.approx(row["price"]["on_demand"]["bitcoin"] * 60000.0, abs=1e-6)
