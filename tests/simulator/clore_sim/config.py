"""Settings of one clore-sim run: defaults, a JSON config file, CLORE_SIM_* environment variables, then flags."""
from __future__ import annotations

import argparse
import json
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .price_shapes import DEFAULT_PRICE_SHAPE, PRICE_SHAPES

CURRENCIES = ("bitcoin", "CLORE-Blockchain", "USD-Blockchain")
DEFAULT_BALANCES = {"bitcoin": 1.0, "CLORE-Blockchain": 5_000_000.0, "USD-Blockchain": 100_000.0}
# Knobs that the admin API may change while the simulator runs.
LIVE_KNOBS = (
    "request_interval",
    "create_interval",
    "rate_tolerance",
    "listing_lag",
    "provisioning_delay",
    "spot_lower_window",
    "spot_max_step",
    "spot_outbid_grace",
    "market_churn",
    "clock_offset",
)
# Live knobs that may be negative.
SIGNED_KNOBS = ("clock_offset",)
# Knobs of the spot auction that take one of a few values (changed live by the admin API too).
LIVE_CHOICES: dict[str, tuple] = {
    "spot_low_bid": ("queue", "refuse"),
    "on_demand_preempts_spot": (False, True),
}
# Shapes of the answers, chosen at start: what real answers and public clients show (docs/simulator.md).
CHOICES: dict[str, tuple[str, ...]] = {
    "price_shape": PRICE_SHAPES,
    "order_mrl_unit": ("hours", "seconds"),
    "retry_after": ("none", "header"),
    "create_spacing": ("any", "create"),
}


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8199
    state_dir: Path = Path(".sim-state")
    api_keys: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, float]] = field(default_factory=dict)
    admin_token: str | None = None
    servers: int = 40
    seed: int = 7
    market_file: Path | None = None  # a recorded marketplace answer served instead of the generated market
    request_interval: float = 1.0
    create_interval: float = 5.0
    rate_tolerance: float = 0.02
    listing_lag: float = 0.0
    provisioning_delay: float = 0.0
    spot_lower_window: float = 600.0
    spot_max_step: float = 0.1
    clock_offset: float = 0.0
    spot_low_bid: str = "queue"  # a bid not above the active one: queue | refuse
    spot_outbid_grace: float = 0.0
    on_demand_preempts_spot: bool = False
    market_churn: float = 0.0  # other renters' and hosts' market events per minute; 0 = a still market
    price_shape: str = DEFAULT_PRICE_SHAPE  # how marketplace rows carry prices (price_shapes.py)
    order_mrl_unit: str = "hours"  # my_orders rows' mrl: hours (as the real API) or seconds (as one client reads)
    retry_after: str = "none"  # a 429 with a Retry-After header, or without (as recorded)
    create_spacing: str = "any"  # a create's interval counts from any accepted request, or from the last create
    public_host: str = "127.0.0.1"
    ssh_listen: str = "127.0.0.1"
    port_range: tuple[int, int] = (20000, 29999)
    isolation: str = "auto"  # auto | on | off
    ready_file: Path | None = None
    quiet: bool = False

    def all_accounts(self) -> dict[str, dict[str, float]]:
        """Accounts from `accounts` plus every `api_keys` entry with the default balances."""
        result = {key: dict(DEFAULT_BALANCES) for key in self.api_keys}
        for key, balances in self.accounts.items():
            result[key] = {**DEFAULT_BALANCES, **{c: float(v) for c, v in balances.items()}} if balances else dict(
                DEFAULT_BALANCES
            )
        return result


def _port_range(text: str) -> tuple[int, int]:
    low, _sep, high = str(text).partition("-")
    first, last = int(low), int(high or low)
    if not 1 <= first <= last <= 65535:
        raise argparse.ArgumentTypeError(f"bad port range {text!r}: expected LOW-HIGH within 1-65535")
    return first, last


def _account(text: str) -> tuple[str, dict[str, float]]:
    """KEY or KEY=currency:amount,currency:amount"""
    key, _sep, spec = text.partition("=")
    balances: dict[str, float] = {}
    for part in filter(None, spec.split(",")):
        currency, _sep, amount = part.partition(":")
        if currency not in CURRENCIES:
            raise argparse.ArgumentTypeError(f"unknown currency {currency!r} in --account {text!r}")
        balances[currency] = float(amount)
    if not key:
        raise argparse.ArgumentTypeError("--account needs a key")
    return key, balances


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clore-sim",
        description="A local Clore.ai: the REST API with its rate limits and errors, and real OpenSSH servers "
        "as the rented machines. Every option can also be set as CLORE_SIM_<OPTION> or in --config FILE.",
    )
    add = p.add_argument
    add("--config", type=Path, help="JSON file with any of the options below (keys as the long flag, '_' for '-')")
    add("--host", help="address the API listens on (default 127.0.0.1)")
    add("--port", type=int, help="API port (default 8199; 0 picks a free one)")
    add("--state-dir", type=Path, help="where orders, balances and per-order SSH roots persist (default .sim-state)")
    add("--api-key", action="append", dest="api_keys", help="an accepted API key with default balances (repeatable)")
    add("--account", action="append", type=_account, dest="account_list",
        help="KEY=currency:amount,... an accepted key with its own balances (repeatable)")
    add("--admin-token", help="enable the admin API under /_sim/, guarded by header X-Clore-Sim-Admin: TOKEN")
    add("--servers", type=int, help="market size (default 40)")
    add("--seed", type=int, help="market seed (default 7); the market is the same for the same seed and size")
    add("--market-file", type=Path,
        help="serve this recorded marketplace answer (clore_api_check's marketplace.json) instead of a generated "
        "market")
    add("--request-interval", type=float, help="seconds between any two requests of one key (default 1.0)")
    add("--create-interval", type=float, help="seconds between two create_order of one key (default 5.0)")
    add("--rate-tolerance", type=float, help="slack accepted on both intervals, in seconds (default 0.02)")
    add("--listing-lag", type=float, help="seconds before a new order appears in my_orders (default 0)")
    add("--provisioning-delay", type=float,
        help="seconds before a new order gets its host, ports and SSH server (default 0)")
    add("--spot-lower-window", type=float, help="seconds between two lowerings of a spot price (default 600)")
    add("--spot-max-step", type=float, help="largest lowering at once, as a fraction of the current bid (default 0.1)")
    add("--clock-offset", type=float,
        help="seconds added to every time clore-sim reports (orders' ct, the HTTP Date header): -300 plays a Clore "
        "whose clock is 5 minutes behind the client's (default 0)")
    add("--spot-low-bid", choices=LIVE_CHOICES["spot_low_bid"],
        help="a spot bid not above the active one: queue = accepted and kept waiting (default), "
        "refuse = code 6 server-already-rented")
    add("--spot-outbid-grace", type=float,
        help="seconds an outbid spot order keeps running before it ends (default 0)")
    add("--on-demand-preempts-spot", action="store_true", default=None,
        help="an on-demand order on a server running a spot order ends that order (default: refused)")
    add("--market-churn", type=float,
        help="market events per minute: other renters rent, free and bid, hosts change prices; drawn from "
        "--seed (default 0: a still market)")
    add("--price-shape", choices=CHOICES["price_shape"],
        help="how marketplace rows carry prices: usd-keys = price.usd with on_demand_<coin> and spot (default), "
        "usd-partial = price.usd on some rows only, some keys missing; nested-usd = a usd key inside "
        "price.on_demand and price.spot; original-usd = price.original_usd per coin; none = the 2024 answer "
        "(no USD, bitcoin and CLORE-Blockchain only, some spot minimums at or above on-demand)")
    add("--order-mrl-unit", choices=CHOICES["order_mrl_unit"],
        help="the unit of my_orders rows' mrl: hours (default, as the real API) or seconds")
    add("--retry-after", choices=CHOICES["retry_after"],
        help="a 429 answer: none = {\"code\": 5} without a Retry-After header (default, as recorded), "
        "header = with one")
    add("--create-spacing", choices=CHOICES["create_spacing"],
        help="the create interval counts from: any = any accepted request of the key (default, the stricter), "
        "create = the key's previous create")
    add("--public-host", help="host name shown in pub_cluster (default 127.0.0.1)")
    add("--ssh-listen", help="address every order's sshd listens on (default 127.0.0.1)")
    add("--port-range", type=_port_range, help="public ports handed to orders, LOW-HIGH (default 20000-29999)")
    add("--isolation", choices=("auto", "on", "off"),
        help="run each order's sshd in its own mount namespace: auto = when root (default)")
    add("--ready-file", type=Path, help="write {url, pid} here as JSON once the API listens")
    add("--quiet", action="store_true", default=None, help="no request log")
    return p


_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(name: str, value: Any) -> Any:
    if name in ("state_dir", "ready_file", "market_file"):
        return Path(value)
    if name == "port_range":
        return _port_range(value) if isinstance(value, str) else tuple(value)
    if name == "api_keys":
        return [k for k in (value.split(",") if isinstance(value, str) else value) if k]
    if name == "accounts":
        return json.loads(value) if isinstance(value, str) else dict(value)
    if name in ("quiet", "on_demand_preempts_spot"):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    default = getattr(Config(), name)
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def load_config(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Flags win over the environment, which wins over the config file, which wins over defaults."""
    args = build_parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = args.config or (Path(environ["CLORE_SIM_CONFIG"]) if environ.get("CLORE_SIM_CONFIG") else None)
    if config_file:
        for key, value in json.loads(config_file.read_text()).items():
            name = key.replace("-", "_")
            if name not in _TYPES:
                raise SystemExit(f"clore-sim: unknown option {key!r} in {config_file}")
            values[name] = _coerce(name, value)
    for name in _TYPES:
        env_value = environ.get(f"CLORE_SIM_{name.upper()}")
        if env_value not in (None, ""):
            values[name] = _coerce(name, env_value)
    for name, value in vars(args).items():
        if value is None or name in ("config", "account_list"):
            continue
        values[name] = _coerce(name, value)
    if args.account_list:
        values.setdefault("accounts", {})
        values["accounts"] = {**values["accounts"], **dict(args.account_list)}
    config = Config(**values)
    for name, choices in CHOICES.items():
        if getattr(config, name) not in choices:
            raise SystemExit(f"clore-sim: {name} must be one of {', '.join(choices)}, not {getattr(config, name)!r}")
    if config.spot_low_bid not in LIVE_CHOICES["spot_low_bid"]:
        raise SystemExit(f"clore-sim: spot_low_bid must be one of {', '.join(LIVE_CHOICES['spot_low_bid'])}, "
                         f"not {config.spot_low_bid!r}")
    for name in ("spot_outbid_grace", "market_churn"):
        if getattr(config, name) < 0:
            raise SystemExit(f"clore-sim: {name} must be >= 0")
    if not config.api_keys and not config.accounts:
        config.api_keys = ["sim-" + secrets.token_hex(12)]
    return config
