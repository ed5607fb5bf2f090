"""`SimServer`: a real clore-sim subprocess on a free port, for tests and benchmarks.

    with SimServer(tmp_path / "sim") as sim:
        requests.get(sim.api_url + "/marketplace", headers={"auth": sim.api_key})
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from .ssh import SshManager

PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class SimError(RuntimeError):
    """The simulator did not start, or an admin call was refused."""


class SimServer:
    # Every SimServer started and not stopped yet, in this process: a test harness stops the ones a test left behind.
    _running: ClassVar[set[SimServer]] = set()

    def __init__(self, state_dir: Path | str, *, servers: int = 40, seed: int = 7, request_interval: float = 0.0,
                 create_interval: float = 0.0, listing_lag: float = 0.0, provisioning_delay: float = 0.0,
                 rate_tolerance: float | None = None, accounts: dict[str, dict[str, float]] | None = None,
                 price_shape: str | None = None, order_mrl_unit: str | None = None, retry_after: str | None = None,
                 create_spacing: str | None = None, extra_args: tuple[str, ...] | list[str] = ()) -> None:
        """The shapes (price_shape, order_mrl_unit, retry_after, create_spacing): None is clore-sim's default."""
        self.state_dir = Path(state_dir)
        self.servers = servers
        self.seed = seed
        self.request_interval = request_interval
        self.create_interval = create_interval
        self.listing_lag = listing_lag
        self.provisioning_delay = provisioning_delay
        self.rate_tolerance = rate_tolerance  # None: clore-sim's own default
        self.accounts = dict(accounts) if accounts else {f"sim-test-{secrets.token_hex(8)}": {}}
        self.shapes = {"--price-shape": price_shape, "--order-mrl-unit": order_mrl_unit,
                       "--retry-after": retry_after, "--create-spacing": create_spacing}
        self.extra_args = list(extra_args)
        self.admin_token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.api_url = ""

    # ----- life cycle -----
    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self.state_dir / "clore-sim.log"

    @property
    def base_url(self) -> str:
        return self.api_url[: -len("/v1")]

    @property
    def api_key(self) -> str:
        return next(iter(self.accounts))

    @property
    def keys(self) -> list[str]:
        return list(self.accounts)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        config = self.state_dir / "sim-config.json"
        config.write_text(json.dumps({"accounts": self.accounts}))
        ready = self.state_dir / "ready.json"
        ready.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "clore_sim", "--config", str(config), "--host", "127.0.0.1", "--port", "0",
            "--state-dir", str(self.state_dir), "--admin-token", self.admin_token, "--ready-file", str(ready),
            "--servers", str(self.servers), "--seed", str(self.seed),
            "--request-interval", str(self.request_interval), "--create-interval", str(self.create_interval),
            "--listing-lag", str(self.listing_lag), "--provisioning-delay", str(self.provisioning_delay),
            *(["--rate-tolerance", str(self.rate_tolerance)] if self.rate_tolerance is not None else []),
            *(part for flag, value in self.shapes.items() if value is not None for part in (flag, value)),
            *self.extra_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLORE_SIM_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        SimServer._running.add(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if ready.exists():
                try:
                    self.api_url = json.loads(ready.read_text())["url"]
                    return
                except (ValueError, KeyError):
                    pass  # written but not complete yet
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise SimError(f"clore-sim did not start; its log:\n{self.log_tail()}")

    def stop(self) -> int | None:
        """SIGTERM, then wait for the clean shutdown (every sshd stopped). Returns the exit status.

        A simulator that was killed, crashed or did not shut down in time leaves its orders' sshd servers running:
        those are stopped here too, from their pid files in the state dir, as its next start would. (After a clean
        shutdown, status 0, nothing is swept: what it left would be its own bug, for a test to see.)
        """
        if self.process is None:
            return None
        status = None
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            status = self.process.returncode
        finally:
            self.process = None
            SimServer._running.discard(self)
            if status != 0:
                self.stop_leftover_sshd()
        return status

    def stop_leftover_sshd(self) -> None:
        """Stop the sshd servers that a simulator which did not shut down cleanly left (none after a clean stop)."""
        if (self.state_dir / "orders").is_dir():
            SshManager(self.state_dir, "127.0.0.1", True, {}, log=lambda _msg: None).cleanup_stale()

    @classmethod
    def running(cls) -> set[SimServer]:
        """The simulators started in this process and not stopped yet."""
        return set(cls._running)

    def restart(self) -> None:
        """Stop and start again on the same state dir (the URL changes: a new free port)."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ----- the admin API -----
    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        """A raw admin call under /_sim/; answers the JSON, whatever the HTTP status."""
        path = path.strip("/")
        path = path[len("_sim/"):] if path.startswith("_sim/") else path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}/_sim/{path}", data=data, method=method.upper(),
                                         headers={"X-Clore-Sim-Admin": self.admin_token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read())

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.admin(method, path, body)
        if answer.get("code") != 0:
            raise SimError(f"admin {method} {path}: {answer.get('error', answer)}")
        answer.pop("code")
        return answer

    def counters(self) -> dict:
        return self._call("GET", "counters")

    def fault(self, endpoint: str, kind: str, count: int | None = None, rate: float | None = None,
              delay: float | None = None) -> dict:
        """The next `count` calls (default 1), or with `rate` each call at that probability (for `count` calls,
        or without end when count is None)."""
        return self._call("POST", "fault", {"endpoint": endpoint, "kind": kind, "count": count, "rate": rate,
                                            "delay": delay})["fault"]

    def rent_elsewhere(self, server_id: int) -> None:
        self._call("POST", "rent_elsewhere", {"server_id": server_id})

    def release_elsewhere(self, server_id: int) -> None:
        self._call("POST", "release_elsewhere", {"server_id": server_id})

    def offline(self) -> list[int]:
        """Ids of the servers that are offline (marketplace rows do not say)."""
        return self._call("GET", "offline")["offline"]

    def set_online(self, server_id: int, online: bool) -> None:
        self._call("POST", "set_online", {"server_id": server_id, "online": online})

    def outbid(self, order_id: int) -> None:
        self._call("POST", "outbid", {"order_id": order_id})

    def set_ssh_reachable(self, order_id: int, reachable: bool) -> None:
        self._call("POST", "ssh_reachable", {"order_id": order_id, "reachable": reachable})

    def set_gpu_utilization(self, order_id: int, percent: float) -> None:
        """The order's nvidia-smi reports `percent` GPU utilisation from now on (0: idle)."""
        self._call("POST", "gpu_utilization", {"order_id": order_id, "percent": percent})

    def seed_orders(self, api_key: str, count: int, **kw: Any) -> list[int]:
        """kw: currency, spot (bool), image, ssh_key (only then the orders get an sshd)."""
        return self._call("POST", "seed_orders", {"api_key": api_key, "count": count, **kw})["order_ids"]

    def configure(self, **knobs: float) -> dict:
        return self._call("POST", "configure", knobs)

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "advance_clock", {"seconds": seconds})

    def add_account(self, key: str, balances: dict[str, float] | None = None) -> None:
        self._call("POST", "accounts", {"key": key, "balances": balances or {}})
        self.accounts.setdefault(key, balances or {})

    def orders(self) -> list[dict]:
        """Every order of every key, as the simulator holds it (no secrets)."""
        return self._call("GET", "orders")["orders"]

    # ----- the spot auction -----
    def rival_bid(self, server_id: int, price: float, currency: str | None = None, ceiling: float | None = None,
                  step: float | None = None, delay: float = 0.0) -> dict:
        """Another renter's bid; with `ceiling` a rival that re-bids `step` above the active bid up to it. Answers
        {rival_id, offer_id, bid, active, waiting, state, rebids, ...}."""
        body: dict[str, Any] = {"server_id": server_id, "price": price, "delay": delay}
        body.update({k: v for k, v in (("currency", currency), ("ceiling", ceiling), ("step", step)) if v is not None})
        return self._call("POST", "rival_bid", body)

    def withdraw_rival(self, rival_id: int | None = None, server_id: int | None = None) -> list[int]:
        """End one rival's bid, or every other renter's bid on a server. Answers the offer ids ended."""
        body = {"rival_id": rival_id} if rival_id is not None else {"server_id": server_id}
        return self._call("POST", "withdraw_rival", body)["withdrawn"]

    def rivals(self) -> dict:
        """{rivals: [...], bids: [every standing bid of other renters]}"""
        return self._call("GET", "rivals")

    def set_prices(self, server_id: int, on_demand: dict[str, float] | None = None,
                   spot: dict[str, float] | None = None) -> dict:
        body: dict[str, Any] = {"server_id": server_id}
        body.update({k: v for k, v in (("on_demand", on_demand), ("spot", spot)) if v is not None})
        return self._call("POST", "set_prices", body)["price"]

    def churn(self, events: int = 1) -> list[str]:
        """Run `events` market events now (the seeded generator of --market-churn)."""
        return self._call("POST", "churn", {"events": events})["events"]

    def reset(self) -> None:
        self._call("POST", "reset")
