"""The simulator's state: market, accounts, orders; money settled with time; saved atomically to the state dir."""
from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from . import hosts
from .config import DEFAULT_BALANCES
from .market import USD_RATES, generate_market, host_server, public_row, reprice
from .market_file import MarketFileError, load_market_file
from .price_shapes import DEFAULT_PRICE_SHAPE, served_price

STATE_FILE = "state.json"
STATE_VERSION = 1
HOSTED_PER_ACCOUNT = 2
FIRST_ORDER_ID = 100_000
FIRST_HOSTED_ID = 900_000
# Fields of the spot auction: a bid waiting below the active one, the end of an outbid order's grace and why it
# ends ("outbid" or "preempted"), the admin rival that placed a bid.
ORDER_DEFAULTS = {"waiting": False, "outbid_at": None, "outbid_reason": None, "rival_id": None}
FIRST_HOST_OWNER = 100_000  # owner ids of the keys' hosted servers (the catalog's hosts are below 10,000)


class Store:
    """All mutable state behind one re-entrant lock. Times are wall-clock seconds plus an admin-set offset."""

    def __init__(self, state_dir: Path, servers: int, seed: int, market_file: Path | None = None,
                 price_shape: str = DEFAULT_PRICE_SHAPE) -> None:
        self.state_dir = state_dir
        self.market_file = market_file
        # How rows carry prices; a recorded market is served as it was recorded.
        self.price_shape: str | None = None if market_file is not None else price_shape
        self.lock = threading.RLock()
        self.seed = seed
        self.size = servers
        self.clock_offset = 0.0
        self.accounts: dict[str, dict[str, Any]] = {}  # key -> {"balances": {...}, "hosted": [server, ...]}
        # Orders of every key, and the spot bids of other renters (key None, never listed to a key).
        self.orders: dict[int, dict[str, Any]] = {}
        self.rivals: dict[int, dict[str, Any]] = {}  # admin-placed rivals that re-bid (see rivals.py)
        self.prices: dict[int, dict[str, dict[str, float]]] = {}  # server id -> prices a host set since start
        self.ended: list[dict] = []  # orders ended since the last upkeep: their machines are still to stop
        self.next_order_id = FIRST_ORDER_ID
        self.rented_elsewhere: set[int] = set()
        self.offline: set[int] = set()
        self.market: list[dict] = []
        self.by_id: dict[int, dict] = {}  # the market's servers and the hosted servers' market views
        self.hosted_by_id: dict[int, tuple[str, dict]] = {}  # hosted server id -> (owner key, server)
        self.market_version = 0
        self._market_cache: tuple[int, bytes] | None = None
        self._row_bytes: list[bytes] | None = None
        self._index: dict[int, int] | None = None
        self.dirty = False  # something other than money changed: save soon
        self.money_moved = False  # only spend and balances changed: save now and then

    # ----- clock -----
    def now(self) -> float:
        return time.time() + self.clock_offset

    # ----- load / save -----
    def load(self) -> list[str]:
        """Read the state file if any; returns warnings (e.g. the saved market differs from the flags)."""
        warnings = []
        path = self.state_dir / STATE_FILE
        if path.exists():
            data = json.loads(path.read_text())
            if (data["seed"], data["servers"]) != (self.seed, self.size):
                warnings.append(
                    f"the state dir holds a market of {data['servers']} servers with seed {data['seed']}: keeping it "
                    f"(the flags asked for {self.size} with seed {self.seed}; use an empty state dir for a new market)"
                )
            self.seed, self.size = data["seed"], data["servers"]
            self.clock_offset = data.get("clock_offset", 0.0)
            self.accounts = data["accounts"]
            self.orders = {o["id"]: o for o in data["orders"]}
            for order in self.orders.values():  # JSON turned the port numbers into strings
                order["ports"] = {int(k): v for k, v in order["ports"].items()}
                order["public_ports"] = {int(k): v for k, v in order["public_ports"].items()}
                for name, value in ORDER_DEFAULTS.items():
                    order.setdefault(name, value)  # a state file written before the spot auction
            self.rivals = {r["id"]: r for r in data.get("rivals", [])}
            self.prices = {int(k): v for k, v in data.get("prices", {}).items()}
            self.next_order_id = data["next_order_id"]
            self.rented_elsewhere = set(data.get("rented_elsewhere", []))
            self.offline = set(data.get("offline", []))
        if self.market_file is not None:
            try:
                self.market, skipped = load_market_file(self.market_file)
            except MarketFileError as err:
                raise SystemExit(f"clore-sim: {err}") from None
            if skipped:
                warnings.append(f"--market-file {self.market_file}: {skipped} rows without a usable id left out")
        else:
            self.market = generate_market(self.size, self.seed, self.price_shape or DEFAULT_PRICE_SHAPE)
        self.by_id = {s["id"]: s for s in self.market}
        for server_id, prices in self.prices.items():
            if server_id in self.by_id:
                reprice(self.by_id[server_id], prices.get("on_demand"), prices.get("spot"))
        for account in self.accounts.values():
            for server in account["hosted"]:
                hosts.upgrade(server)
        self.sync_hosted()
        return warnings

    def save(self) -> None:
        with self.lock:
            data = {
                "version": STATE_VERSION,
                "seed": self.seed,
                "servers": self.size,
                "clock_offset": self.clock_offset,
                "accounts": self.accounts,
                "orders": list(self.orders.values()),
                "next_order_id": self.next_order_id,
                "rented_elsewhere": sorted(self.rented_elsewhere),
                "offline": sorted(self.offline),
                "rivals": list(self.rivals.values()),
                "prices": self.prices,
            }
            self.dirty = self.money_moved = False
            text = json.dumps(data)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / f".{STATE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, self.state_dir / STATE_FILE)

    # ----- accounts -----
    def ensure_account(self, key: str, balances: dict[str, float] | None = None) -> None:
        """Add a key (its balances given only at first sight: a restart keeps what was spent)."""
        with self.lock:
            if key in self.accounts:
                return
            digest = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
            rng = random.Random(digest)
            base = FIRST_HOSTED_ID + len(self.accounts) * 10
            hosted = [host_server(rng, base + i, f"host-{digest % 10_000:04d}-{i + 1}") for i in range(HOSTED_PER_ACCOUNT)]
            for server in hosted:
                hosts.apply_autoprice(server)
            self.accounts[key] = {"balances": dict(balances or DEFAULT_BALANCES), "hosted": hosted}
            self.sync_hosted()
            self.dirty = True

    # ----- hosted servers -----
    def sync_hosted(self) -> None:
        """Refresh the market view of every hosted server (in by_id, updated in place) after a change."""
        with self.lock:
            for key, account in self.accounts.items():
                owner = FIRST_HOST_OWNER + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100_000
                for server in account["hosted"]:
                    view = self.by_id.setdefault(server["id"], {})
                    view.clear()
                    view.update(hosts.market_row(server, owner))
                    self.hosted_by_id[server["id"]] = (key, server)
            self.touch_market()

    def rental(self, server_id: int) -> tuple[int, float] | None:
        """(rental_status 1 spot / 2 on-demand, end as a Unix time) while someone rents the server, else None."""
        with self.lock:
            orders = [o for o in self.active_orders() if o["si"] == server_id]
            if orders:
                return (1 if orders[0]["spot"] else 2), orders[0]["ct"] + orders[0]["mrl"]
            if server_id in self.rented_elsewhere:
                view = self.by_id.get(server_id, {})
                return 2, self.now() + float(view.get("mrl") or 240) * 3600
            return None

    # ----- market -----
    def is_rented(self, server: dict, rented_ids: set[int] | None = None) -> bool:
        """`rented_ids`: rented_ids() computed once by a caller that asks about many servers."""
        rented_ids = self.rented_ids() if rented_ids is None else rented_ids
        return server["rented"] or server["id"] in rented_ids

    def rented_ids(self) -> set[int]:
        """Servers someone runs an order on (a spot bid still waiting runs nothing) or rented elsewhere."""
        return {o["si"] for o in self.active_orders() if not o["waiting"]} | self.rented_elsewhere

    def is_online(self, server: dict) -> bool:
        return server.get("online", True) and server["id"] not in self.offline

    def active_orders(self) -> list[dict]:
        return [o for o in self.orders.values() if o["ended_at"] is None]

    def touch_market(self) -> None:
        self.market_version += 1

    def set_prices(self, server: dict, on_demand: dict[str, float] | None, spot: dict[str, float] | None) -> None:
        """A host changes its prices: the listing follows, and the change is kept across restarts."""
        with self.lock:
            reprice(server, on_demand, spot)
            self.prices[server["id"]] = {"on_demand": dict(server["price"]["on_demand"]),
                                         "spot": dict(server["price"]["spot"])}
            if self._row_bytes is not None:
                index = self._row_index()[server["id"]]
                self._row_bytes[index] = json.dumps(self.row(server), separators=(",", ":")).encode()
            self.dirty = True
            self.touch_market()

    def market_json(self) -> bytes:
        """The encoded `servers` array. Each row is encoded once; a change re-encodes only the rows it touches,
        and the joined answer is kept until the next change."""
        with self.lock:
            cache = self._market_cache
            if cache is not None and cache[0] == self.market_version:
                return cache[1]
            if self._row_bytes is None:
                self._row_bytes = [json.dumps(self.row(s), separators=(",", ":")).encode() for s in self.market]
            rented = self.rented_ids()
            parts = list(self._row_bytes)
            for index in self._changed_rows(rented):
                server = self.market[index]
                row = {**self.row(server), "rented": server["rented"] or server["id"] in rented}
                parts[index] = json.dumps(row, separators=(",", ":")).encode()
            for _key, server in self.hosted_by_id.values():
                if server["visibility"] == "public":  # offered by a key of this simulator
                    view = self.by_id[server["id"]]
                    row = {**view, "rented": server["id"] in rented, "online": self.is_online(view)}
                    if self.price_shape is not None:
                        row["price"] = served_price(view, self.price_shape, USD_RATES)
                    parts.append(json.dumps(row, separators=(",", ":")).encode())
            encoded = b"[" + b",".join(parts) + b"]"
            self._market_cache = (self.market_version, encoded)
            return encoded

    def row(self, server: dict) -> dict:
        """A catalog server as a marketplace row, its prices in the market's price shape."""
        return public_row(server, self.price_shape)

    def _row_index(self) -> dict[int, int]:
        if self._index is None:
            self._index = {s["id"]: i for i, s in enumerate(self.market)}
        return self._index

    def _changed_rows(self, rented: set[int]) -> list[int]:
        index = self._row_index()
        return [index[i] for i in rented & index.keys()]

    # ----- money -----
    def settle(self) -> list[dict]:
        """Charge every running order up to now; end those out of time or money, and outbid orders whose grace
        has passed. A spot bid still waiting costs nothing. Returns the orders ended."""
        ended = []
        with self.lock:
            now = self.now()
            for order in self.active_orders():
                ends = [(order["ct"] + order["mrl"], "expired")]
                if order["outbid_at"] is not None:
                    ends.append((order["outbid_at"], order["outbid_reason"]))
                end_at, reason = min(ends)
                end_at = end_at if now >= end_at else None
                until = now if end_at is None else end_at
                elapsed = 0.0 if order["waiting"] else max(0.0, until - order["settled_at"])
                order["settled_at"] = max(order["settled_at"], until)
                balance = self._charge(order, order["price"] * elapsed / 86_400)
                if end_at is not None:
                    self.end_order(order, reason, end_at)
                    ended.append(order)
                elif balance < 0:
                    self.end_order(order, "balance", now)
                    ended.append(order)
        return ended

    def _charge(self, order: dict, amount: float) -> float:
        """Add to the order's spend and take from its key's balance; answers that balance (other renters' bids
        are not charged: they answer 0)."""
        if order["key"] is None:
            return 0.0
        balances = self.accounts[order["key"]]["balances"]
        order["spend"] += amount
        balances[order["currency"]] = balances.get(order["currency"], 0.0) - amount
        if amount:
            self.money_moved = True
        return balances[order["currency"]]

    def end_order(self, order: dict, reason: str, at: float | None = None) -> None:
        with self.lock:
            order["ended_at"] = self.now() if at is None else at
            order["end_reason"] = reason
            self.ended.append(order)
            self.dirty = True
            self.touch_market()

    def take_ended(self) -> list[dict]:
        """The orders ended since the last call, whose machines and ports are to be released."""
        with self.lock:
            ended, self.ended = self.ended, []
            return ended

    def new_order_id(self) -> int:
        with self.lock:
            self.next_order_id += 1
            return self.next_order_id
