"""money_quality: the price clore_order would pay, against the cheapest price it could pay, in every price shape.

For each clore-sim --price-shape and 20 seeds, clore_order plans one RTX 4090 (count 1, on demand, no currency
given) in check mode: the module alone, as bench_order_market runs it. The oracle reads the same marketplace answer
raw: among the free rows the same filter keeps, every coin a row accepts, priced in USD at clore-sim's own rates
(spot_marketplace's currency_rates_in_usd): the cheapest is what a perfect plan pays. Per shape it prints:
  - the overpay ratio, the plan's price in USD over the oracle's, worst of the seeds (target 1.000; a plan that failed
    counts as not 1.000);
  - the plans that failed (a shape the module could not price, or no payable server found);
  - the API calls a plan made beyond my_orders and marketplace (the rate lookup), most in one run (target <= 1).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from clore_sim.price_shapes import PRICE_SHAPES
from clore_sim.testing import SimServer

from tests.benchmarks.bench_market_info import COLLECTIONS, REPO

SEEDS = range(1, 21)
SERVERS = 60
MODULE = REPO / "plugins" / "modules" / "clore_order.py"
GPU = "RTX 4090"
PLAN = {"count": 1, "gpu": [GPU], "image": "cloreai/ubuntu22.04-jupyter", "wait": False}
PLAN_CALLS = ("my_orders", "marketplace")  # what a plan reads without any rate lookup
WORKERS = 2
TOLERANCE = 5e-4  # printed to 3 decimals: 1.000 means within this


def oracle_usd(rows: list[dict], rates: dict[str, float]) -> float:
    """The cheapest on-demand price in USD per day over the free rows with the GPU and every coin each accepts."""
    prices = [
        float(price) * rates[coin]
        for row in rows
        if not row.get("rented") and GPU in str((row.get("specs") or {}).get("gpu", ""))
        for coin, price in ((row.get("price") or {}).get("on_demand") or {}).items()
        if coin in rates and coin in (row.get("allowed_coins") or []) and isinstance(price, (int, float))
    ]
    return min(prices) if prices else math.nan


def plan_alone(args: dict, state: Path) -> dict:
    """clore_order's result for `args`, the module run alone in a process of its own."""
    args_file = state / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, str(MODULE), str(args_file)], env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)),
                          capture_output=True, check=False)
    out = done.stdout
    return json.loads(out[out.find(b"{"):] or b"{}")


def _api(sim: SimServer, endpoint: str, **params: str) -> dict:
    return requests.get(f"{sim.api_url}/{endpoint}", headers={"auth": sim.api_key}, params=params, timeout=60).json()


def one_seed(shape: str, seed: int) -> tuple[float, int]:
    """(overpay ratio, or nan when the plan failed; API calls beyond PLAN_CALLS) for one seed of one shape."""
    with tempfile.TemporaryDirectory() as tmp, \
            SimServer(Path(tmp) / "sim", servers=SERVERS, seed=seed, price_shape=shape) as sim:
        rows = _api(sim, "marketplace")["servers"]
        rates = _api(sim, "spot_marketplace", market=str(rows[0]["id"]))["market"]["currency_rates_in_usd"]
        before = dict(sim.counters()["requests"])
        args = {"api_key": sim.api_key, "api_url": sim.api_url, "api_request_interval": 0, "api_create_interval": 0,
                "api_state_dir": str(Path(tmp) / "state"), **PLAN, "_ansible_check_mode": True}
        result = plan_alone(args, Path(tmp))
        after = sim.counters()["requests"]
        extra = sum(count - before.get(endpoint, 0) for endpoint, count in after.items() if endpoint not in PLAN_CALLS)
        planned = (result.get("would_create") or [None])[0]
        if result.get("failed") or not planned or planned.get("currency") not in rates:
            return math.nan, extra
        paid = float(planned["price_per_day"]) * rates[planned["currency"]]
        return paid / oracle_usd(rows, rates), extra


def run() -> list[dict]:
    rows: list[dict] = []
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = {shape: list(pool.map(lambda seed, shape=shape: one_seed(shape, seed), SEEDS))
                    for shape in PRICE_SHAPES}
    for shape, results in outcomes.items():
        ratios = [ratio for ratio, _extra in results if not math.isnan(ratio)]
        failed = len(results) - len(ratios)
        worst = max(ratios) if ratios else math.nan
        mean = sum(ratios) / len(ratios) if ratios else math.nan
        exact = not failed and abs(worst - 1.0) <= TOLERANCE and min(ratios) >= 1.0 - TOLERANCE
        rows.append({"benchmark": "money_quality", "metric": f"{shape}: overpay ratio, worst of {len(results)} seeds "
                     f"(mean {mean:.3f})", "value": worst, "unit": "x", "target": "1.000", "ok": exact})
        rows.append({"benchmark": "money_quality", "metric": f"{shape}: plans that failed", "value": failed,
                     "unit": "plans", "target": "0", "ok": failed == 0})
        extra = max(extra for _ratio, extra in results)
        rows.append({"benchmark": "money_quality", "metric": f"{shape}: API calls for the rate lookup, most in one "
                     "plan", "value": extra, "unit": "calls", "target": "<= 1", "ok": extra <= 1})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
