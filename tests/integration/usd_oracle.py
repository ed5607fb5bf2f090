"""Dollar prices of raw marketplace rows, computed the way docs/market.md defines them, without the collection.

Whatever --price-shape clore-sim serves, it charges each server's coin prices (`price.on_demand`, `price.spot`) and
converts them at its own rates, served as spot_marketplace's `currency_rates_in_usd`. The price an order would pay in
dollars is a coin price times that rate, the cheapest over the coins the server accepts (ties in the order
USD-Blockchain, CLORE-Blockchain, bitcoin). The rows' own dollar figures are never read here: they exist in some
shapes only, and they are what the collection reads.
"""
from __future__ import annotations

from collections.abc import Iterable

import requests
from clore_sim.testing import SimServer

COIN_PREFERENCE = ("USD-Blockchain", "CLORE-Blockchain", "bitcoin")
# Rows carry dollar figures rounded to 4 decimals (the market's rates are medians of such figures): a figure read
# by the collection and one computed here may differ by this much.
USD_TOLERANCE = 1e-4


def sim_rates(sim: SimServer, server_id: int) -> dict[str, float]:
    """clore-sim's own US dollars per coin, from one spot_marketplace call (the caller resets the counters after)."""
    answer = requests.get(f"{sim.api_url}/spot_marketplace", params={"market": server_id},
                          headers={"auth": sim.api_key}, timeout=30)
    answer.raise_for_status()
    return answer.json()["market"]["currency_rates_in_usd"]


def usd_by_coin(row: dict, rates: dict[str, float], order_type: str = "on_demand") -> dict[str, float]:
    """{coin: US dollars per day} for each coin the server accepts and prices (order_type: on_demand or spot)."""
    prices = row["price"][order_type]
    return {coin: prices[coin] * rates[coin] for coin in row.get("allowed_coins", []) if coin in prices}


def cheapest(row: dict, rates: dict[str, float], coins: Iterable[str] | None = None,
             order_type: str = "on_demand") -> tuple[float, str] | None:
    """(US dollars per day, coin) of the cheapest accepted coin (among `coins` if given), or None."""
    allowed = set(COIN_PREFERENCE if coins is None else coins)
    offers = [(usd, COIN_PREFERENCE.index(coin), coin) for coin, usd in usd_by_coin(row, rates, order_type).items()
              if coin in allowed]
    return (min(offers)[0], min(offers)[2]) if offers else None


def usd_per_day(row: dict, rates: dict[str, float]) -> float | None:
    """The on-demand price an order would pay, in US dollars per day."""
    found = cheapest(row, rates)
    return None if found is None else found[0]


def carries_usd(row: dict, coin: str) -> bool:
    """Whether the row itself says what `coin` costs in dollars (any shape's key; the figure is not read). A `usd`
    key inside the on-demand map names no coin: it says a coin's dollar price only when that coin is alone there
    (docs/market.md, How prices are compared)."""
    price = row.get("price", {})
    usd_keys = {"USD-Blockchain": "on_demand_usd", "CLORE-Blockchain": "on_demand_clore", "bitcoin": "on_demand_btc"}
    coins_on_demand = [key for key in price.get("on_demand", {}) if key != "usd"]
    return (coin == "USD-Blockchain" or usd_keys[coin] in price.get("usd", {})
            or ("usd" in price.get("on_demand", {}) and coins_on_demand == [coin])
            or coin in price.get("original_usd", {}))


def rate_lookups(rows: list[dict], market: list[dict]) -> int:
    """spot_marketplace calls a dollar comparison of `rows` may make for rates: one when a coin they accept is
    priced in dollars by no row of the whole answer `market`, else none (docs/market.md: at most one per task)."""
    coins = {coin for row in rows for coin in row.get("allowed_coins", [])}
    unpriced = [coin for coin in coins if not any(carries_usd(row, coin) for row in market)]
    return 1 if unpriced else 0


def in_order(values: list[float], descending: bool = False) -> bool:
    """Whether `values` are sorted, up to USD_TOLERANCE (two servers that close may come in either order)."""
    sign = -1 if descending else 1
    return all(sign * (b - a) >= -USD_TOLERANCE for a, b in zip(values, values[1:]))
