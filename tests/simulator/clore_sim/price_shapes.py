"""How marketplace rows carry prices (--price-shape): the shapes real answers and public clients show.

Whatever the shape, clore-sim keeps one truth: each server's price per coin (`price.on_demand`, `price.spot`, what
it charges) and its own USD rate per coin (market.USD_RATES, served as spot_marketplace's `currency_rates_in_usd`).
A shape only changes what a marketplace row says about dollars (and, for `none`, which coins a market accepts):
  usd-keys      `price.usd` on every row: `on_demand_<coin>` per accepted coin and `spot` (the first coin's minimum)
  usd-partial   `price.usd` on three rows in four, without `on_demand_usd` on odd ids and without `spot` on some
  nested-usd    a `usd` key inside `price.on_demand` and `price.spot` (the first accepted coin's price in USD)
  original-usd  `price.original_usd`: per coin `{on_demand, spot}` in USD
  none          the 2024 answer: no USD anywhere, coins bitcoin and CLORE-Blockchain only, some rows bitcoin only,
                some spot minimums equal to or above the on-demand price (see as_2024)
"""
from __future__ import annotations

import random
from collections.abc import Callable

PRICE_SHAPES = ("usd-keys", "usd-partial", "nested-usd", "original-usd", "none")
DEFAULT_PRICE_SHAPE = "usd-keys"
USD_KEYS = {"USD-Blockchain": "on_demand_usd", "CLORE-Blockchain": "on_demand_clore", "bitcoin": "on_demand_btc"}
COINS_2024 = ("CLORE-Blockchain", "bitcoin")
# Shares of the 2024 answer (3,500 rows): 285 accept bitcoin only, 1,101 have a spot minimum equal to the on-demand
# price and 128 one above it.
BITCOIN_ONLY_SHARE = 285 / 3500
SPOT_EQUAL_SHARE = 1101 / 3500
SPOT_ABOVE_SHARE = 128 / 3500


def _usd(amount: float, coin: str, rates: dict[str, float]) -> float:
    return round(amount * rates[coin], 4)


def usd_keys(price: dict, coins: list[str], rates: dict[str, float]) -> dict[str, float]:
    """`price.usd`: every accepted coin's on-demand price and the first coin's spot minimum, in USD per day."""
    on_demand, spot = price["on_demand"], price["spot"]
    usd = {USD_KEYS[coin]: _usd(on_demand[coin], coin, rates) for coin in coins if coin in on_demand}
    if coins and coins[0] in spot:
        usd["spot"] = _usd(spot[coins[0]], coins[0], rates)
    return usd


def served_price(server: dict, shape: str, rates: dict[str, float]) -> dict:
    """The `price` object of a marketplace row in `shape`, from the server's prices per coin."""
    price = server["price"]
    on_demand, spot = dict(price["on_demand"]), dict(price["spot"])
    coins = [coin for coin in server.get("allowed_coins") or list(on_demand) if coin in rates]
    if shape == "usd-keys":
        return {"on_demand": on_demand, "spot": spot, "usd": usd_keys(price, coins, rates)}
    if shape == "usd-partial":
        server_id = int(server.get("id") or 0)
        if server_id % 4 == 3:
            return {"on_demand": on_demand, "spot": spot}
        usd = usd_keys(price, coins, rates)
        if server_id % 2:
            usd.pop("on_demand_usd", None)
        if server_id % 8 == 0:
            usd.pop("spot", None)
        return {"on_demand": on_demand, "spot": spot, "usd": usd}
    if shape == "nested-usd":
        first = next((coin for coin in coins if coin in on_demand), None)
        if first is not None:
            on_demand["usd"] = _usd(price["on_demand"][first], first, rates)
            if first in spot:
                spot["usd"] = _usd(price["spot"][first], first, rates)
        return {"on_demand": on_demand, "spot": spot}
    if shape == "original-usd":
        original = {coin: {"on_demand": _usd(on_demand[coin], coin, rates),
                           "spot": _usd(spot.get(coin, on_demand[coin]), coin, rates)}
                    for coin in coins if coin in on_demand}
        return {"on_demand": on_demand, "spot": spot, "original_usd": original}
    return {"on_demand": on_demand, "spot": spot}  # none


def as_2024(servers: list[dict], seed: int, rates: dict[str, float],
            round_coin: Callable[[float, str], float]) -> None:
    """Turn a generated market into the 2024 answer's kind (in place): bitcoin and CLORE-Blockchain only, some rows
    bitcoin only, some spot minimums at or above the on-demand price. Draws from its own generator, so that the
    market's servers, models and ids stay those of the same seed in every other shape."""
    rng = random.Random(f"{seed}:2024")
    for server in servers:
        price = server["price"]
        usd_day = min(price["on_demand"][c] * rates[c] for c in price["on_demand"])
        spot_ratio = min(price["spot"][c] / price["on_demand"][c] for c in price["on_demand"])
        coins = [c for c in server["allowed_coins"] if c in COINS_2024] or ["bitcoin"]
        if rng.random() < BITCOIN_ONLY_SHARE:
            coins = ["bitcoin"]
        roll = rng.random()
        if roll < SPOT_ABOVE_SHARE:
            spot_ratio = rng.uniform(1.01, 1.2)
        elif roll < SPOT_ABOVE_SHARE + SPOT_EQUAL_SHARE:
            spot_ratio = 1.0
        on_demand = {c: price["on_demand"][c] if c in price["on_demand"] else round_coin(usd_day / rates[c], c)
                     for c in coins}
        server["allowed_coins"] = coins
        price["on_demand"] = on_demand
        price["spot"] = {c: round_coin(value * spot_ratio, c) for c, value in on_demand.items()}
        price.pop("usd", None)
