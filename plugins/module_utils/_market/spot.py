"""Reading one server's spot market (a `spot_marketplace` answer): its offers, its coin rates, the host's minimum,
the top bid of others, and the least bid that wins it. Pure functions, no API call.

Clore's spot market is an auction: the highest bid on a server runs, a higher one ends it. Offers in different coins
compare at the answer's own dollar rates; the bid that wins is the larger of the host's minimum and the top rival bid
plus a step (about one US cent a day by default), rounded up to BID_DECIMALS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import BITCOIN, CLORE, USD, USD_COIN, convert

# The default bid step per coin: about one US cent a day (1 CLORE is about 0.025 USD, 1 BTC about 60,000 USD).
DEFAULT_BID_STEP = {USD_COIN: 0.01, CLORE: 1.0, BITCOIN: 0.0000002}
# Bids are rounded up to this many decimals (bitcoin's satoshi), so that float noise never lowers a bid below
# the one it must beat.
BID_DECIMALS = 8
# The fields of an offer shown to the user (the answer may carry more).
_OFFER_FIELDS = ("offer_id", "bid", "active", "my", "currency")


@dataclass(frozen=True)
class Rival:
    """The top bid on a server that is not ours, in its own currency and in ours (None without a rate)."""

    bid: float
    currency: str
    in_ours: float | None
    active: bool


def default_step(currency: str) -> float:
    return DEFAULT_BID_STEP.get(currency, DEFAULT_BID_STEP[USD_COIN])


def round_up(value: float) -> float:
    """value rounded up to BID_DECIMALS (the float noise of an addition is dropped first)."""
    scale = 10 ** BID_DECIMALS
    return math.ceil(round(value * scale, 3)) / scale


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def rates_of(market: dict, fallback: dict[str, float] | None = None) -> dict[str, float]:
    """US dollars per coin: the spot market's own `currency_rates_in_usd`, then `fallback` (the marketplace's)."""
    rates = dict(fallback or {})
    for currency, rate in _dict(market.get("currency_rates_in_usd")).items():
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate < math.inf:
            rates[currency] = float(rate)
    rates.setdefault(USD_COIN, 1.0)
    return rates


def offers_of(market: dict) -> list[dict]:
    """The readable offers of a spot market: each with a numeric bid and a currency."""
    offers = market.get("offers") if isinstance(market.get("offers"), list) else []
    return [o for o in offers if isinstance(o, dict) and _number(o.get("bid")) is not None and o.get("currency")]


def host_minimum(market: dict, currency: str) -> float | None:
    return _number(_dict(_dict(market.get("server")).get("min_pricing")).get(currency))


def top_rival(offers: list[dict], currency: str, rates: dict[str, float],
              ours: frozenset[int] | set[int] = frozenset()) -> Rival | None:
    """The highest offer that is not ours (`my` false and not one of `ours`), compared in US dollars."""
    best: tuple[float, Rival] | None = None
    for offer in offers:
        if offer.get("my") or offer.get("offer_id") in ours:
            continue
        bid, coin = float(offer["bid"]), str(offer["currency"])
        usd = convert(bid, coin, USD, rates)
        rival = Rival(bid, coin, convert(bid, coin, currency, rates), bool(offer.get("active")))
        key = usd if usd is not None else math.inf  # an unconvertible bid is assumed high: never underbid it
        if best is None or key > best[0]:
            best = (key, rival)
    return best[1] if best else None


def bid_needed(minimum: float | None, rival: Rival | None, step: float) -> float | None:
    """The least bid that wins: the host's minimum, or the top rival bid plus `step` when that is more."""
    if rival is not None and rival.in_ours is None:
        return None
    floors = [value for value in (minimum, None if rival is None else rival.in_ours + step) if value is not None]
    return round_up(max(floors)) if floors else None


def spot_market_summary(market: dict) -> dict:
    """The active bid on a server and, per currency the host takes, the least bid that wins it (the host's minimum,
    or the top bid of others plus the default step)."""
    rates = rates_of(market)
    offers = offers_of(market)
    active = next((o for o in offers if o.get("active")), None)
    needed = {currency: bid_needed(host_minimum(market, currency), top_rival(offers, currency, rates),
                                   default_step(currency))
              for currency in _dict(_dict(market.get("server")).get("min_pricing"))}
    return {
        "top_active_bid": None if active is None else float(active["bid"]),
        "top_active_currency": None if active is None else active["currency"],
        "top_active_usd": None if active is None else convert(float(active["bid"]), active["currency"], USD, rates),
        "top_active_mine": None if active is None else bool(active.get("my")),
        "bid_needed": needed,
    }


def spot_market_view(market: dict) -> dict:
    """What clore_market_info returns of one server's spot market: the parts a user needs, read defensively, and
    its summary."""
    server = _dict(market.get("server"))
    offers = market.get("offers") if isinstance(market.get("offers"), list) else []
    return {
        "exists": market.get("exists"),
        "offers": [{k: o.get(k) for k in _OFFER_FIELDS} for o in offers if isinstance(o, dict)],
        "min_pricing": _dict(server.get("min_pricing")),
        "currency_rates_in_usd": _dict(market.get("currency_rates_in_usd")),
        "mrl": server.get("mrl"),
        "visibility": server.get("visibility"),
        "online": server.get("online"),
        **spot_market_summary(market),
    }
