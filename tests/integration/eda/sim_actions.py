"""clore-sim as the rulebook tests read and move it through its API and admin API."""
from __future__ import annotations

from collections.abc import Callable

import requests
from clore_sim.testing import SimServer

from .rulebook import Rulebook, wait_for

GPU = "RTX 4090"


def free_servers(sim: SimServer, gpu: str = GPU) -> list[dict]:
    """Free servers with that GPU, by id."""
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30).json()
    return sorted((s for s in answer["servers"] if gpu in s["specs"]["gpu"] and not s["rented"]),
                  key=lambda s: s["id"])


def usd_per_day(server: dict) -> float:
    """The cheapest on-demand dollar figure of a marketplace row (clore-sim's default price shape lists them)."""
    return min(v for k, v in server["price"]["usd"].items() if k.startswith("on_demand"))


def halve_price(sim: SimServer, server: dict) -> float:
    """The host halves its on-demand price in every coin; the new cheapest dollar figure."""
    answer = sim.admin("POST", "set_prices", {"server_id": server["id"], "on_demand": {
        coin: price / 2 for coin, price in server["price"]["on_demand"].items()}})
    assert answer.get("code") == 0, answer
    return min(v for k, v in answer["price"]["usd"].items() if k.startswith("on_demand"))


def active_orders(sim: SimServer) -> list[dict]:
    return [o for o in sim.orders() if o.get("ended_at") is None]


def restart_and_storm(sim: SimServer, endpoint: str, error_seen: Callable[[], bool], deadline: float,
                      rulebook: Rulebook) -> None:
    """clore-sim stops and starts again (same port and state), then answers every `endpoint` call with HTTP 500 until
    the source has told the error; then the API is well again and one call has been answered."""
    sim.restart()
    sim.fault(endpoint, "http500", rate=1.0)
    wait_for(f"an error event of the {endpoint} source", error_seen, deadline, rulebook)
    sim.admin("POST", "reset", {})  # the faults (and the counters) are cleared
    wait_for(f"{endpoint} read again", lambda: sim.counters()["requests"].get(endpoint, 0) > 0, deadline, rulebook)
