"""The limiter's safety margin against clore-sim's default 20 ms tolerance: 429s drawn by 10 processes at 1 request/s.

Each process is the collection's own client (the path every module's request takes: limiter, then HTTP) making
3 wallet calls, all at once on one key, as 10 forks do. The 429s are counted by clore-sim (each one is retried, so
every call still succeeds). Run quiet, then with two busy processes beside it (a loaded 2-core machine): the margin
has to cover the delay between a process leaving the limiter and its request reaching the service. Last, the same
load as Ansible makes it: an ansible-playbook run with forks=10, ten hosts each calling clore_wallet_info 3 times, at
the shipped margin (modules take no other).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
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

from tests.benchmarks.common import sim_env  # noqa: E402
from tests.integration.playbook import run_playbook  # noqa: E402
from tests.integration.test_rate_limit import PLAYBOOK, inventory  # noqa: E402

PROCESSES = 10
CALLS = 3
INTERVAL = 1.0
MARGINS = tuple(sorted({0.0, 0.02, 0.05, SAFETY_MARGIN}))


def _caller(url: str, key: str, state_dir: str, margin: float, start_at: float) -> None:
    client = CloreClient(key, url, request_interval=INTERVAL, create_interval=5.0, state_dir=state_dir)
    client._limiter = SharedRateLimiter(url, key, {REQUEST: INTERVAL, CREATE: 5.0}, state_dir, margin=margin)
    time.sleep(max(0.0, start_at - time.time()))
    for _call in range(CALLS):
        client.request("GET", "wallets")


def _burn(stop_at: float) -> None:
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


@contextlib.contextmanager
def _limited_sim() -> Iterator[tuple[Path, SimServer]]:
    """A temporary directory and a clore-sim in it at 1 request/s with its default tolerance."""
    with tempfile.TemporaryDirectory(prefix="bench-margin-") as tmp, \
            SimServer(Path(tmp) / "sim", servers=5, request_interval=INTERVAL, create_interval=5.0) as sim:
        yield Path(tmp), sim


@contextlib.contextmanager
def _busy(loaded: bool) -> Iterator[None]:
    """Two busy processes beside the block when `loaded`, stopped when it ends, whatever happens."""
    ctx = multiprocessing.get_context("spawn")
    stop_at = time.time() + PROCESSES * CALLS * INTERVAL * 3
    burners = [ctx.Process(target=_burn, args=(stop_at,), daemon=True) for _i in range(2 if loaded else 0)]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()


def _round(margin: float, loaded: bool) -> tuple[int, float]:
    """(429s served, seconds) for one round of PROCESSES x CALLS calls."""
    ctx = multiprocessing.get_context("spawn")
    with _limited_sim() as (tmp_path, sim), _busy(loaded):
        start_at = time.time() + 2.0  # every caller imported and waiting, as forks are
        callers = [ctx.Process(target=_caller, args=(sim.api_url, sim.api_key, str(tmp_path / "state"), margin,
                                                     start_at)) for _i in range(PROCESSES)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=300)
        elapsed = time.time() - start_at
        if any(caller.exitcode != 0 for caller in callers):
            raise RuntimeError(f"a caller failed (margin {margin}); clore-sim's log:\n{sim.log_tail()}")
        return sim.counters()["rate_limited"], elapsed


def _forks_round(loaded: bool) -> tuple[int, float]:
    """(429s served, seconds) for one ansible-playbook run: forks=10, ten hosts x CALLS wallet calls."""
    with _limited_sim() as (tmp_path, sim):
        play = tmp_path / "loop.yml"
        play.write_text(PLAYBOOK)
        env = sim_env(sim, tmp_path, tmp_path / "state")
        hosts = [f"client{n:02d}" for n in range(PROCESSES)]
        with _busy(loaded):
            started = time.monotonic()
            done = run_playbook(play, env, inventory=inventory(tmp_path, hosts), forks=PROCESSES,
                                extra_vars={"calls": CALLS}, json_output=False)
            elapsed = time.monotonic() - started
        if done.rc != 0:
            raise RuntimeError(f"the ten-fork play failed\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
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
        served, elapsed = _forks_round(loaded)
        rows.append({
            "benchmark": "rate_margin",
            "metric": f"ansible-playbook forks={PROCESSES}, {PROCESSES} hosts x {CALLS} clore_wallet_info, margin "
                      f"{SAFETY_MARGIN * 1000:.0f} ms, {'2 busy processes beside' if loaded else 'quiet'}: 429s "
                      f"({elapsed:.1f} s)",
            "value": served, "unit": "429s", "target": "== 0", "ok": served == 0,
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
