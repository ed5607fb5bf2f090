"""The rulebooks run by the real ansible-rulebook against clore-sim at the API's limits (1 request/s, 1 create/5 s
after any request), with the sources polling every 2 s.

Measured: event latency - a price falls under the cap (auto_rent) until the order is listed; one order of a spot
fleet of 2 is outbid (keep_fleet) until two run again - against its floor, the poll interval + the create spacing
(goal: within 2 s of it); and the API calls per minute each source makes on its own (no playbook running).
"""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from clore_sim.testing import SimServer

from tests.integration.eda.sim_actions import active_orders, free_servers, halve_price, usd_per_day
from tests.integration.eda.rulebook import Rulebook, wait_for
from tests.integration.playbook import base_env, run_playbook

INTERVAL = 2.0
CREATE_SPACING = 5.0
FLOOR = INTERVAL + CREATE_SPACING
GOAL = 2.0  # seconds above the floor
QUIET = 30.0  # seconds of a source's own calls counted
REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".venv" / "collections"


def _env(sim: SimServer, tmp: Path) -> dict[str, str]:
    env = base_env(COLLECTIONS, tmp)
    env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key, "CLORE_STATE_DIR": str(tmp / "state")})
    return env


def _per_minute(sim: SimServer, rulebook: Rulebook) -> float:
    """The key's calls per minute over QUIET seconds in which only the source calls."""
    before = sim.counters()["requests_by_key"].get(sim.api_key, 0)
    time.sleep(QUIET)
    rulebook.assert_running()
    return (sim.counters()["requests_by_key"].get(sim.api_key, 0) - before) * 60 / QUIET


def _auto_rent(tmp: Path, key: Path) -> tuple[float, float]:
    with SimServer(tmp / "sim-market", servers=12, request_interval=1.0, create_interval=CREATE_SPACING) as sim:
        servers = free_servers(sim)
        cap = 0.8 * min(usd_per_day(s) for s in servers)
        variables = {"auto_rent_max_price": cap, "auto_rent_interval": INTERVAL, "auto_rent_wait": False,
                     "auto_rent_ssh_private_key_file": str(key)}
        with Rulebook("auto_rent", _env(sim, tmp), tmp / "eda-market", variables) as rulebook:
            wait_for("the engine's start", lambda: "Waiting for events" in rulebook.log, 120, rulebook)
            calls = _per_minute(sim, rulebook)
            started = time.monotonic()
            halve_price(sim, servers[0])
            wait_for("the order", lambda: active_orders(sim), 120, rulebook, step=0.1)
            latency = time.monotonic() - started
            wait_for("the playbook's end", lambda: "PLAY RECAP" in rulebook.log, 120, rulebook)
    return latency, calls


def _keep_fleet(tmp: Path, key: Path, spot_markets: bool) -> tuple[float, float]:
    with SimServer(tmp / f"sim-orders-{spot_markets}", servers=12, request_interval=1.0,
                   create_interval=CREATE_SPACING) as sim:
        env = _env(sim, tmp)
        fleet = {"spot_fleet_count": 2, "spot_fleet_max_price": 12.0, "spot_fleet_wait": False,
                 "spot_fleet_ssh_private_key_file": str(key)}
        rented = run_playbook(REPO / "playbooks" / "spot_fleet.yml", env, extra_vars=fleet)
        if rented.rc != 0:
            raise RuntimeError(f"spot_fleet.yml failed\n{rented.stdout[-3000:]}")

        def running() -> list[dict]:
            return [o for o in active_orders(sim) if not o.get("waiting")]

        variables = {**fleet, "keep_fleet_interval": INTERVAL, "keep_fleet_spot_markets": spot_markets}
        with Rulebook("keep_fleet", env, tmp / f"eda-orders-{spot_markets}", variables) as rulebook:
            wait_for("the engine's start", lambda: "Waiting for events" in rulebook.log, 120, rulebook)
            calls = _per_minute(sim, rulebook)
            started = time.monotonic()
            sim.outbid(running()[0]["id"])
            wait_for("two running again", lambda: len(running()) == 2, 180, rulebook, step=0.1)
            latency = time.monotonic() - started
            wait_for("the playbook's end", lambda: "PLAY RECAP" in rulebook.log, 180, rulebook)
    return latency, calls


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-eda-") as tmp:
        tmp_path = Path(tmp)
        key = tmp_path / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        offer_latency, market_calls = _auto_rent(tmp_path, key)
        outbid_latency, orders_calls = _keep_fleet(tmp_path, key, spot_markets=False)
        outbid_latency_markets, orders_calls_markets = _keep_fleet(tmp_path, key, spot_markets=True)
    bench = f"eda (interval {INTERVAL:g} s, create spacing {CREATE_SPACING:g} s)"
    target = f"<= floor {FLOOR:g} s + {GOAL:g} s"
    return [
        {"benchmark": bench, "metric": "price under the cap -> order listed (auto_rent)",
         "value": round(offer_latency, 2), "unit": "s", "target": target, "ok": offer_latency <= FLOOR + GOAL},
        {"benchmark": bench, "metric": "outbid -> fleet of 2 running again (keep_fleet, my orders only)",
         "value": round(outbid_latency, 2), "unit": "s", "target": target, "ok": outbid_latency <= FLOOR + GOAL},
        {"benchmark": bench, "metric": "outbid -> fleet of 2 running again (keep_fleet, spot markets read)",
         "value": round(outbid_latency_markets, 2), "unit": "s", "target": target,
         "ok": outbid_latency_markets <= FLOOR + GOAL},
        {"benchmark": bench, "metric": "clore.ai.market calls per minute", "value": round(market_calls, 1),
         "unit": "calls/min", "target": f"<= {60 / INTERVAL:g} (one marketplace read a poll)",
         "ok": market_calls <= 60 / INTERVAL + 2},
        {"benchmark": bench, "metric": "clore.ai.orders calls per minute (2 spot orders, my orders only)",
         "value": round(orders_calls, 1), "unit": "calls/min", "target": f"<= {60 / INTERVAL:g} (one my_orders a poll)",
         "ok": orders_calls <= 60 / INTERVAL + 2},
        {"benchmark": bench, "metric": "clore.ai.orders calls per minute (2 spot orders, spot markets read)",
         "value": round(orders_calls_markets, 1), "unit": "calls/min", "target": "<= 60 (the key's 1 request/s)",
         "ok": orders_calls_markets <= 60},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
