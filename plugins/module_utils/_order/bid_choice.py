"""Choosing a spot bid: the least that wins a server, never above the task's cap. Pure functions, no API call.

Clore's spot market is an auction: the highest bid on a server runs, a higher one ends it. A server's spot market
(`spot_marketplace`) lists every standing offer with its currency; bids in different coins compare at the market's
dollar rates. The bid that wins is the larger of the host's minimum and the top rival bid plus a step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ansible_collections.clore.ai.plugins.module_utils.currencies import BITCOIN, CLORE, USD, USD_COIN, convert

# The default spot_bid_step per coin: about one US cent a day (1 CLORE is about 0.025 USD, 1 BTC about 60,000 USD).
DEFAULT_BID_STEP = {USD_COIN: 0.01, CLORE: 1.0, BITCOIN: 0.0000002}
# Bids are rounded up to this many decimals (bitcoin's satoshi), so that float noise never lowers a bid below
# the one it must beat.
BID_DECIMALS = 8
PRICE_EPSILON = 1e-9


@dataclass(frozen=True)
class Rival:
    """The top bid on a server that is not ours, in its own currency and in ours (None without a rate)."""

    bid: float
    currency: str
    in_ours: float | None
    active: bool


@dataclass(frozen=True)
class BidChoice:
    """What to bid on one server: `bid` is None when winning needs more than the cap (`needed` says how much)."""

    currency: str
    needed: float | None
    bid: float | None
    rival: Rival | None
    minimum: float | None
    cap: float | None

    @property
    def within_cap(self) -> bool:
        return self.bid is not None

    def refusal(self) -> str:
        """Why no bid is placed (for skipped_servers and failure messages)."""
        if self.needed is None:
            return (f"the top rival bid {self.rival.bid:g} {self.rival.currency}/day cannot be converted to "
                    f"{self.currency}: no exchange rate") if self.rival else f"no spot price in {self.currency}"
        rival = f"the top rival bid is {_rival_text(self.rival, self.currency)}; " if self.rival else ""
        return (f"{rival}winning needs a bid of {self.needed:g} {self.currency}/day, above spot_max_price "
                f"{self.cap:g} {self.currency}/day")


def default_step(currency: str) -> float:
    return DEFAULT_BID_STEP.get(currency, DEFAULT_BID_STEP[USD_COIN])


def round_up(value: float) -> float:
    """value rounded up to BID_DECIMALS (the float noise of an addition is dropped first)."""
    scale = 10 ** BID_DECIMALS
    return math.ceil(round(value * scale, 3)) / scale


def rates_of(market: dict, fallback: dict[str, float] | None = None) -> dict[str, float]:
    """US dollars per coin: the spot market's own `currency_rates_in_usd`, then `fallback` (the marketplace's)."""
    rates = dict(fallback or {})
    given = market.get("currency_rates_in_usd")
    for currency, rate in (given.items() if isinstance(given, dict) else ()):
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate < math.inf:
            rates[currency] = float(rate)
    rates.setdefault(USD_COIN, 1.0)
    return rates


def offers_of(market: dict) -> list[dict]:
    """The readable offers of a spot market: each with a numeric bid and a currency."""
    offers = market.get("offers") if isinstance(market.get("offers"), list) else []
    return [o for o in offers if isinstance(o, dict) and _number(o.get("bid")) is not None and o.get("currency")]


def host_minimum(market: dict, currency: str) -> float | None:
    server = market.get("server") if isinstance(market.get("server"), dict) else {}
    pricing = server.get("min_pricing") if isinstance(server.get("min_pricing"), dict) else {}
    return _number(pricing.get(currency))


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


def choose_bid(market: dict, currency: str, cap: float | None, step: float | None = None,
               ours: frozenset[int] | set[int] = frozenset(), fallback_rates: dict[str, float] | None = None
               ) -> BidChoice:
    """The bid for one server's spot market (as `client.spot_marketplace` returns it), in `currency`, within `cap`."""
    rates = rates_of(market, fallback_rates)
    rival = top_rival(offers_of(market), currency, rates, ours)
    minimum = host_minimum(market, currency)
    needed = bid_needed(minimum, rival, default_step(currency) if step is None else step)
    bid = needed if needed is not None and (cap is None or needed <= cap + PRICE_EPSILON) else None
    return BidChoice(currency, needed, bid, rival, minimum, cap)


def free_server_bid(minimum: float | None, cap: float) -> float | None:
    """The bid on a server nobody bids on: the host's minimum, when the cap allows it (None: no price, or above)."""
    if minimum is None or minimum > cap + PRICE_EPSILON:
        return None
    return round_up(minimum)


def my_offer(market: dict, order_id: int) -> dict | None:
    """Our order's offer in a spot market (by offer id), or None when it is not listed."""
    return next((o for o in offers_of(market) if o.get("offer_id") == order_id), None)


def wins(bid: float, rival: Rival | None) -> bool:
    """Whether `bid` (in the rival's converted currency) is strictly above the rival's: ties go to the running bid."""
    return rival is None or (rival.in_ours is not None and bid > rival.in_ours + PRICE_EPSILON)


def _rival_text(rival: Rival, currency: str) -> str:
    text = f"{rival.bid:g} {rival.currency}/day"
    if rival.currency != currency and rival.in_ours is not None:
        text += f" ({rival.in_ours:g} {currency}/day)"
    return text


def rival_text(rival: Rival | None, currency: str) -> str:
    return "none" if rival is None else _rival_text(rival, currency)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def market_summary(market: dict) -> dict:
    """For clore_market_info: the active bid on a server and, per currency the host takes, the least bid that wins
    it (the host's minimum, or the top bid of others plus the default step)."""
    rates = rates_of(market)
    offers = offers_of(market)
    active = next((o for o in offers if o.get("active")), None)
    server = market.get("server") if isinstance(market.get("server"), dict) else {}
    pricing = server.get("min_pricing") if isinstance(server.get("min_pricing"), dict) else {}
    needed = {}
    for currency in pricing:
        choice = choose_bid(market, currency, None)
        needed[currency] = choice.needed
    return {
        "top_active_bid": None if active is None else float(active["bid"]),
        "top_active_currency": None if active is None else active["currency"],
        "top_active_usd": None if active is None else convert(float(active["bid"]), active["currency"], USD, rates),
        "top_active_mine": None if active is None else bool(active.get("my")),
        "bid_needed": needed,
    }
