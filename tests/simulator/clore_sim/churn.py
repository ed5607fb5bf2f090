"""A market that moves (--market-churn EVENTS_PER_MINUTE): other renters rent servers on demand and free them, place
and withdraw spot bids, and hosts change their prices. Every choice is drawn from a generator seeded with --seed, so
the same seed gives the same sequence of events; only their timing follows the clock."""
from __future__ import annotations

import random
from collections.abc import Callable

from .auction import Auction, bid_usd, is_running
from .market import USD_RATES
from .rivals import BidRefused, Rivals
from .store import Store

MAX_EVENTS_PER_TICK = 20  # after a jump of the clock, catch up only this far
PICK_ATTEMPTS = 20
# (kind, weight)
EVENTS = (("rent", 2), ("free", 2), ("bid", 3), ("withdraw", 2), ("reprice", 1))


class Churn:
    def __init__(self, store: Store, auction: Auction, rivals: Rivals, seed: int) -> None:
        self.store = store
        self.auction = auction
        self.rivals = rivals
        self.rng = random.Random(f"clore-sim-churn-{seed}")
        self.last: float | None = None
        self.carry = 0.0

    def due(self, rate_per_minute: float) -> int:
        """How many events are due since the last call at this rate (the fractions carry over)."""
        now = self.store.now()
        elapsed = 0.0 if self.last is None else max(0.0, now - self.last)
        self.last = now
        if rate_per_minute <= 0:
            self.carry = 0.0
            return 0
        expected = self.carry + rate_per_minute * elapsed / 60
        count = int(expected)
        self.carry = expected - count
        return min(count, MAX_EVENTS_PER_TICK)

    def run(self, count: int) -> list[str]:
        """`count` market events now (the caller holds the store's lock); answers what happened, one line each."""
        kinds, weights = zip(*EVENTS)
        happened = []
        for _event in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            happened.append(getattr(self, f"_{kind}")() or f"{kind}: nothing to do")
        return happened

    # ----- the events -----
    def _pick(self, fits: Callable[[dict, list[dict]], bool]) -> dict | None:
        """A random online server that `fits(server, its orders)`; a few draws, not a scan of a large market."""
        for _attempt in range(PICK_ATTEMPTS):
            server = self.rng.choice(self.store.market)
            if self.store.is_online(server) and server.get("allowed_coins") and fits(
                    server, self.auction.orders_on(server["id"])):
                return server
        return None

    def _rent(self) -> str | None:
        """Another renter rents a server on demand (one that runs a spot order only if on-demand pre-empts spot)."""
        preempts = self.auction.config.on_demand_preempts_spot
        server = self._pick(lambda s, orders: not self.auction.held_on_demand(s, orders) and (
            preempts or not any(o["spot"] and is_running(o) for o in orders)))
        if server is None:
            return None
        self.store.rented_elsewhere.add(server["id"])
        self.store.dirty = True
        self.store.touch_market()
        return f"rent: server {server['id']} rented on demand elsewhere"

    def _free(self) -> str | None:
        rented = sorted(self.store.rented_elsewhere)
        if not rented:
            return None
        server_id = self.rng.choice(rented)
        self.store.rented_elsewhere.discard(server_id)
        self.store.dirty = True
        self.store.touch_market()
        return f"free: server {server_id} freed elsewhere"

    def _bid(self) -> str | None:
        """Another renter bids: half the time above the active bid, else somewhere above the host's minimum."""
        server = self._pick(lambda s, orders: not self.auction.held_on_demand(s, orders))
        if server is None:
            return None
        currency = self.rng.choice(server["allowed_coins"])
        active = self.auction.active_bid(self.auction.orders_on(server["id"]))
        if active is not None and self.rng.random() < 0.5:
            price = bid_usd(active) / USD_RATES[currency] * self.rng.uniform(1.02, 1.25)
        else:
            price = server["price"]["spot"][currency] * self.rng.uniform(1.0, 1.4)
        price = round(price, 8 if currency == "bitcoin" else 4)
        price = max(price, server["price"]["spot"][currency])
        try:
            order = self.rivals.bid(server, currency, price)
        except BidRefused as refused:
            return f"bid: {price} {currency} on server {server['id']} refused ({refused.refusal.error})"
        state = "waiting" if order["waiting"] else "placed"
        return f"bid: {price} {currency} on server {server['id']} {state} (offer {order['id']})"

    def _withdraw(self) -> str | None:
        bids = sorted((o for o in self.store.active_orders() if o["key"] is None), key=lambda o: o["id"])
        if not bids:
            return None
        order = self.rng.choice(bids)
        self.rivals.withdraw([order])
        return f"withdraw: offer {order['id']} on server {order['si']}"

    def _reprice(self) -> str | None:
        """A host moves its prices by up to 10 % (standing bids stay, even below a raised minimum)."""
        server = self._pick(lambda s, orders: True)
        if server is None:
            return None
        factor = self.rng.uniform(0.9, 1.1)
        price = server["price"]
        self.store.set_prices(server, {c: v * factor for c, v in price["on_demand"].items()},
                              {c: v * factor for c, v in price["spot"].items()})
        return f"reprice: server {server['id']} prices x{factor:.3f}"
