"""Spot as an auction, for clore_order: read each server's spot market once, see which of our bids run, raise those
that lost within the cap, find rented servers worth outbidding, and tell outbid orders apart from other ends.

Reads go through the client (so through the controller's shared rate limiter); the only write is set_spot_price
(rebid.py), skipped in check mode. Choosing a bid is bid_choice.py's, here it is applied.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.market import price_per_day
from ansible_collections.clore.ai.plugins.module_utils._order.rebid import set_bid
from ansible_collections.clore.ai.plugins.module_utils._order.bid_choice import (
    BidChoice,
    choose_bid,
    my_offer,
    rival_text,
)
from ansible_collections.clore.ai.plugins.module_utils._order.plan import Candidate
from ansible_collections.clore.ai.plugins.module_utils._order.request import Terms

ACTIVE, WAITING, OUTBID, ENDED = "active", "waiting", "outbid", "ended"


class SpotMarkets:
    """spot_marketplace answers of this run, by server id: each server is read at most once."""

    def __init__(self, client, fallback_rates: dict[str, float] | None = None):
        self.client = client
        self.fallback_rates = fallback_rates or {}
        self._markets: dict[int, dict] = {}

    def market(self, server_id: int, fresh: bool = False) -> dict:
        if fresh or server_id not in self._markets:
            self._markets[server_id] = self.client.spot_marketplace(server_id)
        return self._markets[server_id]

    def choice(self, server_id: int, terms: Terms, ours: set[int] | None = None, fresh: bool = False) -> BidChoice:
        cap = terms.spot_max_price if terms.spot_max_price is not None else terms.spot_price
        return choose_bid(self.market(server_id, fresh), terms.currency, cap, terms.spot_bid_step, ours or set(),
                          self.fallback_rates)


@dataclass
class SpotReview:
    """What the spot markets say of our orders: `info` per order id (returned on each order), `outbid` entries."""

    info: dict[int, dict] = field(default_factory=dict)
    outbid: list[dict] = field(default_factory=list)
    rebids: list[dict] = field(default_factory=list)  # {id, from, to, currency}
    lost: list[dict] = field(default_factory=list)  # orders that stand, do not run, and cannot win within the cap


def order_info(order: dict, market: dict, choice: BidChoice) -> dict:
    offer = my_offer(market, order["id"])
    active = bool(offer.get("active")) if offer else False
    rival = choice.rival
    return {
        "spot_bid": order.get("price_per_day"),
        "spot_active": active,
        "spot_top_rival_bid": None if rival is None else rival.bid,
        "spot_top_rival_currency": None if rival is None else rival.currency,
        "spot_status": ACTIVE if active else WAITING,
    }


def outbid_entry(order: dict, choice: BidChoice, ended: bool) -> dict:
    rival = choice.rival
    return {
        "id": order["id"],
        "server_id": order["server_id"],
        "currency": order.get("currency"),
        "bid": order.get("price_per_day"),
        "winning_bid": None if rival is None else rival.bid,
        "winning_currency": None if rival is None else rival.currency,
        "bid_needed": choice.needed,
        "status": OUTBID,
        "ended": ended,
    }


def review(markets: SpotMarkets, orders: list[dict], terms: Terms, client, check_mode: bool) -> SpotReview:
    """Read the spot market of each spot order; raise a bid that does not run when the cap allows (spot_rebid)."""
    result = SpotReview()
    for order in orders:
        if not order.get("spot"):
            continue
        market = markets.market(order["server_id"], fresh=True)  # an earlier read of this run predates our bid
        choice = markets.choice(order["server_id"], terms, {order["id"]})
        info = order_info(order, market, choice)
        result.info[order["id"]] = info
        if info["spot_active"]:
            continue
        if my_offer(market, order["id"]) is None:
            # Not in its server's market: it has just ended (my_orders tells, and the wait reports it as outbid).
            info["spot_status"] = ENDED
            continue
        if terms.rebids and choice.bid is not None and choice.bid > (order.get("price_per_day") or 0):
            result.rebids.append({"id": order["id"], "from": order.get("price_per_day"), "to": choice.bid,
                                  "currency": order.get("currency")})
            if not check_mode:
                set_bid(client, order, choice.bid)
                market = markets.market(order["server_id"], fresh=True)
            order["price_per_day"] = choice.bid
            info.update(order_info(order, market, choice))
            if check_mode or info["spot_active"]:
                info["spot_status"] = ACTIVE if info["spot_active"] else "would run"
                continue
        info["spot_status"] = OUTBID
        result.outbid.append(outbid_entry(order, choice, ended=False))
        result.lost.append(order)
    return result


def lost_text(entries: list[dict], terms: Terms) -> str:
    """Why the lost orders are not waited on: each one's bid, the top rival bid, and the cap when there is one."""
    parts = []
    for entry in entries:
        cap = terms.spot_max_price
        limit = (f"; winning needs {entry['bid_needed']:g}, above spot_max_price {cap:g}" if cap is not None
                 and entry["bid_needed"] is not None else "")
        rival = "none" if entry["winning_bid"] is None else f"{entry['winning_bid']:g} {entry['winning_currency']}"
        done = "; it was cancelled: the next run bids again or rents another server" if entry.get("cancelled") else ""
        parts.append(f"order {entry['id']} on server {entry['server_id']} is outbid and does not run (our bid "
                     f"{entry['bid']:g} {entry['currency']}/day, top rival bid {rival}/day{limit}){done}")
    return "; ".join(parts)


# Why a server others hold is passed over, as counted in a fleet's `shortfall` (the entry's text says more).
ABOVE_CAP, ON_DEMAND, UNREADABLE = "spot_max_price", "rented, and not on spot", "spot market unreadable"


class RivalCandidates:
    """Servers others rent on spot that the cap can win, read lazily: one spot_marketplace call per server, cheapest
    host minimum first, at most `limit` servers, and only as many as the fleet asks for (plan.FleetCandidates: when
    the free servers are too few, or fail).

    `skipped` holds the entries for skipped_servers of the servers passed over, `reasons` one stable reason each.
    """

    def __init__(self, markets: SpotMarkets, servers: list[dict], terms: Terms, limit: int):
        self.markets = markets
        self.terms = terms
        currency = terms.currency
        rented = [s for s in servers if s.get("rented") and s.get("online") is not False
                  and currency in (s.get("allowed_currencies") or [])]
        rented.sort(key=lambda s: (price_per_day(s, "spot", currency) is None, price_per_day(s, "spot", currency) or 0))
        self._unread = rented[:max(limit, 0)]
        self.found: list[Candidate] = []
        self.skipped: list[dict] = []
        self.reasons: list[str] = []

    def take(self, wanted: int) -> list[Candidate]:
        """The first `wanted` candidates (fewer when the servers to read run out)."""
        while len(self.found) < wanted and self._read_next():
            pass
        return self.found[:max(wanted, 0)]

    def __iter__(self) -> Iterator[Candidate]:
        """Every candidate found so far, then the next ones as they are read."""
        index = 0
        while True:
            while index >= len(self.found):
                if not self._read_next():
                    return
            yield self.found[index]
            index += 1

    def _read_next(self) -> bool:
        """Read the next server's spot market; False when none is left to read."""
        if not self._unread:
            return False
        server = self._unread.pop(0)
        currency = self.terms.currency
        try:
            choice = self.markets.choice(server["id"], self.terms)
        except CloreError as err:
            self._pass_over(_skip(server["id"], None, currency, f"its spot market could not be read ({err})", None),
                            UNREADABLE)
            return True
        if choice.rival is None or not choice.rival.active:
            # Rented, but no spot bid runs on it: rented on demand, which no bid can take.
            self._pass_over(_skip(server["id"], None, currency, ON_DEMAND, choice.rival), ON_DEMAND)
        elif choice.bid is None:
            self._pass_over(_skip(server["id"], choice.needed, currency, choice.refusal(), choice.rival), ABOVE_CAP)
        else:
            self.found.append(Candidate(server["id"], currency, choice.bid, server.get("gpu_model"),
                                        server.get("gpu_count")))
        return True

    def _pass_over(self, entry: dict, reason: str) -> None:
        self.skipped.append(entry)
        self.reasons.append(reason)


def server_candidate(markets: SpotMarkets, server: dict, terms: Terms) -> Candidate:
    """The bid that wins one rented server within the cap; CloreError naming the rival bid and the cap otherwise."""
    choice = markets.choice(server["id"], terms)
    if choice.rival is None or not choice.rival.active:
        raise CloreError(f"server {server['id']} is rented and runs no spot bid (rented on demand); nothing was "
                         "rented")
    if choice.bid is None:
        raise CloreError(f"server {server['id']}: {choice.refusal()}; nothing was rented")
    return Candidate(server["id"], terms.currency, choice.bid, server.get("gpu_model"), server.get("gpu_count"))


def ended_outbid(markets: SpotMarkets, ended: list[dict], terms: Terms, active_servers: set[int], limit: int,
                 ours: Collection[int] = ()) -> list[dict]:
    """Ended spot orders whose server now runs a rival bid (no order of `ours`): the newest per server, at most
    `limit` servers."""
    newest: dict[int, dict] = {}
    for order in sorted(ended, key=lambda o: o["id"]):
        if order.get("spot") and order["server_id"] not in active_servers:
            newest[order["server_id"]] = order
    entries = []
    for order in sorted(newest.values(), key=lambda o: -o["id"])[:max(limit, 0)]:
        try:
            choice = markets.choice(order["server_id"], terms, {order["id"]} | set(ours))
        except CloreError:
            continue
        rival = choice.rival
        if rival is not None and rival.active and (rival.in_ours is None
                                                   or rival.in_ours >= (order.get("price_per_day") or 0)):
            entries.append(outbid_entry(order, choice, ended=True))
    return entries


def outbid_now(markets: SpotMarkets, order: dict, terms: Terms) -> dict | None:
    """The outbid entry (with its `reason`) of an ended spot order whose server now runs a bid at least ours;
    None when that is not so, or cannot be read."""
    try:
        choice = markets.choice(order["server_id"], terms, {order["id"]}, fresh=True)
    except CloreError:
        return None
    rival = choice.rival
    if rival is None or not rival.active:
        return None
    if rival.in_ours is not None and rival.in_ours < (order.get("price_per_day") or 0):
        return None
    entry = outbid_entry(order, choice, ended=True)
    entry["reason"] = (f"outbid: server {order['server_id']} now runs a rival bid of "
                       f"{rival_text(rival, terms.currency)} (ours was {order.get('price_per_day')} "
                       f"{order.get('currency')}/day)")
    return entry


WHILE_WAITING = "while waiting for it to get ready"
AT_ONCE = "as soon as it was created, before my_orders listed it as active"


def ended_text(reasons: dict[int, str], when: str = WHILE_WAITING) -> str:
    return "; ".join(f"order {order_id} ended {when}: {reason}" for order_id, reason in sorted(reasons.items()))


def _skip(server_id: int, needed: float | None, currency: str, reason: str, rival) -> dict:
    return {"server_id": server_id, "price_per_day": needed, "currency": currency, "reason": reason,
            "bid_needed": needed, "top_rival_bid": None if rival is None else rival.bid}
