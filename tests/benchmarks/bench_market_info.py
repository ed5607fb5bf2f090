"""clore_market_info on a 10,000- and a 50,000-server market (clore-sim --servers 10000 / 50000).

Two kinds of measurement:
- In process: the marketplace download as the module reads it, CloreClient.marketplace_each (HTTP and JSON decoding
  row by row, each row dropped at once: the reference for "beyond the download"); and at 10,000 servers the whole
  listing decoded by CloreClient.marketplace() and select_servers on it (normalise, filter, count, sort, limit), for
  a typical search and for the default search that returns every free server. CPU time throughout.
- Real module runs, each a child process as Ansible starts it (the module file with an arguments file), started by
  a fresh parent interpreter that does nothing else and reports getrusage(RUSAGE_CHILDREN): the CPU time and peak
  RSS of the module process alone. (A child started from this process would report this process's own peak as its
  floor, because the kernel carries the peak of the process image it replaces over into ru_maxrss.)
  "Beyond the download" is the run's CPU time minus the in-process download minus the interpreter and import
  start-up (a run refused before any API call). CPU time, not wall time, so that other work on a shared machine does
  not blur the difference; the simulator's own CPU is in another process.
Targets: the module's work beyond the download at 10,000 servers < 0.2 s; peak memory < 200 MB at 10,000 servers
and for the typical search at 50,000.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from clore_sim.testing import SimServer

from tests.benchmarks.common import COLLECTIONS, REPO

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils.market import select_servers  # noqa: E402

SERVERS = 10_000
LARGE_MARKET = 50_000
RUNS = 5
MODULE = REPO / "plugins" / "modules" / "clore_market_info.py"
TIME_TARGET = 0.2
MEMORY_TARGET_MB = 200.0
TYPICAL = {"gpu": ["RTX 4090", "RTX 3090"], "cuda_min": "12.4", "max_price": {"amount": 0.5, "per": "gpu_hour"},
           "limit": 20}
EVERY_FREE_SERVER: dict = {}
# The fresh parent: runs the module (argv[1:]) with its output in a file and prints the children's usage.
_PARENT = """
import json, resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL, check=False)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss}))
"""


def _best(fn, runs: int = RUNS, clock=time.process_time) -> float:
    times = []
    for _run in range(runs):
        started = clock()
        fn()
        times.append(clock() - started)
    return min(times)


def _select(listing: list[dict], search: dict) -> None:
    filters = {k: v for k, v in search.items() if k != "limit"}
    select_servers(listing, filters, limit=search.get("limit"))


def run_module_alone(args: dict, state: Path, module: Path = MODULE) -> tuple[float, float, dict]:
    """(CPU seconds, peak RSS MB, result) of one run of `module`: its process alone, measured by a fresh parent."""
    args_file = state / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    result_file = state / "result.json"
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    parent = subprocess.run([sys.executable, "-c", _PARENT, str(result_file), sys.executable, str(module),
                             str(args_file)], env=env, capture_output=True, check=True)
    usage = json.loads(parent.stdout)
    out = result_file.read_bytes()
    result = json.loads(out[out.find(b"{"):])
    return usage["cpu"], usage["max_rss_kb"] / 1024, result


MODULE_RUNS = 3


def _module_runs(args: dict, state: Path, runs: int = MODULE_RUNS) -> tuple[float, float, dict]:
    """(least CPU seconds, highest peak RSS MB, last result) over `runs` runs."""
    measured = [run_module_alone(args, state) for _run in range(runs)]
    return min(r[0] for r in measured), max(r[1] for r in measured), measured[-1][2]


def _market(servers: int, figure, runs: int, large: bool) -> None:
    size = f"{servers // 1000}k"
    with tempfile.TemporaryDirectory() as tmp, \
            SimServer(Path(tmp) / "sim", servers=servers, request_interval=0.0) as sim:
        state = Path(tmp)
        client = CloreClient(sim.api_key, api_url=sim.api_url, request_interval=0.0, state_dir=str(state / "limiter"))

        def download() -> None:
            client.marketplace_each(lambda: None, lambda row: None)

        figure(f"download marketplace, {size} servers (HTTP + JSON row by row), wall",
               _best(download, runs, clock=time.perf_counter), "s")
        download_s = _best(download, runs)
        figure(f"download marketplace, {size} servers (HTTP + JSON row by row), CPU", download_s, "s")
        # Each whole listing is dropped before the next download (one kept alive would slow the decoding of the
        # next by the garbage collector's walks over it).
        figure(f"download marketplace, {size} servers (HTTP + JSON, whole listing), CPU",
               _best(client.marketplace, runs), "s")
        if not large:
            listing = client.marketplace()["servers"]
            assert len(listing) == servers, len(listing)
            figure("select: typical search (gpu, cuda, price, limit 20), CPU",
                   _best(lambda: _select(listing, TYPICAL)), "s", TIME_TARGET)
            figure("select: every free server, no limit, CPU", _best(lambda: _select(listing, EVERY_FREE_SERVER)), "s",
                   TIME_TARGET)
            tracemalloc.start()
            _select(listing, EVERY_FREE_SERVER)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            figure("select: every free server, Python heap peak", peak, "MB")
            del listing
        client.close()

        connection = {"api_key": sim.api_key, "api_url": sim.api_url, "api_request_interval": 0,
                      "api_state_dir": str(state / "limiter")}
        # Start-up floor: the same interpreter, imports and argument parsing, refused before any API call.
        sim.reset()
        startup_s, _rss, refused = _module_runs({**connection, "gpu": ["("]}, state)
        assert refused.get("failed"), refused
        assert sim.counters()["requests"] == {}, "a refused search must make no call"
        figure(f"{size}: module start-up (refused before any call), CPU", startup_s, "s")

        sim.reset()
        typical_s, typical_rss, typical = _module_runs({**connection, **TYPICAL}, state)
        figure(f"{size}: API calls per module run", sum(sim.counters()["requests"].values()) / MODULE_RUNS, "calls")
        assert typical["count"] == 20 and typical["total"] == servers, typical.get("msg")
        figure(f"{size}: module run: typical search, CPU", typical_s, "s")
        figure(f"{size}: module run: typical search, CPU beyond start-up", typical_s - startup_s, "s")
        figure(f"{size}: module run: typical search, CPU beyond download and start-up",
               typical_s - download_s - startup_s, "s", None if large else TIME_TARGET)
        figure(f"{size}: module run: typical search, peak RSS", typical_rss, "MB", MEMORY_TARGET_MB)

        full_s, full_rss, full = _module_runs({**connection, **EVERY_FREE_SERVER}, state, 1 if large else MODULE_RUNS)
        assert full["total"] == servers and full["count"] > servers // 2
        # No CPU target: most of this is Ansible's own result handling (no_log scrubbing and JSON) of every server.
        figure(f"{size}: module run: all {full['count']} free servers returned, CPU beyond download and start-up",
               full_s - download_s - startup_s, "s")
        # At 50k, no target either: Ansible's scrubbed copy and JSON text of 40,000 returned servers are most of it.
        figure(f"{size}: module run: all free servers returned, peak RSS", full_rss, "MB",
               None if large else MEMORY_TARGET_MB)


def run() -> list[dict]:
    rows: list[dict] = []

    def figure(metric: str, value: float, unit: str, target: float | None = None) -> None:
        rows.append({"benchmark": "market_info", "metric": metric, "value": value, "unit": unit,
                     "target": f"< {target:g} {unit}" if target is not None else "",
                     "ok": None if target is None else value < target})

    _market(SERVERS, figure, RUNS, large=False)
    _market(LARGE_MARKET, figure, 2, large=True)
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
