"""clore_order's market read on a 50,000-server market (clore-sim --servers 50000): peak RSS of the module process.

Each case is a real module run in check mode (it reads and plans exactly as a real run, and rents nothing), measured
as bench_market_info measures clore_market_info: a fresh parent interpreter starts the module file with an arguments
file and reports getrusage(RUSAGE_CHILDREN), the peak RSS of the module process alone. Cases: a fleet with a GPU
filter (a typical plan), a fleet with no filter (every free server a candidate), a spot fleet with spot_max_price
(servers held by others kept as spot candidates too), and one server by id.
Target: peak RSS < 200 MB for the typical fleet plan, as for clore_market_info's typical search.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from clore_sim.testing import SimServer

from tests.benchmarks.bench_market_info import MEMORY_TARGET_MB, REPO, run_module_alone

SERVERS = 50_000
MODULE = REPO / "plugins" / "modules" / "clore_order.py"
IMAGE = "cloreai/ubuntu22.04-jupyter"
CASES: dict[str, dict] = {
    "fleet of 2, gpu RTX 4090": {"count": 2, "gpu": ["RTX 4090"]},
    "fleet of 2, no filter": {"count": 2},
    "spot fleet of 2, spot_max_price": {"count": 2, "gpu": ["RTX 4090"], "type": "spot", "currency": "USD-Blockchain",
                                        "spot_max_price": 50.0},
}


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, \
            SimServer(Path(tmp) / "sim", servers=SERVERS, request_interval=0.0) as sim:
        state = Path(tmp)
        connection = {"api_key": sim.api_key, "api_url": sim.api_url, "api_request_interval": 0,
                      "api_state_dir": str(state / "state"), "image": IMAGE, "wait": False}
        chosen: int | None = None  # the server the first plan chose, for the case by id
        for name, args in list(CASES.items()) + [("one server by id", None)]:
            cpu, rss, result = run_module_alone(
                {**connection, **(args or {"server_id": chosen}), "_ansible_check_mode": True}, state, MODULE)
            assert not result.get("failed") and result.get("would_create"), (name, result.get("msg"))
            chosen = chosen or result["would_create"][0]["server_id"]
            typical = name == "fleet of 2, gpu RTX 4090"
            rows.append({"benchmark": "order_market", "metric": f"{SERVERS // 1000}k: {name}: peak RSS", "value": rss,
                         "unit": "MB", "target": f"< {MEMORY_TARGET_MB:g} MB" if typical else "",
                         "ok": rss < MEMORY_TARGET_MB if typical else None})
            rows.append({"benchmark": "order_market", "metric": f"{SERVERS // 1000}k: {name}: CPU", "value": cpu,
                         "unit": "s", "target": "", "ok": None})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
