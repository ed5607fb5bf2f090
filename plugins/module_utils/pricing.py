"""The price model: per server and order type, the native price in each coin and a US-dollar price per coin from the
best evidence, each saying where it came from (`usd_source`).

Evidence, best first (docs/market.md "How prices are compared"):
  usd_coin          USD-Blockchain is 1 USD
  price.usd         the row's dollar figures: on_demand_usd / on_demand_clore / on_demand_btc, and `spot`
  price.<type>.usd  a `usd` key inside price.on_demand / price.spot (the row's one dollar price for that type)
  price.original_usd  per coin {on_demand, spot}
  market_rates      the coin's rate from the same marketplace answer (the median over rows that carry both figures)
  spot_marketplace  the coin's rate from one spot_marketplace answer (`currency_rates_in_usd`)
  usd_rates         the rate the user gave
The first four read one row; the last three are coin rates (RateBook). No module imports here: plain data in, out.
"""
from __future__ import annotations

import math
import statistics
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import (
    BITCOIN,
    CLORE,
    CURRENCY_PREFERENCE,
    KNOWN_CURRENCIES,
    USD_COIN,
    canonical_currency,
)
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError

ON_DEMAND = "on-demand"
SPOT = "spot"
# The key of each order type inside a row's `price`.
PRICE_KEYS = {ON_DEMAND: "on_demand", SPOT: "spot"}

USD_COIN_SOURCE = "usd_coin"
PRICE_USD = "price.usd"
NESTED_USD = "price.{type}.usd"
ORIGINAL_USD = "price.original_usd"
MARKET_RATES = "market_rates"
SPOT_MARKET_RATES = "spot_marketplace"
USER_RATES = "usd_rates"
ORDER_USD = "original_price_usd"
RATE_SOURCES = (MARKET_RATES, SPOT_MARKET_RATES, USER_RATES)

# price.usd keys of the on-demand price in each coin (every variant the API's clients show).
PRICE_USD_KEYS = {"on_demand_usd": USD_COIN, "on_demand_clore": CLORE, "on_demand_btc": BITCOIN}
# The key a row's price maps use for a dollar figure rather than a coin.
NESTED_USD_KEY = "usd"

USD_RATES_SPEC: dict[str, dict[str, Any]] = {"usd_rates": {"type": "dict"}}


class NoUsdRate(CloreError):
    """A US-dollar comparison was asked for, and no evidence prices some coin in dollars."""


def _number(value: Any) -> float | None:
    """A finite, non-negative float from a number or a numeric string, or None (bools and NaN are no price)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def native_prices(value: Any) -> dict[str, float]:
    """{coin: per-day price} of one order type's price map, without the `usd` key (a dollar figure, not a coin)."""
    if not isinstance(value, dict):
        return {}
    prices = {}
    for coin, amount in value.items():
        number = _number(amount)
        if number is not None and isinstance(coin, str) and coin != NESTED_USD_KEY:
            prices[coin] = number
    return prices


def row_usd(price: Any, order_type: str, coins: Iterable[str]) -> dict[str, tuple[float, str]]:
    """{coin: (US dollars per day, usd_source)} for the coins whose dollar price one row's `price` gives by itself."""
    price = price if isinstance(price, dict) else {}
    key = PRICE_KEYS[order_type]
    native = native_prices(price.get(key))
    usd = price.get("usd") if isinstance(price.get("usd"), dict) else {}
    nested = price.get(key).get(NESTED_USD_KEY) if isinstance(price.get(key), dict) else None
    original = price.get("original_usd") if isinstance(price.get("original_usd"), dict) else {}
    # A `usd` key inside a price map is one figure naming no coin: it prices a coin only when the map has that coin
    # alone. With several coins (each priced on its own by the host) it could be any of them; coin rates price them.
    sole = next(iter(native)) if len(native) == 1 else None
    found: dict[str, tuple[float, str]] = {}
    for coin in coins:
        if coin == USD_COIN and coin in native:
            found[coin] = (native[coin], USD_COIN_SOURCE)
            continue
        if order_type == ON_DEMAND:
            from_usd = next((_number(usd.get(k)) for k, c in PRICE_USD_KEYS.items()
                             if c == coin and _number(usd.get(k)) is not None), None)
        else:
            # One `spot` figure for the whole row: the spot minimum in dollars, whichever coin pays it.
            from_usd = _number(usd.get("spot")) if coin in native else None
        per_coin = original.get(coin) if isinstance(original.get(coin), dict) else {}
        for value, source in ((from_usd, PRICE_USD),
                              (_number(nested) if coin == sole else None, NESTED_USD.format(type=key)),
                              (_number(per_coin.get(key)), ORIGINAL_USD)):
            if value is not None:
                found[coin] = (value, source)
                break
    return found


class MarketRates:
    """Coin rates from one marketplace answer, fed one row at a time: each row that gives a coin's native price and
    its dollar figure is a sample (dollars / native); the rate is the median. Only the samples are kept."""

    def __init__(self) -> None:
        self._samples: dict[str, array] = {}

    def add(self, raw: Any) -> None:
        price = raw.get("price") if isinstance(raw, dict) else None
        if not isinstance(price, dict):
            return
        for order_type in (ON_DEMAND, SPOT):
            native = native_prices(price.get(PRICE_KEYS[order_type]))
            for coin, (dollars, source) in row_usd(price, order_type, native).items():
                amount = native[coin]
                if source != USD_COIN_SOURCE and amount > 0 and dollars > 0:
                    self._samples.setdefault(coin, array("d")).append(dollars / amount)

    def rates(self) -> dict[str, float]:
        """US dollars per unit of each coin the answer prices; USD-Blockchain is 1."""
        rates = {coin: statistics.median(values) for coin, values in self._samples.items()}
        rates[USD_COIN] = 1.0
        return rates


def market_rates(raw_servers: Iterable[Any] | None) -> dict[str, float]:
    """MarketRates over a whole list of marketplace rows."""
    rates = MarketRates()
    for raw in raw_servers or ():
        rates.add(raw)
    return rates.rates()


class Rates(dict):
    """{coin: US dollars per unit}, as currencies.convert takes them, with `sources`: {coin: usd_source}."""

    sources: dict[str, str]


class RateBook:
    """US dollars per coin, each rate with its source; a rate once known is never replaced by a later source."""

    def __init__(self, rates: Mapping[str, float] | None = None, source: str = MARKET_RATES) -> None:
        self._rates: dict[str, tuple[float, str]] = {USD_COIN: (1.0, USD_COIN_SOURCE)}
        if rates:
            self.add(rates, source)

    def add(self, rates: Any, source: str) -> None:
        if not isinstance(rates, Mapping):
            return
        for name, value in rates.items():
            coin = canonical_currency(name)
            number = _number(value)
            if coin is not None and coin not in self._rates and number:
                self._rates[coin] = (number, source)

    def rate(self, coin: str) -> tuple[float, str] | None:
        return self._rates.get(coin)

    def missing(self, coins: Iterable[str]) -> list[str]:
        """The known coins among `coins` without a rate, in CURRENCY_PREFERENCE order."""
        wanted = set(coins)
        return [coin for coin in CURRENCY_PREFERENCE if coin in wanted and coin not in self._rates]

    def as_dict(self) -> Rates:
        """{coin: rate}, for the conversions that take plain rates (currencies.convert), with their sources."""
        rates = Rates((coin, rate) for coin, (rate, _source) in self._rates.items())
        rates.sources = self.sources()
        return rates

    def sources(self) -> dict[str, str]:
        return {coin: source for coin, (_rate, source) in self._rates.items()}


def check_usd_rates(value: Any, option: str = "usd_rates") -> dict[str, float] | None:
    """The usd_rates option as {coin: US dollars per unit}; CloreConfigError naming the entry and the rule."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CloreConfigError(f"{option}: expected a dict such as {{CLORE-Blockchain: 0.025, bitcoin: 60000}}, "
                               f"got {type(value).__name__}", option=option)
    rates = {}
    for name, rate in value.items():
        coin = canonical_currency(name)
        if coin is None:
            raise CloreConfigError(f"{option}: {name!r} is not a coin; use {', '.join(KNOWN_CURRENCIES)}",
                                   option=option)
        number = _number(rate)
        if not number:
            raise CloreConfigError(f"{option}.{name}: {rate!r} is not a positive number of US dollars per unit",
                                   option=option)
        rates[coin] = number
    return rates


def complete_rates(book: RateBook, needed: Iterable[str], user_rates: Mapping[str, float] | None,
                   spot_market=None) -> RateBook:
    """Fill `book` for the `needed` coins: first from one spot_marketplace answer (`spot_market()` makes the one call;
    it is made only when a needed coin has no rate yet), then from the user's usd_rates. Returns `book`."""
    needed = list(needed)
    if book.missing(needed) and spot_market is not None:
        try:
            answer = spot_market()
        except CloreError:
            answer = None  # the user's rates may still cover it; require_rates says what is missing
        market = answer.get("market") if isinstance(answer, dict) else None
        if isinstance(market, dict):
            book.add(market.get("currency_rates_in_usd"), SPOT_MARKET_RATES)
        elif isinstance(answer, dict):
            book.add(answer.get("currency_rates_in_usd"), SPOT_MARKET_RATES)
    if book.missing(needed) and user_rates:
        book.add(user_rates, USER_RATES)
    return book


def require_rates(book: RateBook, needed: Iterable[str], what: str) -> None:
    """NoUsdRate naming the coins no evidence prices and what to pass instead, when `what` needs them."""
    missing = book.missing(needed)
    if missing:
        example = ", ".join(f"{coin}: <US dollars per {coin}>" for coin in missing)
        raise NoUsdRate(
            f"{what} needs a US-dollar price, and nothing gives one for {', '.join(missing)}: the marketplace rows "
            f"carry no dollar figures for it and spot_marketplace gave no rate. Pass usd_rates: {{{example}}}, or "
            f"limit currencies to coins that are priced, or set max_price.currency to the coin"
        )


def usd_by_currency(row_figures: Mapping[str, Any], native: Mapping[str, float], book: RateBook | None
                    ) -> dict[str, tuple[float, str]]:
    """{coin: (US dollars per day, usd_source)}: the row's own figures, then the book's rate times the native price."""
    priced = {coin: (float(v[0]), v[1]) for coin, v in row_figures.items()}
    if book is not None:
        for coin, amount in native.items():
            if coin not in priced and (rate := book.rate(coin)) is not None:
                priced[coin] = (amount * rate[0], rate[1])
    return priced


def cheapest(priced: Mapping[str, tuple[float, str]], currencies: Iterable[str]) -> tuple[str, float, str] | None:
    """(coin, US dollars per day, usd_source) of the cheapest of `currencies` that is priced; ties in
    CURRENCY_PREFERENCE order. None when none is priced."""
    order = {coin: i for i, coin in enumerate(CURRENCY_PREFERENCE)}
    offers = [(value, order.get(coin, len(order)), coin, source)
              for coin in currencies if coin in priced for value, source in (priced[coin],)]
    if not offers:
        return None
    value, _rank, coin, source = min(offers)
    return coin, value, source


def order_usd(currency: str | None, price: float | None, spend: float | None, original_usd: Any,
              rates: Mapping[str, float] | None = None) -> dict[str, Any]:
    """An order's price and spend in US dollars, and where the figure came from: USD-Blockchain is one dollar; the
    order's own `original_price_usd` (its price per day in dollars, whose ratio to `price` also converts `spend`);
    else the coin's rate in `rates` (a RateBook's as_dict(), whose `sources` name it). None where nothing prices it."""
    original = _number(original_usd)
    rate: float | None = None
    source = None
    if currency == USD_COIN:
        rate, source = 1.0, USD_COIN_SOURCE
    elif original is not None and price:
        rate, source = original / price, ORDER_USD
    elif currency and rates and _number(rates.get(currency)):
        rate, source = float(rates[currency]), getattr(rates, "sources", {}).get(currency, MARKET_RATES)
    usd_day = original if source == ORDER_USD else (price * rate if rate is not None and price is not None else None)
    usd_spend = spend * rate if rate is not None and spend is not None else None
    return {
        "usd_per_day": None if usd_day is None else round(usd_day, 8),
        "usd_per_hour": None if usd_day is None else round(usd_day / 24, 8),
        "spend_usd": None if usd_spend is None else round(usd_spend, 8),
        "usd_source": source if usd_day is not None or usd_spend is not None else None,
    }


def round_usd(value: float | None) -> float | None:
    """Dollar figures to a millionth: readable, and finer than any price step."""
    return None if value is None else round(value, 6)
