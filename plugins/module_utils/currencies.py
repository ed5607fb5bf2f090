"""The coins Clore accepts, their names, and conversion between them at given dollar rates.

Shared by the market, clore_order's plans and budgets, and every report that adds up prices: defined once here.
Where the rates come from is the price model's business (pricing.py).
"""
from __future__ import annotations

from typing import Any

# The coins, as the API spells them.
BITCOIN = "bitcoin"
CLORE = "CLORE-Blockchain"
USD_COIN = "USD-Blockchain"
KNOWN_CURRENCIES = (USD_COIN, CLORE, BITCOIN)
# The default choice when a server accepts several coins: a dollar-pegged price first, then the native coin.
CURRENCY_PREFERENCE: tuple[str, ...] = (USD_COIN, CLORE, BITCOIN)
# "USD" in a price, cap or budget means US dollars (the price model's dollar figure), whatever coin is paid.
USD = "USD"
_CURRENCY_ALIASES = {
    "bitcoin": BITCOIN,
    "btc": BITCOIN,
    "clore": CLORE,
    "clore-blockchain": CLORE,
    "usd-blockchain": USD_COIN,
}


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
