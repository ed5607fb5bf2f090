#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_gpu_activity: record a look at the orders' GPU utilisation and say which orders have been idle long enough."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_gpu_activity
short_description: Remember when each order's GPUs were last busy, and say which orders are idle
version_added: 0.1.0
description:
  - Takes the GPU utilisation of some of your orders, as read over SSH with C(nvidia-smi) (one percentage per GPU),
    and records on this controller (state directory, per API URL and key) when each order was first looked at and
    when any of its GPUs was last at or above O(idle_gpu_util).
  - An order is idle when every look since O(idle_minutes) ago found every GPU below O(idle_gpu_util) - measured from
    its last busy look, or from the first look when it was never busy, so that a fresh order is never idle at once.
    The reaper (C(playbooks/reap.yml)) runs it from cron or an AWX schedule; each run is one look.
  - Time is the service's clock (the C(Date) header of one C(my_orders) read), the same clock the orders' ages use.
    The records of orders that no longer exist are dropped.
  - Check mode records nothing and still says which orders are idle.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  utilization:
    description:
      - The look, keyed by order id - a list with the utilisation of each GPU of that order, in percent.
      - Orders left out (unreachable, or not looked at) keep their record as it was.
    type: dict
    required: true
  idle_gpu_util:
    description: A GPU below this utilisation (percent) counts as idle.
    type: float
    default: 10
  idle_minutes:
    description: How long an order must have been idle to be reported in RV(idle).
    type: float
    default: 60
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: Nothing is recorded in check mode.
  diff_mode:
    support: none
    description: No diff.
"""

EXAMPLES = r"""
- name: Record what nvidia-smi showed on each order, and find the idle ones
  clore.ai.clore_gpu_activity:
    utilization: {"41234": [0, 3], "41235": [97, 88]}
    idle_gpu_util: 10
    idle_minutes: 60
  register: activity

- name: The orders idle for an hour
  ansible.builtin.debug:
    var: activity.idle
"""

RETURN = r"""
idle:
  description: The ids of the looked-at orders idle for at least O(idle_minutes).
  returned: success
  type: list
  elements: int
  sample: [41234]
busy:
  description: The ids of the looked-at orders with a GPU at or above O(idle_gpu_util) now.
  returned: success
  type: list
  elements: int
orders:
  description: For each looked-at order (keyed by id), what is known of its activity.
  returned: success
  type: dict
  sample: {"41234": {"busy": false, "max_util": 3, "idle_since": 1767000000.0, "idle_minutes": 75.5}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient
from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.reaping import GpuActivity, Lifetimes, service_now

ARGUMENT_SPEC = {
    "utilization": {"type": "dict", "required": True},
    "idle_gpu_util": {"type": "float", "default": 10.0},
    "idle_minutes": {"type": "float", "default": 60.0},
}


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


def run(module: AnsibleModule, client: CloreClient) -> dict:
    params = module.params
    samples = read_samples(params["utilization"])
    if params["idle_minutes"] < 0 or not 0 <= params["idle_gpu_util"] <= 100:
        raise CloreConfigError("idle_minutes must be 0 or more and idle_gpu_util 0-100", option="idle_minutes")
    active = set()
    for raw in client.my_orders():
        try:
            order = normalize_order(raw)
        except ValueError:
            continue
        if not order["expired"]:
            active.add(order["id"])
    now = service_now(client)
    records = GpuActivity(client.state_path, client.account)
    seen = records.observe({i: u for i, u in samples.items() if i in active}, params["idle_gpu_util"], now,
                           write=not module.check_mode)
    if not module.check_mode:
        records.forget_except(active)
        Lifetimes(client.state_path, client.account).forget_except(active)
    report = {}
    for order_id, look in seen.items():
        since = look["idle_since"]
        report[str(order_id)] = look | {"idle_minutes": None if since is None else round((now - since) / 60, 2)}
    idle = sorted(int(i) for i, r in report.items()
                  if r["idle_minutes"] is not None and r["idle_minutes"] >= params["idle_minutes"])
    return {
        "changed": False,
        "idle": idle,
        "busy": sorted(int(i) for i, r in report.items() if r["busy"]),
        "orders": report,
    }


def main() -> None:
    run_module(ARGUMENT_SPEC, run)


if __name__ == "__main__":
    main()
