"""The spot auction and the book of orders per server.

Several spot bids may stand on one server. The highest, compared in USD at the simulator's rates, is the active bid
and runs; a higher bid ends the running one (after --spot-outbid-grace); a bid not above the active one waits
(--spot-low-bid queue) or is refused (refuse), and a waiting bid becomes active when the bids above it end. An
on-demand rental holds its server above every bid: it is refused on a server that runs a spot order, unless
--on-demand-preempts-spot lets it end that order as if outbid.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .market import USD_RATES
from .store import Store


@dataclass
class Refusal:
    """A code-6 answer: the reason and its extra fields."""
    error: str
    extra: dict[str, Any] = field(default_factory=dict)


def usd(price: float, currency: str) -> float:
    return price * USD_RATES[currency]


def bid_usd(order: dict) -> float:
    return usd(order["price"], order["currency"])


def above(value_usd: float, other_usd: float) -> bool:
    """Strictly above, blind to float noise of the currency conversion."""
    return value_usd > other_usd + max(abs(other_usd) * 1e-9, 1e-12)


def is_running(order: dict) -> bool:
    return order["ended_at"] is None and not order["waiting"]


def is_active_bid(order: dict) -> bool:
    """The bid that holds its server from now on: running, and not outbid."""
    return order["spot"] and is_running(order) and order["outbid_at"] is None


class Auction:
    def __init__(self, store: Store, config: Config, allocate_port: Callable[[set[int]], int]) -> None:
        self.store = store
        self.config = config
        self.allocate_port = allocate_port

    # ----- what stands on a server (the caller holds the store's lock) -----
    def orders_on(self, server_id: int) -> list[dict]:
        """Orders and bids on the server that have not ended, oldest first."""
        return sorted((o for o in self.store.active_orders() if o["si"] == server_id), key=lambda o: o["id"])

    def held_on_demand(self, server: dict, orders: list[dict]) -> bool:
        """Rented on demand: by a key, elsewhere, or in the catalog."""
        return (server["rented"] or server["id"] in self.store.rented_elsewhere
                or any(not o["spot"] for o in orders))

    @staticmethod
    def active_bid(orders: list[dict]) -> dict | None:
        return next((o for o in orders if is_active_bid(o)), None)

    @staticmethod
    def free_at(orders: list[dict]) -> float | None:
        """When the last outbid order still running on the server ends (None: none is)."""
        ends = [o["outbid_at"] for o in orders if is_running(o) and o["outbid_at"] is not None]
        return max(ends) if ends else None

    # ----- a new order or bid -----
    def judge(self, server: dict, spot: bool, currency: str, price: float | None) -> Refusal | bool:
        """Refusal, or whether the new order would wait (a spot bid not above the active one)."""
        if not self.store.is_online(server):
            return Refusal("server-offline")
        orders = self.orders_on(server["id"])
        if self.held_on_demand(server, orders):
            return Refusal("server-already-rented")
        if not spot and not self.config.on_demand_preempts_spot and any(o["spot"] and is_running(o) for o in orders):
            return Refusal("server-already-rented")
        if currency not in server.get("allowed_coins", []):
            return Refusal("currency-not-allowed")
        if not spot:
            return False
        minimum = server["price"]["spot"][currency]
        if price < minimum:
            return Refusal("too_low_price", {"min_price": minimum})
        active = self.active_bid(orders)
        if active is None or above(usd(price, currency), bid_usd(active)):
            return False
        if self.config.spot_low_bid == "refuse":
            return Refusal("server-already-rented")
        return True

    def take_server(self, order: dict) -> None:
        """A new order that runs at once (not a waiting bid; not yet in the store): the server's active bid is
        outbid (or pre-empted); the order gets its ports and is provisioned once every outbid order has ended."""
        active = self.store.active_orders()  # read once: seeding thousands of orders stays quick
        used = {p for other in active for p in other["public_ports"].values()}
        orders = [other for other in active if other["si"] == order["si"]]
        for other in orders:
            if is_active_bid(other):
                self.outbid(other, "outbid" if order["spot"] else "preempted")
        self._take_ports(order, orders, used)  # an order outbid just now ended, or runs until its grace is over

    def _take_ports(self, order: dict, server_orders: list[dict], used: set[int] | None = None) -> None:
        now = self.store.now()
        if used is None:
            used = {p for o in self.store.active_orders() for p in o["public_ports"].values()}
        for container_port in order["ports"]:
            order["public_ports"][container_port] = self.allocate_port(used)
            used.add(order["public_ports"][container_port])
        order["provision_at"] = max(now, self.free_at(server_orders) or now) + self.config.provisioning_delay

    # ----- the rules, applied after every change -----
    def outbid(self, order: dict, reason: str = "outbid") -> None:
        """A running order loses its server: it ends now, or after the grace (it keeps running until then)."""
        grace = self.config.spot_outbid_grace
        if grace <= 0:
            self.store.end_order(order, reason)
            return
        order["outbid_at"] = self.store.now() + grace
        order["outbid_reason"] = reason
        self.store.dirty = True
        self.store.touch_market()

    def unseat(self, server_id: int, reason: str) -> None:
        """The server's active bid is outbid by a higher one, or pre-empted by an on-demand rental."""
        for order in self.orders_on(server_id):
            if is_active_bid(order):
                self.outbid(order, reason)

    def reconcile_all(self) -> None:
        """On every server with a standing bid: the highest bid runs, every other running bid is outbid."""
        by_server: dict[int, list[dict]] = defaultdict(list)
        for order in self.store.active_orders():
            by_server[order["si"]].append(order)
        for server_id, orders in by_server.items():
            if any(o["spot"] for o in orders):
                self._reconcile(self.store.by_id[server_id], sorted(orders, key=lambda o: o["id"]))

    def _reconcile(self, server: dict, orders: list[dict]) -> None:
        if self.held_on_demand(server, orders):
            self.unseat(server["id"], "preempted")  # waiting bids wait on until the on-demand rental ends
            return
        candidates = [o for o in orders if o["spot"] and o["outbid_at"] is None]
        running = [o for o in candidates if not o["waiting"]]
        top = running[0] if running else None
        for order in candidates:  # oldest first: of equal bids the incumbent, then the earliest, wins
            if top is None or above(bid_usd(order), bid_usd(top)):
                top = order
        for order in running:
            if order is not top:
                self.outbid(order)
        if top is not None and top["waiting"]:
            top["waiting"] = False
            top["settled_at"] = self.store.now()
            self._take_ports(top, orders)
            self.store.dirty = True
            self.store.touch_market()

    # ----- the spot market of one server -----
    def offers(self, server_id: int, key: str) -> list[dict]:
        """Every standing bid: the active one, those waiting, and outbid ones still in their grace; highest first."""
        bids = [o for o in self.orders_on(server_id) if o["spot"]]
        bids.sort(key=lambda o: (-bid_usd(o), o["id"]))
        return [{"offer_id": o["id"], "bid": o["price"], "active": is_active_bid(o), "my": o["key"] == key,
                 "currency": o["currency"]} for o in bids]
