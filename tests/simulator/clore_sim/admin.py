"""The admin API under /_sim/: faults, counters, market events and knobs for tests. Enabled only with
--admin-token; every call carries the header X-Clore-Sim-Admin: <token>."""
from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .api import DEFAULT_IMAGE, Reply
from .config import CURRENCIES, LIVE_KNOBS, SIGNED_KNOBS
from .validation import is_int, is_number

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
            ("POST", "outbid"): self.outbid,
            ("POST", "ssh_reachable"): self.ssh_reachable,
            ("POST", "seed_orders"): self.seed_orders,
            ("POST", "order_fields"): self.order_fields,
            ("POST", "configure"): self.configure,
            ("GET", "config"): lambda body: _done(**self._knobs()),
            ("POST", "advance_clock"): self.advance_clock,
            ("POST", "accounts"): self.add_account,
            ("GET", "orders"): self.orders,
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
        store = self.sim.store
        with store.lock:
            store.rented_elsewhere.add(self._server(body)["id"])
            store.touch_market()
            store.dirty = True
        return _done()

    def release_elsewhere(self, body: dict) -> Reply:
        store = self.sim.store
        with store.lock:
            store.rented_elsewhere.discard(self._server(body)["id"])
            store.touch_market()
            store.dirty = True
        return _done()

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
        store = self.sim.store
        with store.lock:
            order = self._order(body)
            if not order["spot"] or order["ended_at"] is not None:
                raise AdminError(f"order {order['id']} is not a running spot order")
            store.settle()
            store.end_order(order, "outbid")
            store.rented_elsewhere.add(order["si"])
        self.sim.release_order(order)
        return _done()

    def ssh_reachable(self, body: dict) -> Reply:
        reachable = body.get("reachable")
        if not isinstance(reachable, bool):
            raise AdminError("reachable must be true or false")
        with self.sim.store.lock:
            order = self._order(body)
            order["ssh_reachable"] = reachable
            self.sim.store.dirty = True
        if order["provisioned"] and order["ended_at"] is None:
            self.sim.ssh.request("reachable", order, reachable)
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
        return {name: getattr(self.sim.config, name) for name in LIVE_KNOBS}

    def configure(self, body: dict) -> Reply:
        for name, value in body.items():
            if name not in LIVE_KNOBS:
                raise AdminError(f"{name!r} cannot be changed live; these can: {', '.join(LIVE_KNOBS)}")
            if not is_number(value) or (value < 0 and name not in SIGNED_KNOBS):
                raise AdminError(f"{name} must be a number" + ("" if name in SIGNED_KNOBS else " >= 0"))
        for name, value in body.items():
            setattr(self.sim.config, name, float(value))
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
            orders = [{k: v for k, v in o.items() if k not in hidden} for o in self.sim.store.orders.values()]
        return _done(orders=orders)
