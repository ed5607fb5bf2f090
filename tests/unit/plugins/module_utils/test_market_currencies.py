"""currencies in the market: which currencies an order may pay in, the filter, and dollar comparisons that wait for
the rates rather than answering nothing."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import (
    MarketFilterError,
    MarketSelection,
    select_servers,
    wanted_currencies,
)
from ansible_collections.clore.ai.plugins.module_utils.pricing import NoUsdRate, RateBook


def row(server_id: int, on_demand: dict, usd: dict | None = None) -> dict:
    price = {"on_demand": on_demand, "spot": {}}
    if usd is not None:
        price["usd"] = usd
    return {"id": server_id, "allowed_coins": list(on_demand), "price": price, "specs": {"gpu": "1x RTX 4090"}}


def test_wanted_currencies_reads_currency_as_a_list_of_one():
    assert wanted_currencies({}) is None
    assert wanted_currencies({"currency": "usd"}) == ["USD-Blockchain"]
    assert wanted_currencies({"currencies": ["clore", "BTC", "CLORE"]}) == ["CLORE-Blockchain", "bitcoin"]
    assert wanted_currencies({"currencies": ["clore", "btc"], "currency": "btc"}) == ["bitcoin"]
    with pytest.raises(MarketFilterError, match=r"^currency: USD-Blockchain is not one of currencies"):
        wanted_currencies({"currencies": ["clore"], "currency": "usd"})
    with pytest.raises(MarketFilterError, match=r"^currencies: 'DOGE' is not a currency"):
        wanted_currencies({"currencies": ["DOGE"]})


def test_the_currencies_filter_and_the_price_it_compares():
    rows = [row(1, {"CLORE-Blockchain": 100.0}, {"on_demand_clore": 2.5}),
            row(2, {"USD-Blockchain": 4.0, "CLORE-Blockchain": 120.0}, {"on_demand_clore": 3.0}),
            row(3, {"bitcoin": 0.0001}, {"on_demand_btc": 6.0})]
    servers, excluded = select_servers(rows, {"currencies": ["USD", "CLORE"]})
    assert [(s["id"], s["cheapest_currency"], s["usd_per_day"]) for s in servers] == [
        (1, "CLORE-Blockchain", 2.5), (2, "CLORE-Blockchain", 3.0)]
    assert excluded["currencies"] == 1
    usd_only, excluded = select_servers(rows, {"currencies": ["USD"], "max_price": {"amount": 3.5}})
    # Server 2 is 3 USD in CLORE but 4 USD in the only currency allowed: above the cap.
    assert usd_only == [] and excluded == {"available_only": 0, "currencies": 2, "max_price": 1}


def test_a_dollar_cap_waits_for_the_rates_and_fails_without_them():
    rows = [row(5, {"CLORE-Blockchain": 100.0}), row(4, {"CLORE-Blockchain": 300.0}),
            row(6, {"USD-Blockchain": 4.0})]
    selection = MarketSelection({"max_price": {"amount": 5}}, "price")
    for raw in rows:
        selection.add(raw)
    assert selection.rates_needed() == {"CLORE-Blockchain"} and selection.pending_server_id() == 5
    with pytest.raises(NoUsdRate, match=r"^sort_by price and max_price in USD needs a US-dollar price"):
        selection.result(RateBook())
    servers, excluded = selection.result(RateBook({"CLORE-Blockchain": 0.025}, "usd_rates"))
    # 100 CLORE = 2.5 USD, 300 CLORE = 7.5 USD (above the cap), 4 USD: sorted by price, not by id.
    found = [(s["id"], s["usd_per_day"], s["usd_source"]) for s in servers]
    assert found == [(5, 2.5, "usd_rates"), (6, 4.0, "usd_coin")]
    assert excluded["max_price"] == 1


def test_a_sort_that_is_not_in_dollars_needs_no_rate():
    selection = MarketSelection({}, "id")
    selection.add(row(2, {"CLORE-Blockchain": 100.0}))
    assert selection.rates_needed() == set()
    servers, _excluded = selection.result(None)
    assert servers[0]["usd_per_day"] is None


def test_only_the_order_type_compared_waits_for_rates():
    raw = row(7, {"USD-Blockchain": 4.0})
    raw["allowed_coins"] = ["USD-Blockchain", "CLORE-Blockchain"]
    raw["price"]["spot"] = {"CLORE-Blockchain": 50.0}  # a spot minimum in CLORE only, no dollar figure
    on_demand = MarketSelection({}, "price")
    on_demand.add(raw)
    assert on_demand.pending == [] and on_demand.rates_needed() == set()
    spot = MarketSelection({}, "spot_price")
    spot.add(raw)
    assert spot.rates_needed() == {"CLORE-Blockchain"}
    [server], _excluded = spot.result(RateBook({"CLORE-Blockchain": 0.02}, "spot_marketplace"))
    assert (server["spot_usd_per_day"], server["spot_usd_source"]) == (1.0, "spot_marketplace")
