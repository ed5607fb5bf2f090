"""The coins Clore accepts, their names, and conversion between them at the market's own dollar rates.

Shared by the market, clore_order's plans and budgets, and every report that adds up prices: defined once here.
"""
from __future__ import annotations

import statistics
from array import array
from typing import Any

# The coins, as the API spells them.
BITCOIN = "bitcoin"
CLORE = "CLORE-Blockchain"
USD_COIN = "USD-Blockchain"
KNOWN_CURRENCIES = (USD_COIN, CLORE, BITCOIN)
# The default choice when a server accepts several coins: a dollar-pegged price first, then the native coin.
CURRENCY_PREFERENCE: tuple[str, ...] = (USD_COIN, CLORE, BITCOIN)
# "USD" in a price, cap or budget means US dollars (the equivalent from `price.usd`), whatever coin is paid.
USD = "USD"
_CURRENCY_ALIASES = {
    "bitcoin": BITCOIN,
    "btc": BITCOIN,
    "clore": CLORE,
    "clore-blockchain": CLORE,
    "usd-blockchain": USD_COIN,
}
# Which `price.usd` field of a marketplace row is the dollar equivalent of the on-demand price in which coin.
USD_EQUIVALENT_FIELDS = (("on_demand_usd", USD_COIN), ("on_demand_clore", CLORE), ("on_demand_btc", BITCOIN))


def canonical_currency(name: Any, allow_usd: bool = False) -> str | None:
    """The API's spelling of a coin (aliases BTC, CLORE, ... accepted case-insensitively), or None if unknown.

    With allow_usd, "USD" (any case) stands for the US-dollar equivalent and is returned as "USD".
    """
    if not isinstance(name, str) or not name.strip():
        return None
    key = name.strip().lower()
    if allow_usd and key == "usd":
        return USD
    return _CURRENCY_ALIASES.get(key)


class UsdRates:
    """usd_rates fed one marketplace row at a time, for a listing that is never held whole: add() each row, then
    rates(). Only the dollar figures are kept (8 bytes each, at most three a row) for their medians."""

    def __init__(self) -> None:
        self._samples: dict[str, array] = {}

    def add(self, raw: Any) -> None:
        price = raw.get("price") if isinstance(raw, dict) else None
        if not isinstance(price, dict):
            return
        on_demand, usd = price.get("on_demand"), price.get("usd")
        if not isinstance(on_demand, dict) or not isinstance(usd, dict):
            return
        for usd_field, currency in USD_EQUIVALENT_FIELDS:
            try:
                amount, dollars = float(on_demand[currency]), float(usd[usd_field])
            except (KeyError, TypeError, ValueError):
                continue
            if 0 < amount < float("inf") and 0 < dollars < float("inf"):
                self._samples.setdefault(currency, array("d")).append(dollars / amount)

    def rates(self) -> dict[str, float]:
        """US dollars per unit of each coin, the median over the rows added; USD-Blockchain is 1."""
        rates = {currency: statistics.median(values) for currency, values in self._samples.items()}
        rates[USD_COIN] = 1.0
        return rates


def usd_rates(raw_servers: list) -> dict[str, float]:
    """US dollars per unit of each coin, the median over the market's own dollar figures; USD-Blockchain is 1."""
    rates = UsdRates()
    for raw in raw_servers or []:
        rates.add(raw)
    return rates.rates()


def convert(amount: float, currency: str, target: str, rates: dict[str, float]) -> float | None:
    """amount in `currency` expressed in `target` ('USD' or a coin); None when a rate is unknown."""
    if currency == target or (target == USD and currency == USD_COIN):
        return amount
    to_usd = 1.0 if currency == USD else rates.get(currency)
    if to_usd is None:
        return None
    dollars = amount * to_usd
    if target in (USD, USD_COIN):
        return dollars
    from_usd = rates.get(target)
    return dollars / from_usd if from_usd else None
