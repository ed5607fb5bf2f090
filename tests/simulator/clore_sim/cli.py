"""`clore-sim`: serve the simulated API until SIGTERM or SIGINT, then stop every order's sshd."""
from __future__ import annotations

import signal
import sys
import threading

from .app import Simulator
from .config import load_config


def banner(sim: Simulator, warnings: list[str]) -> str:
    config = sim.config
    lines = [
        f"clore-sim serving {sim.api_url}",
        f"  API keys (header 'auth: <key>'): {', '.join(sorted(sim.store.accounts))}",
        (f"  market: {len(sim.store.market)} servers recorded in {config.market_file}" if config.market_file
         else f"  market: {sim.store.size} servers, seed {sim.store.seed}")
        + f"; state dir: {config.state_dir}",
        f"  limits per key: {config.request_interval:g} s between requests, {config.create_interval:g} s between "
        f"creates (tolerance {config.rate_tolerance:g} s), counted from "
        + ("any request" if config.create_spacing == "any" else "the previous create")
        + "; 429 answers " + ("with" if config.retry_after == "header" else "without") + " Retry-After",
        f"  answers: prices shaped {config.price_shape}"
        + (" (the recorded market is served as recorded)" if config.market_file else "")
        + f"; orders' mrl in {config.order_mrl_unit}",
        f"  order machines: sshd on {config.ssh_listen}, ports {config.port_range[0]}-{config.port_range[1]}, "
        + ("each in its own mount namespace" if sim.isolated else "NOT isolated"),
        f"  spot: a bid not above the active one is {'refused' if config.spot_low_bid == 'refuse' else 'queued'}; "
        f"outbid orders end after {config.spot_outbid_grace:g} s; on-demand "
        + ("pre-empts spot" if config.on_demand_preempts_spot else "is refused on a spot-rented server")
        + "; market churn: "
        + (f"{config.market_churn:g} events/min (seed {sim.store.seed})" if config.market_churn else "off"),
        "  admin API: " + (f"{sim.api_url[:-3]}/_sim/ (header X-Clore-Sim-Admin)" if config.admin_token else "off"),
    ]
    lines += [f"  WARNING: {w}" for w in warnings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    config = load_config(argv)
    sim = Simulator(config)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        warnings = sim.start()
    except OSError as err:
        print(f"clore-sim: cannot serve on {config.host}:{config.port}: {err}", file=sys.stderr)
        sim.shutdown()
        return 1
    print(banner(sim, warnings), flush=True)
    for warning in warnings:
        print(f"clore-sim: WARNING: {warning}", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    print("clore-sim: shutting down (stopping every order's sshd)", flush=True)
    sim.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
