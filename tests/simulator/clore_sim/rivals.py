"""Other renters' spot bids: orders of no key (never listed in my_orders, never charged), placed by the admin API or
by the moving market, and rivals that re-bid, a step above the active bid, up to a ceiling whenever they are not on
top, so that bid wars can be played."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .auction import Auction, Refusal, bid_usd, is_active_bid
from .market import USD_RATES
from .store import Store

RIVAL_IMAGE = "rival/renter"
MAX_ROUNDS = 1000  # rival re-bids within one upkeep: a war between rivals ends at their ceilings anyway


class BidRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.error)
        self.refusal = refusal


def _round_up(amount: float, currency: str) -> float:
    digits = 8 if currency == "bitcoin" else 4
    return math.ceil(amount * 10 ** digits - 1e-6) / 10 ** digits


class Rivals:
    def __init__(self, store: Store, auction: Auction, record: Callable[..., dict]) -> None:
        """`record`: Api.new_order."""
        self.store = store
        self.auction = auction
        self.record = record

    # ----- one bid (the caller holds the store's lock) -----
    def bid(self, server: dict, currency: str, price: float, rival_id: int | None = None) -> dict:
        """Place another renter's bid under the auction's rules; BidRefused when they refuse it."""
        verdict = self.auction.judge(server, True, currency, price)
        if isinstance(verdict, Refusal):
            raise BidRefused(verdict)
        request = {"image": RIVAL_IMAGE, "currency": currency, "type": "spot", "ports": {}, "ssh_key": None,
                   "command": None}
        return self.record(None, server, request, float(price), 0.0, waiting=verdict, rival_id=rival_id)

    def withdraw(self, orders: list[dict]) -> list[int]:
        """End these bids of other renters (their rivals stop re-bidding). Answers the offer ids ended."""
        ended = []
        for order in orders:
            if order["key"] is None and order["ended_at"] is None:
                self.store.end_order(order, "withdrawn")
                ended.append(order["id"])
            rival = self.store.rivals.get(order.get("rival_id"))
            if rival is not None and rival["order_id"] == order["id"]:
                rival["state"] = "withdrawn"
        return ended

    # ----- rivals -----
    def add(self, server: dict, currency: str, price: float, ceiling: float | None, step: float,
            delay: float) -> dict:
        """A rival with its first bid at `price`; with a ceiling it re-bids whenever it is not on top."""
        rival_id = max(self.store.rivals, default=0) + 1
        order = self.bid(server, currency, price, rival_id)
        rival = {"id": rival_id, "server_id": server["id"], "currency": currency, "ceiling": ceiling, "step": step,
                 "delay": delay, "order_id": order["id"], "state": "bidding", "rebid_at": None, "rebids": 0}
        self.store.rivals[rival_id] = rival
        self.store.dirty = True
        return rival

    def act(self) -> bool:
        """Each rival that is not on top re-bids if its ceiling allows (once its delay has passed). Answers whether
        one placed a bid."""
        placed = False
        for rival in sorted(self.store.rivals.values(), key=lambda r: r["id"]):
            if rival["state"] == "bidding" and rival["ceiling"] is not None:
                placed = self._act(rival) or placed
        return placed

    def _act(self, rival: dict) -> bool:
        store, auction = self.store, self.auction
        own = store.orders[rival["order_id"]]
        if is_active_bid(own):
            rival["rebid_at"] = None
            return False
        if own["ended_at"] is not None and own["end_reason"] not in ("outbid", "preempted"):
            rival["state"] = "ended"  # expired or withdrawn: nothing to fight for
            return False
        server = store.by_id[rival["server_id"]]
        orders = auction.orders_on(server["id"])
        if auction.held_on_demand(server, orders):
            return False  # nothing to bid against until the on-demand rental ends
        active = auction.active_bid(orders)
        currency = rival["currency"]
        if active is None:
            if own["ended_at"] is None:
                return False  # a waiting bid with nothing above it becomes active by itself
            price = own["price"]
        else:
            price = _round_up(bid_usd(active) / USD_RATES[currency] + rival["step"], currency)
            price = max(price, server["price"]["spot"][currency])
        if price > rival["ceiling"] + 1e-12:
            rival["state"] = "gave-up"
            store.dirty = True
            return False
        now = store.now()
        if rival["rebid_at"] is None:
            rival["rebid_at"] = now + rival["delay"]
        if now < rival["rebid_at"]:
            return False
        try:
            order = self.bid(server, currency, price, rival["id"])
        except BidRefused:
            rival["state"] = "gave-up"
            return False
        if own["ended_at"] is None and own["waiting"]:
            store.end_order(own, "replaced")
        rival.update(order_id=order["id"], rebid_at=None, rebids=rival["rebids"] + 1)
        store.dirty = True
        return True

    def view(self, rival: dict) -> dict[str, Any]:
        order = self.store.orders[rival["order_id"]]
        return {**{k: v for k, v in rival.items() if k != "id"}, "rival_id": rival["id"], "offer_id": order["id"],
                "bid": order["price"], "active": is_active_bid(order), "waiting": order["waiting"],
                "ended": order["ended_at"] is not None}
