"""clore-sim under load: a 10,000-server marketplace, and 50 requests/s spread over several keys.

Run alone: .venv/bin/python -m tests.benchmarks sim
"""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
from clore_sim.testing import SimServer

MARKET_SIZE = 10_000
MARKET_REQUESTS = 20
LOAD_SECONDS = 5.0
LOAD_RATE = 50.0  # requests per second over all keys
ENDPOINTS = ("wallets", "my_orders", "marketplace", "spot_marketplace")


def _row(metric: str, value: float | int, unit: str, target: str = "", ok: bool | None = None) -> dict:
    return {"benchmark": "sim", "metric": metric, "value": value, "unit": unit, "target": target, "ok": ok}


def _timed_get(session: requests.Session, url: str, key: str) -> tuple[float, float]:
    """(seconds until the whole answer is received, seconds the client then spends decoding the JSON)"""
    started = time.perf_counter()
    answer = session.get(url, headers={"auth": key}, timeout=30)
    answer.raise_for_status()
    received = time.perf_counter()
    answer.json()
    return received - started, time.perf_counter() - received


def bench_marketplace(workdir: Path) -> list[dict]:
    with SimServer(workdir / "market", servers=MARKET_SIZE) as sim, requests.Session() as session:
        url = f"{sim.api_url}/marketplace"
        cold = _timed_get(session, url, sim.api_key)[0]
        timings = [_timed_get(session, url, sim.api_key) for _request in range(MARKET_REQUESTS)]
        warm = [answer for answer, _parse in timings]
        decode = statistics.mean(parse for _answer, parse in timings)
        size = len(session.get(url, headers={"auth": sim.api_key}, timeout=30).content)
        # A new order changes a server's `rented`: the next answer is rebuilt once, then cached again.
        sim.seed_orders(sim.api_key, 1)
        rebuilt = _timed_get(session, url, sim.api_key)[0]
    mean, worst = statistics.mean(warm), max(warm)
    return [
        _row(f"marketplace {MARKET_SIZE} servers, first request", cold, "s", "< 0.3", cold < 0.3),
        _row(f"marketplace {MARKET_SIZE} servers, mean of {MARKET_REQUESTS}", mean, "s", "< 0.3", mean < 0.3),
        _row(f"marketplace {MARKET_SIZE} servers, slowest of {MARKET_REQUESTS}", worst, "s", "< 0.3", worst < 0.3),
        _row(f"marketplace {MARKET_SIZE} servers, after a change", rebuilt, "s", "< 0.3", rebuilt < 0.3),
        _row("marketplace answer size", round(size / 1e6, 2), "MB"),
        _row("marketplace: client-side JSON decode (requests), mean", decode, "s"),
    ]


def _load(sim: SimServer, keys: list[str], per_key_rate: float) -> dict:
    """Each key sends at per_key_rate from its own thread and connection; returns outcome counts and latencies."""
    outcomes: dict[str, int] = {"ok": 0, "429": 0, "error": 0}
    latencies: list[float] = []
    lock = threading.Lock()
    market_id = requests.get(f"{sim.api_url}/marketplace", headers={"auth": keys[0]}, timeout=30).json()[
        "servers"][0]["id"]
    # Every key's warm-up request (which opens its connection) is over before the timed run starts.
    start = time.monotonic() + 1.0 + max(1.0, 1 / per_key_rate)

    def run(key: str, offset: float) -> None:
        with requests.Session() as session:
            session.get(f"{sim.api_url}/wallets", headers={"auth": key}, timeout=30)
            i = 0
            while True:
                due = start + offset + i / per_key_rate
                if due >= start + LOAD_SECONDS:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                endpoint = ENDPOINTS[i % len(ENDPOINTS)]
                params = {"market": market_id} if endpoint == "spot_marketplace" else None
                sent = time.perf_counter()
                try:
                    answer = session.get(f"{sim.api_url}/{endpoint}", headers={"auth": key}, params=params,
                                         timeout=30)
                    code = answer.json().get("code")
                    outcome = "429" if answer.status_code == 429 and code == 5 else (
                        "ok" if answer.status_code == 200 and code == 0 else "error")
                except (requests.RequestException, ValueError):
                    outcome = "error"
                with lock:
                    outcomes[outcome] += 1
                    latencies.append(time.perf_counter() - sent)
                i += 1

    # Keys take turns: together they send evenly at len(keys) * per_key_rate requests/s.
    threads = [threading.Thread(target=run, args=(key, n / (len(keys) * per_key_rate))) for n, key in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    outcomes["p95"] = latencies[int(len(latencies) * 0.95)] if latencies else 0.0
    outcomes["total"] = len(latencies)
    return outcomes


def bench_load(workdir: Path) -> list[dict]:
    rows = []
    # 50 keys, each exactly at the default limit of 1 request/s: every request must be served.
    keys = [f"bench-key-{n}" for n in range(50)]
    with SimServer(workdir / "at-limit", request_interval=1.0, create_interval=5.0,
                   accounts={k: {} for k in keys}) as sim:
        result = _load(sim, keys, per_key_rate=1.0)
    rows += [
        _row("50 keys x 1 req/s (at the limit): requests", result["total"], "requests"),
        _row("50 keys x 1 req/s: errors other than 429", result["error"], "errors", "0", result["error"] == 0),
        _row("50 keys x 1 req/s: 429 answers", result["429"], "answers", "0", result["429"] == 0),
        _row("50 keys x 1 req/s: p95 latency", result["p95"], "s", "< 0.1", result["p95"] < 0.1),
    ]
    # 5 keys at 10 requests/s each, far over the limit: the 429s are intended, nothing else may fail.
    keys = [f"bench-fast-{n}" for n in range(5)]
    with SimServer(workdir / "over-limit", request_interval=1.0, accounts={k: {} for k in keys}) as sim:
        result = _load(sim, keys, per_key_rate=LOAD_RATE / len(keys))
    rows += [
        _row("5 keys x 10 req/s (over the limit): requests", result["total"], "requests"),
        _row("5 keys x 10 req/s: errors other than 429", result["error"], "errors", "0", result["error"] == 0),
        _row("5 keys x 10 req/s: served", result["ok"], "answers", f"~{int(LOAD_SECONDS) * len(keys)}"),
        _row("5 keys x 10 req/s: 429 answers (intended)", result["429"], "answers"),
    ]
    return rows


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as workdir:
        return bench_marketplace(Path(workdir)) + bench_load(Path(workdir))


if __name__ == "__main__":
    for row in run():
        print(row)
