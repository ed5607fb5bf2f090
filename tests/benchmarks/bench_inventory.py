"""ansible-inventory --list over 2,000 active orders: the clore.ai.clore plugin cold and cached, against the same
2,000 hosts in a static YAML inventory as the floor.

Two static floors: the same hosts with the same variables and groups (what the plugin produces), and the same hosts
with only their connection variables (the least a static file could hold). ansible-core reads large YAML slowly, so
the second, stricter floor is the one the targets use.
Targets: cached within 1.2x of static; cold within 1.2x of static plus the one my_orders call.
The CPU seconds (user + system) of the plugin's runs are printed too: on a shared machine they move far less than
wall time, so they are the figures to compare between two versions of the plugin.
"""
from __future__ import annotations

import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import yaml
from clore_sim.testing import SimServer

from tests.benchmarks.common import COLLECTIONS
from tests.integration.playbook import VENV_BIN, base_env

ORDERS = 2000
RUNS = 3


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _list(source: Path, env: dict[str, str], *extra: str) -> tuple[float, float, dict]:
    """(wall s, CPU s, listing) of one ansible-inventory --list."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(source), "--list", *extra],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if proc.returncode != 0 or "Unable to parse" in proc.stderr:
        raise RuntimeError(f"ansible-inventory failed on {source}: {proc.stderr[-2000:]}")
    return elapsed, cpu, json.loads(proc.stdout)


def _median(source: Path, env: dict[str, str], *extra: str, runs: int = RUNS) -> tuple[float, dict, float]:
    """(median wall s, last listing, median CPU s)."""
    times, cpus, listing = [], [], {}
    for _run in range(runs):
        elapsed, cpu, listing = _list(source, env, *extra)
        times.append(elapsed)
        cpus.append(cpu)
    return statistics.median(times), listing, statistics.median(cpus)


CONNECTION_VARS = ("ansible_host", "ansible_port", "ansible_user", "ansible_ssh_common_args")


def _plain(value):
    """ansible-inventory marks plugin values as {"__ansible_unsafe": value}; a static file holds the value."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _static_inventory(listing: dict, path: Path, only: tuple[str, ...] | None = None) -> None:
    """The plugin's hosts and groups written as a plain YAML inventory, with all their variables or `only` these."""
    hostvars = _plain(listing["_meta"]["hostvars"])
    children: dict = {}
    for group, body in listing.items():
        if group in ("_meta", "all", "ungrouped") or not body.get("hosts"):
            continue
        children[group] = {"hosts": {name: None for name in body["hosts"]}}
    children["clore"] = {"hosts": {
        name: {k: v for k, v in hostvars[name].items() if only is None or k in only}
        for name in listing["clore"]["hosts"]
    }}
    path.write_text(yaml.safe_dump({"all": {"children": children}}, sort_keys=False))


def _my_orders_call(sim: SimServer) -> float:
    times = []
    for _run in range(RUNS):
        started = time.perf_counter()
        answer = requests.get(f"{sim.api_url}/my_orders", headers={"auth": sim.api_key}, timeout=120)
        answer.raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as tmp:
        work = Path(tmp)
        # A fifth or so of clore-sim's servers are offline or rented by others: make room for every order.
        with SimServer(work / "sim", servers=ORDERS * 3 // 2) as sim:
            sim.seed_orders(sim.api_key, ORDERS)
            env = base_env(COLLECTIONS, work)
            env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                        "CLORE_STATE_DIR": str(work / "state"), "CLORE_API_REQUEST_INTERVAL": "0"})
            config = work / "bench.clore.yml"
            config.write_text(yaml.safe_dump({
                "plugin": "clore.ai.clore", "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                "cache_connection": str(work / "inventory-cache"), "cache_timeout": 3600,
            }))
            calls_before = sim.counters()["requests"].get("my_orders", 0)
            cold, listing, cold_cpu = _median(config, env, "--flush-cache")
            calls_cold = sim.counters()["requests"].get("my_orders", 0) - calls_before
            cached, cached_listing, cached_cpu = _median(config, env)
            calls_cached = sim.counters()["requests"].get("my_orders", 0) - calls_before - calls_cold
            api_call = _my_orders_call(sim)
        hosts = len(listing["clore"]["hosts"])
        assert hosts == ORDERS and len(cached_listing["clore"]["hosts"]) == ORDERS, hosts
        static_env = base_env(COLLECTIONS, work)
        full_path, minimal_path = work / "static-full.yml", work / "static-minimal.yml"
        _static_inventory(listing, full_path)
        _static_inventory(listing, minimal_path, only=CONNECTION_VARS)
        # Slow and far above the other figures: once is enough.
        static_full, full_listing, _cpu = _median(full_path, static_env, runs=1)
        static, static_listing, _cpu = _median(minimal_path, static_env)
        assert len(static_listing["clore"]["hosts"]) == len(full_listing["clore"]["hosts"]) == ORDERS

    name = f"inventory ({ORDERS} orders)"
    cached_limit = 1.2 * static
    cold_limit = 1.2 * static + api_call
    return [
        {"benchmark": name, "metric": "static YAML --list, same variables", "value": static_full, "unit": "s",
         "target": "", "ok": None},
        {"benchmark": name, "metric": "static YAML --list, connection vars", "value": static, "unit": "s",
         "target": "floor", "ok": None},
        {"benchmark": name, "metric": "my_orders call alone", "value": api_call, "unit": "s", "target": "", "ok": None},
        {"benchmark": name, "metric": "cached --list", "value": cached, "unit": "s",
         "target": f"<= {cached_limit:.2f} (1.2x static)", "ok": cached <= cached_limit},
        {"benchmark": name, "metric": "cold --list", "value": cold, "unit": "s",
         "target": f"<= {cold_limit:.2f} (1.2x static + call)", "ok": cold <= cold_limit},
        {"benchmark": name, "metric": "cached --list, CPU", "value": cached_cpu, "unit": "s", "target": "", "ok": None},
        {"benchmark": name, "metric": "cold --list, CPU", "value": cold_cpu, "unit": "s", "target": "", "ok": None},
        {"benchmark": name, "metric": "cached/static", "value": cached / static, "unit": "x", "target": "<= 1.2",
         "ok": cached / static <= 1.2},
        {"benchmark": name, "metric": "API calls per cold parse", "value": calls_cold // RUNS, "unit": "calls",
         "target": "1", "ok": calls_cold == RUNS},
        {"benchmark": name, "metric": "API calls per cached parse", "value": calls_cached, "unit": "calls",
         "target": "0", "ok": calls_cached == 0},
    ]
