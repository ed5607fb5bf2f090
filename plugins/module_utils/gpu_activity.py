"""clore_gpu_activity's task: record each active order's GPU utilization, say which orders are idle or busy, and
forget what is kept of orders that ended (their activity and lifetime records)."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.reaping import GpuActivity, Lifetimes, service_now


def read_samples(raw: dict) -> dict[int, list[float]]:
    """{order id: [percent per GPU]} from the option; CloreConfigError naming the order for anything else."""
    samples = {}
    for key, values in raw.items():
        try:
            order_id = int(str(key))
            utils = [float(v) for v in (values if isinstance(values, list) else [values])]
        except (TypeError, ValueError):
            raise CloreConfigError(f"utilization[{key!r}] must be a list of percentages keyed by an order id",
                                   option="utilization") from None
        if utils:
            samples[order_id] = utils
    return samples


def check_thresholds(idle_gpu_util: float, idle_minutes: float) -> None:
    if idle_minutes < 0 or not 0 <= idle_gpu_util <= 100:
        raise CloreConfigError("idle_minutes must be 0 or more and idle_gpu_util 0-100", option="idle_minutes")


def active_order_ids(raw_orders: list) -> set[int]:
    """The ids of the orders that have not ended (a malformed entry is not one)."""
    active = set()
    for raw in raw_orders:
        try:
            order = normalize_order(raw)
        except ValueError:
            continue
        if not order["expired"]:
            active.add(order["id"])
    return active


def idle_report(seen: dict, now: float, idle_minutes: float) -> dict:
    """clore_gpu_activity's result from what GpuActivity.observe returned."""
    report = {}
    for order_id, look in seen.items():
        since = look["idle_since"]
        report[str(order_id)] = look | {"idle_minutes": None if since is None else round((now - since) / 60, 2)}
    idle = sorted(int(i) for i, r in report.items()
                  if r["idle_minutes"] is not None and r["idle_minutes"] >= idle_minutes)
    return {
        "changed": False,
        "idle": idle,
        "busy": sorted(int(i) for i, r in report.items() if r["busy"]),
        "orders": report,
    }


def run_gpu_activity(module, client) -> dict:
    """clore_gpu_activity's run(module, client) for common.run_module; check mode writes nothing."""
    params = module.params
    samples = read_samples(params["utilization"])
    check_thresholds(params["idle_gpu_util"], params["idle_minutes"])
    active = active_order_ids(client.my_orders())
    now = service_now(client)
    records = GpuActivity(client.state_path, client.account)
    seen = records.observe({i: u for i, u in samples.items() if i in active}, params["idle_gpu_util"], now,
                           write=not module.check_mode)
    if not module.check_mode:
        records.forget_except(active)
        Lifetimes(client.state_path, client.account).forget_except(active)
    return idle_report(seen, now, params["idle_minutes"])
