"""Wiring of one simulator: store, API, admin API, rate limiter, faults, SSH machines, HTTP server, ticker."""
from __future__ import annotations

import getpass
import json
import os
import resource
import sys
import threading
import time

from .admin import Admin
from .api import Api
from .churn import Churn
from .config import Config
from .counters import Counters
from .faults import FaultBook
from .server import SimHTTPServer
from .ports import PortBook
from .ratelimit import RateLimiter
from .ssh import SshManager, isolation_available
from .store import Store

TICK_SECONDS = 0.2
MONEY_SAVE_SECONDS = 5.0  # spend moves every tick: saving it that often would only burn CPU


class Simulator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.state_dir, config.servers, config.seed, config.market_file, config.price_shape)
        self.counters = Counters()
        self.faults = FaultBook(config.seed)
        self.limiter = RateLimiter(config.request_interval, config.create_interval, config.rate_tolerance,
                                   create_spacing=config.create_spacing)
        self.isolated = False
        self.ssh: SshManager | None = None
        self.ports: PortBook | None = None
        self.api: Api | None = None
        self.churn: Churn | None = None
        self.admin = Admin(self)
        self.httpd: SimHTTPServer | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ----- accounts and knobs -----
    def has_account(self, key: object) -> bool:
        return isinstance(key, str) and key in self.store.accounts

    def add_account(self, key: str, balances: dict[str, float]) -> None:
        self.store.ensure_account(key, {**self.config.all_accounts().get(key, {}), **balances} or None)
        self.save()

    def apply_limits(self) -> None:
        self.limiter.request_interval = self.config.request_interval
        self.limiter.create_interval = self.config.create_interval
        self.limiter.tolerance = self.config.rate_tolerance

    def save(self) -> None:
        self.store.save()

    # ----- life cycle -----
    def start(self) -> list[str]:
        """Load state, bind the port, start SSH machines of running orders. Returns warnings to print."""
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:  # each order's port lock holds a file descriptor
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        warnings = self.store.load()
        for key, balances in config.all_accounts().items():
            self.store.ensure_account(key, balances)
        if config.isolation == "on" and not isolation_available():
            raise SystemExit("clore-sim: --isolation on needs root and unshare(1)")
        self.isolated = config.isolation != "off" and isolation_available()
        if not self.isolated:
            warnings.append(
                "NOT ISOLATED: order SSH sessions run directly on this machine"
                + ("" if os.geteuid() == 0 else f" as user {getpass.getuser()}, who is also the SSH user")
                + "; a playbook run against a rented server changes THIS machine. Run clore-sim as root for "
                "a private mount namespace per order."
            )
        self.ssh = SshManager(config.state_dir, config.ssh_listen, self.isolated, self.store.by_id)
        self.ssh.cleanup_stale()
        self.ports = PortBook(config.ssh_listen, config.port_range)
        for order in self.store.active_orders():
            for port in order["public_ports"].values():
                if not self.ports.hold(port):
                    warnings.append(f"port {port} of order {order['id']} is held by another clore-sim")
        self.api = Api(self.store, config, self.ports.allocate, self._provision, self.release_order,
                       self._created, self._cancelled)
        self.churn = Churn(self.store, self.api.auction, self.api.rivals, self.store.seed)
        self.httpd = SimHTTPServer((config.host, config.port), self)
        self.ssh.start_worker()
        for order in self.store.active_orders():
            if order["provisioned"]:
                self.ssh.request("start", order)
        self.api.upkeep()
        self.store.market_json()  # encode the market now, so that the first request is as fast as the next
        self.save()
        for target in (self.httpd.serve_forever, self._tick):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        if config.ready_file:
            partial = config.ready_file.with_name(config.ready_file.name + ".partial")
            partial.write_text(json.dumps({"url": self.api_url, "pid": os.getpid()}))
            os.replace(partial, config.ready_file)
        return warnings

    @property
    def api_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _tick(self) -> None:
        last_save = time.monotonic()
        while not self._stop.wait(TICK_SECONDS):
            try:
                with self.store.lock:
                    self.churn.run(self.churn.due(self.config.market_churn))
                self.api.upkeep()
                now = time.monotonic()
                if self.store.dirty or (self.store.money_moved and now - last_save > MONEY_SAVE_SECONDS):
                    self.save()
                    last_save = now
            except Exception as err:  # keep ticking; the next tick retries
                print(f"clore-sim: upkeep failed: {err}", file=sys.stderr, flush=True)

    def _provision(self, order: dict) -> None:
        self.ssh.request("start", order)

    def release_order(self, order: dict) -> None:
        """An order ended: stop its machine, give its ports back."""
        if order["key"] is not None and order["end_reason"] in ("outbid", "preempted"):
            self.counters.add("orders_outbid")
        self.ssh.request("stop", order["id"])
        # Only once its sshd has stopped, so that the port is really free for the next order.
        self.ssh.request("run", self.ports.release, *order["public_ports"].values())

    def _created(self) -> None:
        self.counters.add("orders_created")
        self.save()

    def _cancelled(self) -> None:
        self.counters.add("orders_cancelled")
        self.save()

    def shutdown(self) -> None:
        """Stop answering, stop every order's sshd, save the state."""
        self._stop.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self.ssh is not None:
            self.ssh.drain()
            self.ssh.stop_all()
        self.save()
