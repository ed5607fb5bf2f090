"""Choosing a spot bid: the least that wins a server, never above the task's cap. Pure functions, no API call.

Clore's spot market is an auction: the highest bid on a server runs, a higher one ends it. A server's spot market
(`spot_marketplace`) lists every standing offer with its currency; bids in different coins compare at the market's
dollar rates. The bid that wins is the larger of the host's minimum and the top rival bid plus a step.
"""
from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.clore.ai.plugins.module_utils.market import (
    DEFAULT_BID_STEP,
    Rival,
    bid_needed,
    default_step,
    host_minimum,
    offers_of,
    rates_of,
    round_up,
    top_rival,
)

# Prices closer than this are equal (float noise of a conversion never decides an auction).
PRICE_EPSILON = 1e-9
__all__ = ["DEFAULT_BID_STEP", "PRICE_EPSILON", "BidChoice", "Rival", "bid_needed", "choose_bid", "free_server_bid",
           "my_offer", "rival_text", "round_up", "top_rival", "wins"]


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
