"""The shared rate limiter: cost of one acquire, and the spacing it keeps between real processes."""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".venv" / "collections"))

from ansible_collections.clore.ai.plugins.module_utils.ratelimit import (  # noqa: E402
    CREATE,
    REQUEST,
    SAFETY_MARGIN,
    SharedRateLimiter,
)

URL = "http://127.0.0.1:1/v1"
KEY = "bench-limiter-key"


def _worker(state_dir: str, count: int, interval: float, out) -> None:
    lim = SharedRateLimiter(URL, KEY, {REQUEST: interval, CREATE: 0.0}, state_dir)
    stamps = []
    for _i in range(count):
        lim.acquire(REQUEST)
        stamps.append(time.time())
    out.put(stamps)


def _spacing(state_dir: str, processes: int, count: int, interval: float) -> list[float]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(state_dir, count, interval, out)) for _i in range(processes)]
    for worker in workers:
        worker.start()
    stamps = sorted(t for _i in workers for t in out.get(timeout=300))
    for worker in workers:
        worker.join()
    return [b - a for a, b in zip(stamps, stamps[1:])]


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as state_dir:
        # Overhead: an interval so small that nobody waits; what remains is the lock and the file.
        lim = SharedRateLimiter(URL, KEY, {REQUEST: 1e-9, CREATE: 0.0}, state_dir, margin=0.0)
        count = 2000
        started = time.perf_counter()
        for _i in range(count):
            lim.acquire(REQUEST)
        per_call_ms = (time.perf_counter() - started) / count * 1000
        rows.append({"benchmark": "limiter", "metric": "acquire overhead", "value": per_call_ms, "unit": "ms",
                     "target": "< 5 ms", "ok": per_call_ms < 5.0})

        interval = 0.2
        gaps = _spacing(state_dir + "/spacing", processes=8, count=5, interval=interval)
        smallest = min(gaps)
        mean_excess = sum(gaps) / len(gaps) - interval
        rows.append({"benchmark": "limiter", "metric": "8 procs x 5: smallest gap", "value": smallest, "unit": "s",
                     "target": f">= {interval} s", "ok": smallest >= interval})
        rows.append({"benchmark": "limiter", "metric": "8 procs x 5: mean gap beyond interval", "value": mean_excess,
                     "unit": "s", "target": f"<= {SAFETY_MARGIN + 0.03:.2f} s",
                     "ok": mean_excess <= SAFETY_MARGIN + 0.03})
    return rows
