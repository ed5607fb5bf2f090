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

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.gpu_activity import run_gpu_activity

ARGUMENT_SPEC = {
    "utilization": {"type": "dict", "required": True},
    "idle_gpu_util": {"type": "float", "default": 10.0},
    "idle_minutes": {"type": "float", "default": 60.0},
}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_gpu_activity)


if __name__ == "__main__":
    main()
