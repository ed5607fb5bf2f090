"""The admin API under /_sim/: faults, counters, market events and knobs for tests. Enabled only with
--admin-token; every call carries the header X-Clore-Sim-Admin: <token>."""
from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import nvidia_smi
from .api import DEFAULT_IMAGE, Reply
from .auction import is_active_bid, is_running
from .config import CURRENCIES, LIVE_CHOICES, LIVE_KNOBS, SIGNED_KNOBS
from .rivals import BidRefused
from .validation import is_int, is_number

# How long an ssh_reachable call waits for the order's SSH to switch (stopping an sshd takes well under a second).
SWITCH_TIMEOUT = 60.0

if TYPE_CHECKING:
    from .app import Simulator


class AdminError(Exception):
    pass


def _done(**fields: Any) -> Reply:
    return Reply(200, {"code": 0, **fields})


class Admin:
    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator
        self.routes: dict[tuple[str, str], Callable[[dict], Reply]] = {
            ("GET", "counters"): lambda body: _done(**self.sim.counters.snapshot()),
            ("POST", "reset"): self.reset,
            ("GET", "faults"): lambda body: _done(faults=self.sim.faults.list()),
            ("POST", "fault"): self.fault,
            ("POST", "rent_elsewhere"): self.rent_elsewhere,
            ("POST", "release_elsewhere"): self.release_elsewhere,
            ("POST", "set_online"): self.set_online,
            ("GET", "offline"): self.offline,
            ("POST", "outbid"): self.outbid,
            ("POST", "ssh_reachable"): self.ssh_reachable,
            ("POST", "gpu_utilization"): self.gpu_utilization,
            ("POST", "seed_orders"): self.seed_orders,
            ("POST", "order_fields"): self.order_fields,
            ("POST", "configure"): self.configure,
            ("GET", "config"): lambda body: _done(**self._knobs()),
            ("POST", "advance_clock"): self.advance_clock,
            ("POST", "accounts"): self.add_account,
            ("GET", "orders"): self.orders,
            ("POST", "rival_bid"): self.rival_bid,
            ("POST", "withdraw_rival"): self.withdraw_rival,
            ("GET", "rivals"): self.rivals,
            ("POST", "set_prices"): self.set_prices,
            ("POST", "churn"): self.churn,
        }

    def handle(self, method: str, path: str, token: str | None, raw: bytes) -> Reply:
        expected = self.sim.config.admin_token
        if not expected:
            return Reply(404, {"code": 4, "error": "the admin API is off (start clore-sim with --admin-token)"})
        if not token or not hmac.compare_digest(token, expected):
            return Reply(401, {"code": 3, "error": "missing or wrong X-Clore-Sim-Admin header"})
        route = self.routes.get((method, path.strip("/")))
        if route is None:
            names = ", ".join(f"{m} {p}" for m, p in self.routes)
            return Reply(404, {"code": 4, "error": f"unknown admin call; known: {names}"})
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise AdminError("the body must be a JSON object")
            return route(body)
        except (AdminError, ValueError, KeyError, TypeError) as err:
            return Reply(400, {"code": 2, "error": str(err)})

    # ----- calls -----
    def reset(self, body: dict) -> Reply:
        self.sim.counters.reset()
        self.sim.faults.clear()
        self.sim.limiter.reset()
        return _done()

    def fault(self, body: dict) -> Reply:
        fault = self.sim.faults.add(str(body.get("endpoint", "*")), str(body.get("kind")), body.get("count"),
                                    body.get("rate"), body.get("delay"))
        return _done(fault=fault.__dict__)

    def _server(self, body: dict) -> dict:
        server = self.sim.store.by_id.get(body.get("server_id"))
        if server is None:
            raise AdminError(f"no server with id {body.get('server_id')!r}")
        return server

    def _order(self, body: dict) -> dict:
        order = self.sim.store.orders.get(body.get("order_id"))
        if order is None:
            raise AdminError(f"no order with id {body.get('order_id')!r}")
        return order

    def rent_elsewhere(self, body: dict) -> Reply:
        """Another renter rents the server on demand, under the same rule as a key's on-demand order."""
        store, auction = self.sim.store, self.sim.api.auction
        with store.lock:
            server = self._server(body)
            spot = [o for o in auction.orders_on(server["id"]) if o["spot"] and is_running(o)]
            if spot and not self.sim.config.on_demand_preempts_spot:
                raise AdminError(f"server {server['id']} runs spot order {spot[0]['id']}: on-demand is refused there "
                                 "unless on_demand_preempts_spot is on (or outbid it: POST /_sim/outbid)")
            store.rented_elsewhere.add(server["id"])
            store.touch_market()
            store.dirty = True
        self.sim.api.upkeep()  # with on_demand_preempts_spot, the spot order there ends
        return _done()

    def release_elsewhere(self, body: dict) -> Reply:
        """Everybody else lets the server go: the on-demand rental elsewhere and other renters' spot bids."""
        store = self.sim.store
        with store.lock:
            server = self._server(body)
            store.rented_elsewhere.discard(server["id"])
            self.sim.api.rivals.withdraw([o for o in self.sim.api.auction.orders_on(server["id"]) if o["key"] is None])
            store.touch_market()
            store.dirty = True
        self.sim.api.upkeep()
        return _done()

    def offline(self, body: dict) -> Reply:
        """The ids of the offline servers: marketplace rows do not show it (as on the real API)."""
        store = self.sim.store
        with store.lock:
            return _done(offline=sorted(s["id"] for s in store.market if not store.is_online(s)))

    def set_online(self, body: dict) -> Reply:
        store = self.sim.store
        online = body.get("online")
        if not isinstance(online, bool):
            raise AdminError("online must be true or false")
        with store.lock:
            server_id = self._server(body)["id"]
            (store.offline.discard if online else store.offline.add)(server_id)
            store.touch_market()
            store.dirty = True
        return _done()

    def outbid(self, body: dict) -> Reply:
        """Another renter bids 20 % above a running spot order: it ends (after the outbid grace)."""
        store, api = self.sim.store, self.sim.api
        with store.lock:
            order = self._order(body)
            if not is_active_bid(order):
                raise AdminError(f"order {order['id']} is not a running spot order")
            store.settle()
            try:
                bid = api.rivals.bid(store.by_id[order["si"]], order["currency"], order["price"] * 1.2)
            except BidRefused as refused:
                raise AdminError(f"the outbidding bid was refused: {refused.refusal.error}") from None
        api.upkeep()
        return _done(offer_id=bid["id"])

    # ----- the spot auction: other renters' bids, rivals, prices, a moving market -----
    def _price(self, body: dict, name: str, required: bool = True) -> float | None:
        value = body.get(name)
        if value is None and not required:
            return None
        if not is_number(value) or value <= 0:
            raise AdminError(f"{name} must be a positive number (per day, in the bid's currency)")
        return float(value)

    def rival_bid(self, body: dict) -> Reply:
        """Another renter's spot bid; with `ceiling` a rival that re-bids `step` above the active bid, after
        `delay` seconds, whenever it is not on top and the ceiling allows."""
        store, api = self.sim.store, self.sim.api
        server = self._server(body)
        currency = body.get("currency") or (
            "CLORE-Blockchain" if "CLORE-Blockchain" in server.get("allowed_coins", []) else
            (server.get("allowed_coins") or [None])[0])
        if currency not in CURRENCIES:
            raise AdminError(f"currency must be one of {', '.join(CURRENCIES)}")
        price = self._price(body, "price")
        ceiling = self._price(body, "ceiling", required=False)
        if ceiling is not None and ceiling < price:
            raise AdminError("ceiling must be at least price")
        step = self._price(body, "step", required=False) or round(price * 0.05, 8)
        delay = body.get("delay", 0)
        if not is_number(delay) or delay < 0:
            raise AdminError("delay must be a number of seconds >= 0")
        with store.lock:
            store.settle()
            try:
                rival = api.rivals.add(server, currency, price, ceiling, step, float(delay))
            except BidRefused as refused:
                raise AdminError(f"refused: {refused.refusal.error} {refused.refusal.extra or ''}".strip()) from None
        api.upkeep()
        with store.lock:
            return _done(**api.rivals.view(rival))

    def withdraw_rival(self, body: dict) -> Reply:
        """{rival_id}: that rival's bid ends and it stops re-bidding; {server_id}: every other renter's bid there."""
        store, api = self.sim.store, self.sim.api
        with store.lock:
            if "rival_id" in body:
                rival = store.rivals.get(body["rival_id"])
                if rival is None:
                    raise AdminError(f"no rival with id {body['rival_id']!r}")
                withdrawn = api.rivals.withdraw([store.orders[rival["order_id"]]])
                rival["state"] = "withdrawn"
            else:
                server = self._server(body)
                withdrawn = api.rivals.withdraw([o for o in api.auction.orders_on(server["id"]) if o["key"] is None])
            store.dirty = True
        api.upkeep()
        return _done(withdrawn=withdrawn)

    def rivals(self, body: dict) -> Reply:
        """Every rival placed through rival_bid, and every standing bid of other renters."""
        store, api = self.sim.store, self.sim.api
        with store.lock:
            rivals = [api.rivals.view(r) for r in sorted(store.rivals.values(), key=lambda r: r["id"])]
            bids = [{"offer_id": o["id"], "server_id": o["si"], "bid": o["price"], "currency": o["currency"],
                     "active": is_active_bid(o), "waiting": o["waiting"], "rival_id": o["rival_id"]}
                    for o in sorted(store.active_orders(), key=lambda o: o["id"]) if o["key"] is None]
        return _done(rivals=rivals, bids=bids)

    def set_prices(self, body: dict) -> Reply:
        """A host sets its server's prices at once: {server_id, on_demand?: {currency: price}, spot?: {...}}."""
        server = self._server(body)
        changes = {}
        for name in ("on_demand", "spot"):
            prices = body.get(name)
            if prices is None:
                continue
            if not isinstance(prices, dict) or not prices or not all(
                    c in server.get("allowed_coins", []) and is_number(v) and v > 0 for c, v in prices.items()):
                raise AdminError(f"{name} must be {{currency: positive price per day}} with currencies the server "
                                 f"accepts ({', '.join(server.get('allowed_coins', []))})")
            changes[name] = {c: float(v) for c, v in prices.items()}
        if not changes:
            raise AdminError("give on_demand and/or spot: {currency: price per day}")
        self.sim.store.set_prices(server, changes.get("on_demand"), changes.get("spot"))
        return _done(price=self.sim.store.row(server)["price"])  # as the marketplace lists it

    def churn(self, body: dict) -> Reply:
        """Run `events` market events now (the same generator as --market-churn)."""
        events = body.get("events", 1)
        if not is_int(events) or not 0 <= events <= 1000:
            raise AdminError("events must be an integer from 0 to 1000")
        with self.sim.store.lock:
            happened = self.sim.churn.run(events)
        self.sim.api.upkeep()
        return _done(events=happened)

    def ssh_reachable(self, body: dict) -> Reply:
        reachable = body.get("reachable")
        if not isinstance(reachable, bool):
            raise AdminError("reachable must be true or false")
        with self.sim.store.lock:
            order = self._order(body)
            order["ssh_reachable"] = reachable
            self.sim.store.dirty = True
        if order["provisioned"] and order["ended_at"] is None:
            # Answered once the switch is made (sshd stopped and the silent listener bound, or sshd started): a
            # caller that probes right after the answer sees the new state, never the moment in between, when the
            # port refuses connections.
            switched = self.sim.ssh.request("reachable", order, reachable)
            if not switched.wait(SWITCH_TIMEOUT):
                raise AdminError(f"the SSH switch of order {order['id']} did not finish in {SWITCH_TIMEOUT:g} s")
        return _done()

    def gpu_utilization(self, body: dict) -> Reply:
        """The order's nvidia-smi reports this GPU utilisation (percent) from now on: a busy or an idle order."""
        percent = body.get("percent")
        if not is_number(percent) or not 0 <= percent <= 100:
            raise AdminError("percent must be a number from 0 to 100")
        with self.sim.store.lock:
            order = self._order(body)
        root = self.sim.ssh.order_dir(order["id"]) / "root"
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (root / nvidia_smi.UTILIZATION_FILE).write_text(f"{int(percent)}\n")
        return _done()

    def order_fields(self, body: dict) -> Reply:
        """my_orders lists these raw fields of the order as given (malformed or hostile data for client tests)."""
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise AdminError("fields must be an object of order fields")
        with self.sim.store.lock:
            order = self._order(body)
            order["listed_fields"] = {**order.get("listed_fields", {}), **fields}
            self.sim.store.dirty = True
        return _done()

    def seed_orders(self, body: dict) -> Reply:
        """Bulk orders for one key, bypassing rate limits and balances; no sshd unless ssh_key is given."""
        store, api = self.sim.store, self.sim.api
        key, count = body.get("api_key"), body.get("count")
        if not self.sim.has_account(key):
            raise AdminError("api_key must be an accepted key")
        if not is_int(count) or count < 0:
            raise AdminError("count must be a non-negative integer")
        currency = body.get("currency")
        if currency is not None and currency not in CURRENCIES:
            raise AdminError(f"currency must be one of {', '.join(CURRENCIES)}")
        spot = bool(body.get("spot", False))
        ssh_key = body.get("ssh_key")
        ids: list[int] = []
        with store.lock:
            rented = store.rented_ids()
            for server in store.market:
                if len(ids) >= count:
                    break
                coins = server.get("allowed_coins") or []
                coin = currency or (coins[0] if coins else None)
                if coin not in coins or store.is_rented(server, rented) or not store.is_online(server):
                    continue
                rented.add(server["id"])
                price = server["price"]["spot" if spot else "on_demand"][coin]
                request = {"image": body.get("image", DEFAULT_IMAGE), "currency": coin,
                           "type": "spot" if spot else "on-demand", "ports": {22: "tcp"}, "ssh_key": ssh_key,
                           "ssh_password_hash": None, "command": None}
                order = api.new_order(key, server, request, price, 0.0)
                order["listed_at"] = order["provision_at"] = order["ct"]
                ids.append(order["id"])
                self.sim.counters.add("orders_created")
            if len(ids) < count:
                raise AdminError(f"only {len(ids)} free servers fit; seeded those (ids {ids[:5]}...)")
        api.upkeep()
        self.sim.save()
        return _done(order_ids=ids)

    def _knobs(self) -> dict:
        return {name: getattr(self.sim.config, name) for name in (*LIVE_KNOBS, *LIVE_CHOICES)}

    def configure(self, body: dict) -> Reply:
        for name, value in body.items():
            if name in LIVE_CHOICES:
                choices = LIVE_CHOICES[name]
                if value not in choices or isinstance(value, bool) != isinstance(choices[0], bool):
                    raise AdminError(f"{name} must be one of {', '.join(map(json.dumps, LIVE_CHOICES[name]))}")
            elif name not in LIVE_KNOBS:
                raise AdminError(f"{name!r} cannot be changed live; these can: "
                                 f"{', '.join((*LIVE_KNOBS, *LIVE_CHOICES))}")
            elif not is_number(value) or (value < 0 and name not in SIGNED_KNOBS):
                raise AdminError(f"{name} must be a number" + ("" if name in SIGNED_KNOBS else " >= 0"))
        for name, value in body.items():
            setattr(self.sim.config, name, value if name in LIVE_CHOICES else float(value))
        self.sim.apply_limits()
        return _done(**self._knobs())

    def advance_clock(self, body: dict) -> Reply:
        seconds = body.get("seconds")
        if not is_number(seconds) or seconds < 0:
            raise AdminError("seconds must be a number >= 0")
        with self.sim.store.lock:
            self.sim.store.clock_offset += float(seconds)
            self.sim.store.dirty = True
        self.sim.api.upkeep()
        return _done(clock_offset=self.sim.store.clock_offset)

    def add_account(self, body: dict) -> Reply:
        key = body.get("key")
        if not isinstance(key, str) or not key:
            raise AdminError("key must be a non-empty string")
        balances = body.get("balances") or {}
        if not all(c in CURRENCIES and is_number(v) for c, v in balances.items()):
            raise AdminError(f"balances: {{currency: amount}} with currencies {', '.join(CURRENCIES)}")
        self.sim.add_account(key, balances)
        return _done()

    def orders(self, body: dict) -> Reply:
        hidden = {"key", "ssh_key", "ssh_password_hash"}
        with self.sim.store.lock:
            orders = [{k: v for k, v in o.items() if k not in hidden}
                      for o in self.sim.store.orders.values() if o["key"] is not None]
        if self.sim.ssh is not None:
            for order in orders:
                order["ssh_silent_connections"] = self.sim.ssh.silent_connections(order["id"])
        return _done(orders=orders)
