"""The limiter's safety margin against clore-sim's default 20 ms tolerance: 429s drawn by 10 processes at 1 request/s.

Each process is the collection's own client (the path every module's request takes: limiter, then HTTP) making
3 wallet calls, all at once on one key, as 10 forks do. The 429s are counted by clore-sim (each one is retried, so
every call still succeeds). Run quiet, then with two busy processes beside it (a loaded 2-core machine): the margin
has to cover the delay between a process leaving the limiter and its request reaching the service.
"""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".venv" / "collections"))

from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils.ratelimit import (  # noqa: E402
    CREATE,
    REQUEST,
    SAFETY_MARGIN,
    SharedRateLimiter,
)
from clore_sim.testing import SimServer  # noqa: E402

PROCESSES = 10
CALLS = 3
INTERVAL = 1.0
MARGINS = (0.0, 0.02, SAFETY_MARGIN)


def _caller(url: str, key: str, state_dir: str, margin: float, start_at: float) -> None:
    client = CloreClient(key, url, request_interval=INTERVAL, create_interval=5.0, state_dir=state_dir)
    client._limiter = SharedRateLimiter(url, key, {REQUEST: INTERVAL, CREATE: 5.0}, state_dir, margin=margin)
    time.sleep(max(0.0, start_at - time.time()))
    for _call in range(CALLS):
        client.request("GET", "wallets")


def _burn(stop_at: float) -> None:
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


def _round(margin: float, loaded: bool) -> tuple[int, float]:
    """(429s served, seconds) for one round of PROCESSES x CALLS calls."""
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-margin-") as tmp, \
            SimServer(Path(tmp) / "sim", servers=5, request_interval=INTERVAL, create_interval=5.0) as sim:
        burners = []
        if loaded:
            stop_at = time.time() + PROCESSES * CALLS * INTERVAL * 3
            burners = [ctx.Process(target=_burn, args=(stop_at,), daemon=True) for _i in range(2)]
            for burner in burners:
                burner.start()
        start_at = time.time() + 2.0  # every caller imported and waiting, as forks are
        callers = [ctx.Process(target=_caller, args=(sim.api_url, sim.api_key, str(Path(tmp) / "state"), margin,
                                                     start_at)) for _i in range(PROCESSES)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=300)
        elapsed = time.time() - start_at
        for burner in burners:
            burner.terminate()
            burner.join()
        if any(caller.exitcode != 0 for caller in callers):
            raise RuntimeError(f"a caller failed (margin {margin}); clore-sim's log:\n{sim.log_tail()}")
        return sim.counters()["rate_limited"], elapsed


def run() -> list[dict]:
    rows = []
    for loaded in (False, True):
        for margin in MARGINS:
            served, elapsed = _round(margin, loaded)
            shipped = margin == SAFETY_MARGIN
            rows.append({
                "benchmark": "rate_margin",
                "metric": f"{PROCESSES} procs x {CALLS} calls, margin {margin * 1000:.0f} ms, "
                          f"{'2 busy processes beside' if loaded else 'quiet'}: 429s ({elapsed:.1f} s)",
                "value": served, "unit": "429s",
                "target": "== 0 (the shipped margin)" if shipped else "",
                "ok": served == 0 if shipped else None,
            })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
