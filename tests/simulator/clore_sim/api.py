"""The /v1 endpoints: business rules over the Store, each answering a Reply with a Clore code."""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import hosts, validation
from .auction import Auction, Refusal
from .config import Config
from .market import USD_RATES
from .rivals import MAX_ROUNDS, Rivals
from .ssh import password_hash
from .store import Store
from .validation import InvalidInput

DEFAULT_IMAGE = "cloreai/ubuntu22.04-jupyter"
CREATION_FEE_RATE = 0.01  # of one day's price, charged when the order is created
MIN_BALANCE_HOURS = 1.0  # a create needs the fee plus this many hours at the order's price


@dataclass
class Reply:
    status: int
    body: dict | bytes
    headers: dict[str, str] = field(default_factory=dict)


def ok(**fields: Any) -> Reply:
    return Reply(200, {**fields, "code": 0})


def app_error(error: str, **extra: Any) -> Reply:
    return Reply(200, {"code": 6, "error": error, **extra})


def invalid(message: str) -> Reply:
    return Reply(200, {"code": 2, "error": message})


class Api:
    """`ports` allocates public ports; `provision(order)` / `release(order)` start and stop its SSH server."""

    def __init__(self, store: Store, config: Config, allocate_port: Callable[[set[int]], int],
                 provision: Callable[[dict], None], release: Callable[[dict], None],
                 on_created: Callable[[], None], on_cancelled: Callable[[], None]) -> None:
        self.store = store
        self.config = config
        self.allocate_port = allocate_port
        self.provision = provision
        self.release = release
        self.on_created = on_created
        self.on_cancelled = on_cancelled
        self.auction = Auction(store, config, allocate_port)
        self.rivals = Rivals(store, self.auction, self.new_order)
        self.routes: dict[tuple[str, str], Callable[[str, dict, Any], Reply]] = {
            ("GET", "marketplace"): self.marketplace,
            ("GET", "my_orders"): self.my_orders,
            ("POST", "create_order"): self.create_order,
            ("POST", "cancel_order"): self.cancel_order,
            ("GET", "spot_marketplace"): self.spot_marketplace,
            ("POST", "set_spot_price"): self.set_spot_price,
            ("GET", "wallets"): self.wallets,
            ("GET", "my_servers"): self.my_servers,
            ("GET", "server_config"): self.server_config,
            ("POST", "set_server_settings"): self.set_server_settings,
        }

    # ----- upkeep shared with the ticker -----
    def upkeep(self) -> None:
        """Settle money, end orders out of time or money or outbid, let the highest bid on each server run (and
        rivals re-bid), release what ended, provision orders whose delay has passed."""
        with self.store.lock:
            self.store.settle()
            for _round in range(MAX_ROUNDS):
                self.auction.reconcile_all()
                if not self.rivals.act():
                    break
            now = self.store.now()
            due = [o for o in self.store.active_orders()
                   if not o["provisioned"] and not o["waiting"] and now >= o["provision_at"]]
            for order in due:
                order["provisioned"] = True
                self.store.dirty = True
            ended = self.store.take_ended()
        for order in ended:
            self.release(order)
        for order in due:
            self.provision(order)

    # ----- endpoints -----
    def marketplace(self, key: str, query: dict, body: Any) -> Reply:
        with self.store.lock:
            hosted = [s["id"] for s in self.store.accounts[key]["hosted"] if s["visibility"] == "public"]
            servers = self.store.market_json()
        payload = b'{"servers":' + servers + b',"my_servers":' + json.dumps(hosted).encode() + b',"code":0}'
        return Reply(200, payload)

    def my_orders(self, key: str, query: dict, body: Any) -> Reply:
        completed = str(query.get("return_completed", "false")).lower() in ("true", "1", "yes")
        self.upkeep()
        with self.store.lock:
            now = self.store.now()
            orders = [
                self.order_view(o)
                for o in self.store.orders.values()
                if o["key"] == key and now >= o["listed_at"] and (completed or o["ended_at"] is None)
            ]
        return ok(orders=orders)

    def order_view(self, order: dict) -> dict:
        server = self.store.by_id.get(order["si"], {})
        provisioned = order["provisioned"] and order["ended_at"] is None
        host = self.config.public_host
        tcp = [f"{c}:{p}" for c, p in order["public_ports"].items() if order["ports"][c] == "tcp"] if provisioned else []
        http_port = next((c for c, proto in order["ports"].items() if proto == "http"), None)
        view = {
            "id": order["id"],
            "si": order["si"],
            "image": order["image"],
            "currency": order["currency"],
            "price": order["price"],
            "spend": round(order["spend"], 10),
            "creation_fee": order["creation_fee"],
            "ct": int(order["ct"] + self.config.clock_offset),
            "mrl": self.listed_mrl(order),
            "spot": order["spot"],
            "expired": order["ended_at"] is not None,
            "specs": server.get("specs", {}),
            "pub_cluster": [host] if provisioned else [],
            "tcp_ports": tcp,
            "http_port": str(http_port) if http_port is not None else "",
            "http_pub": f"o{order['id']}-{http_port}.{host}" if provisioned and http_port is not None else "",
            "online": provisioned,
            "mon_container": 2 if provisioned else 0,
        }
        return view | order.get("listed_fields", {})  # admin order_fields: raw data as a faulty API would send it

    def listed_mrl(self, order: dict) -> int:
        """The order's maximum rental length (kept in seconds) in the unit my_orders sends (--order-mrl-unit)."""
        return round(order["mrl"] / 3600) if self.config.order_mrl_unit == "hours" else int(order["mrl"])

    def create_order(self, key: str, query: dict, body: Any) -> Reply:
        try:
            req = validation.create_order(body)
        except InvalidInput as err:
            return invalid(str(err))
        # Only a hash is kept (for the order's /etc/shadow), never the password.
        req["ssh_password_hash"] = password_hash(req["ssh_password"]) if req["ssh_password"] else None
        with self.store.lock:
            self.store.settle()
            server = self.store.by_id.get(req["server_id"])
            owner, hosted = self.store.hosted_by_id.get(req["server_id"], (None, None))
            if server is None or (hosted is not None and hosted["visibility"] != "public"):
                return invalid(f"renting_server {req['server_id']} does not exist")
            if owner == key:
                return app_error("cannot-rent-own-server")
            spot = req["type"] == "spot"
            currency = req["currency"]
            waiting = self.auction.judge(server, spot, currency, req["spotprice"])
            if isinstance(waiting, Refusal):
                return app_error(waiting.error, **waiting.extra)
            price = req["spotprice"] if spot else server["price"]["on_demand"][currency]
            if req["required_price"] is not None and not math.isclose(req["required_price"], price, rel_tol=1e-6):
                return app_error("price-changed", price=price)
            fee = round(price * CREATION_FEE_RATE, 10)
            balances = self.store.accounts[key]["balances"]
            if balances.get(currency, 0.0) < fee + price * MIN_BALANCE_HOURS / 24:
                return app_error("not_enough_balance")
            balances[currency] -= fee
            self.new_order(key, server, req, price, fee, waiting)
        self.on_created()
        self.upkeep()
        return ok()

    def new_order(self, key: str | None, server: dict, req: dict, price: float, fee: float, waiting: bool = False,
                  rival_id: int | None = None) -> dict:
        """Record an order (the caller holds the lock and has checked every rule, see Auction.judge). A spot bid
        that waits gets its ports when it becomes active. `key` None: another renter's bid (see rivals.py)."""
        store = self.store
        now = store.now()
        order = {
            "id": store.new_order_id(),
            "key": key,
            "si": server["id"],
            "image": req["image"],
            "currency": req["currency"],
            "price": price,
            "spot": req["type"] == "spot",
            "creation_fee": fee,
            "ct": now,
            "mrl": int(server.get("mrl", 240)) * 3600,  # seconds here; listed_mrl sends the unit asked for
            "spend": 0.0,
            "settled_at": now,
            "listed_at": now + self.config.listing_lag,
            "provision_at": now + self.config.provisioning_delay,
            "provisioned": False,
            "ports": req["ports"],
            "public_ports": {},
            "ssh_key": req["ssh_key"],
            "ssh_password_hash": req.get("ssh_password_hash"),
            "command": req["command"],
            "private_image": req.get("private_image", False),  # dockerhub_auth came (the value is never kept)
            "ssh_reachable": True,
            "last_lowered": None,
            "ended_at": None,
            "end_reason": None,
            "issue": None,
            "waiting": waiting,
            "outbid_at": None,
            "outbid_reason": None,
            "rival_id": rival_id,
        }
        if not waiting:
            self.auction.take_server(order)
        store.orders[order["id"]] = order
        store.dirty = True
        store.touch_market()
        return order

    def _own_order(self, key: str, order_id: int) -> dict | None:
        order = self.store.orders.get(order_id)
        return order if order is not None and order["key"] == key else None

    def cancel_order(self, key: str, query: dict, body: Any) -> Reply:
        try:
            order_id = validation.order_id(body, "id")
            issue = validation.issue(body)
        except InvalidInput as err:
            return invalid(str(err))
        with self.store.lock:
            self.store.settle()
            order = self._own_order(key, order_id)
            if order is None:
                return app_error("order-not-found")
            if order["ended_at"] is not None:
                return ok()  # already ended: nothing to do
            order["issue"] = issue
            self.store.end_order(order, "cancelled")
        self.upkeep()  # releases its machine; a bid waiting below it may become active
        self.on_cancelled()
        return ok()

    def spot_marketplace(self, key: str, query: dict, body: Any) -> Reply:
        try:
            server_id = int(str(query.get("market", "")))
        except ValueError:
            return invalid("query parameter market=<server id> is required")
        with self.store.lock:
            server = self.store.by_id.get(server_id)
            if server is None:
                return ok(market={}, exists=False)
            offers = self.auction.offers(server_id, key)
            market = {
                "offers": offers,
                "server": {"min_pricing": dict(server["price"]["spot"]), "mrl": server.get("mrl"),
                           "visibility": "public", "online": self.store.is_online(server)},
                "currency_rates_in_usd": dict(USD_RATES),
            }
        return ok(market=market, exists=True)

    def set_spot_price(self, key: str, query: dict, body: Any) -> Reply:
        try:
            order_id = validation.order_id(body, "order_id")
            desired = body.get("desired_price")
            if not validation.is_number(desired) or desired <= 0:
                raise InvalidInput("desired_price is required: a positive number (per day)")
        except InvalidInput as err:
            return invalid(str(err))
        with self.store.lock:
            self.store.settle()
            order = self._own_order(key, order_id)
            if order is None or order["ended_at"] is not None:
                return app_error("order-not-found")
            if not order["spot"]:
                return app_error("not-a-spot-order")
            now = self.store.now()
            current = order["price"]
            if desired < current:
                window = self.config.spot_lower_window
                if order["last_lowered"] is not None and now - order["last_lowered"] < window:
                    return app_error("can_lower_every_600_seconds",
                                     time_to_lowering=math.ceil(window - (now - order["last_lowered"])))
                max_step = round(current * self.config.spot_max_step, 10)
                if current - desired > max_step + 1e-12:
                    return app_error("exceeded_max_step", max_step=max_step)
                minimum = self.store.by_id[order["si"]]["price"]["spot"][order["currency"]]
                if desired < minimum:
                    return app_error("too_low_price", min_price=minimum)
                order["last_lowered"] = now
            order["price"] = float(desired)
            self.store.dirty = True
        self.upkeep()  # a raised bid may now be the highest, a lowered one no longer
        return ok()

    def wallets(self, key: str, query: dict, body: Any) -> Reply:
        self.upkeep()
        digest = hashlib.sha256(key.encode()).hexdigest()
        fees = {"bitcoin": 0.0001, "CLORE-Blockchain": 1.0, "USD-Blockchain": 1.0}
        with self.store.lock:
            balances = self.store.accounts[key]["balances"]
            wallets = [
                {"name": currency, "deposit": f"{currency[:4].lower()}1{digest[:38]}",
                 "balance": round(balance, 10), "withdrawal_fee": fees.get(currency, 0.0)}
                for currency, balance in balances.items()
            ]
        return ok(wallets=wallets)

    # ----- the host side -----
    def _rental(self, server_id: int) -> tuple[int, float] | None:
        """(rental_status, end as a Unix time on the API's clock) while someone rents the server."""
        rental = self.store.rental(server_id)
        return None if rental is None else (rental[0], rental[1] + self.config.clock_offset)

    def my_servers(self, key: str, query: dict, body: Any) -> Reply:
        self.upkeep()
        with self.store.lock:
            servers = [hosts.my_servers_row(s, self._rental(s["id"])) for s in self.store.accounts[key]["hosted"]]
        return ok(servers=servers, limit=100)

    def _hosted(self, key: str, name: Any) -> dict | None:
        return next((s for s in self.store.accounts[key]["hosted"] if s["name"] == name), None)

    def server_config(self, key: str, query: dict, body: Any) -> Reply:
        name = body.get("server_name") if isinstance(body, dict) else None
        name = name if name is not None else query.get("server_name")
        if not isinstance(name, str) or not name:
            return invalid("server_name is required (a JSON body {\"server_name\": ...})")
        self.upkeep()
        with self.store.lock:
            server = self._hosted(key, name)
            if server is None:
                return app_error("server-not-found")
            config = hosts.config_view(server, self._rental(server["id"]))
        return ok(config=config, creation_completed=True)

    def set_server_settings(self, key: str, query: dict, body: Any) -> Reply:
        """Both forms (hosts.parse_settings); nothing is applied unless the whole request is valid."""
        try:
            changes = hosts.parse_settings(validation.require_object(body))
            with self.store.lock:
                server = self._hosted(key, body["name"])
                if server is None:
                    return app_error("server-not-found")
                hosts.apply_settings(server, changes)
                self.store.sync_hosted()
                self.store.dirty = True
        except InvalidInput as err:
            return invalid(str(err))
        return ok()
