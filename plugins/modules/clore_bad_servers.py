#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_bad_servers: list, add and clear this controller's record of servers that failed a rental."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_bad_servers
short_description: List, record and clear the servers this controller remembers as bad
version_added: 0.1.0
description:
  - The controller remembers servers that failed a rental - no SSH banner within the wait, an order that ended by
    itself minutes after it was rented, GPUs that do not match the order - with the reason and the time, in the state
    directory (O(api_state_dir)), one record per API URL and key (the key appears only hashed).
  - M(clore.ai.clore_order) fleets and M(clore.ai.clore_market_info) pass over servers recorded within their
    C(bad_server_ttl) (24 hours by default) and say how many they skipped.
  - This module lists the record (without O(state)), records servers (O(state=present), for example from a role that
    found the GPUs do not match) and clears them (O(state=absent)); it always returns the record as it is after.
  - It makes no API call; the API key only names the record.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  state:
    description:
      - Unset, the module only lists the servers recorded within O(bad_server_ttl).
      - V(present) records O(server_ids) with O(reason); V(absent) clears O(server_ids), or the whole record when
        O(server_ids) is empty.
    type: str
    choices: [present, absent]
  server_ids:
    description: The servers to record or clear (ids, 1 or more; a boolean is refused).
    type: list
    elements: int
    default: []
  reason:
    description: Why the servers are bad (required with O(state=present)); sent to Clore as the C(issue) when an order
      on such a server is cancelled for that failure.
    type: str
  order_id:
    description: The order that showed the failure, kept with the record (1 or more).
    type: int
  bad_server_ttl:
    description: Hours a record counts (a finite number); older ones are not listed (and not skipped by fleets). V(0)
      lists nothing.
    type: float
    default: 24
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: In check mode nothing is recorded or cleared; the result says what would change.
  diff_mode:
    support: none
    description: No diff.
"""

EXAMPLES = r"""
- name: What this controller avoids, and why
  clore.ai.clore_bad_servers:
  register: bad

- name: Record a server whose GPUs did not match the order
  clore.ai.clore_bad_servers:
    state: present
    server_ids: [1234]
    order_id: 98765
    reason: "ordered 2x RTX 4090, nvidia-smi shows 1x RTX 3090"

- name: Give a server another chance
  clore.ai.clore_bad_servers:
    state: absent
    server_ids: [1234]

- name: Forget every record
  clore.ai.clore_bad_servers:
    state: absent
"""

RETURN = r"""
bad_servers:
  description: The servers recorded within O(bad_server_ttl) after the task, oldest first.
  returned: success
  type: list
  elements: dict
  contains:
    server_id:
      description: The server.
      type: int
    reason:
      description: Why it was recorded.
      type: str
    order_id:
      description: The order that showed the failure, when known.
      type: int
    time:
      description: When it was recorded (Unix seconds, the controller's clock).
      type: float
    expires:
      description: When the record stops counting (Unix seconds).
      type: float
recorded:
  description: The servers recorded by this task (would be, in check mode).
  returned: success
  type: list
  elements: int
cleared:
  description: The servers whose record this task cleared (would clear, in check mode).
  returned: success
  type: list
  elements: int
"""

from ansible_collections.clore.ai.plugins.module_utils.bad_server_edit import run_bad_servers
from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BAD_SERVER_TTL_SPEC
from ansible_collections.clore.ai.plugins.module_utils.common import run_module

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"]},
    "server_ids": {"type": "list", "elements": "int", "default": []},
    "reason": {"type": "str"},
    "order_id": {"type": "int"},
    **BAD_SERVER_TTL_SPEC,
}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_bad_servers)


if __name__ == "__main__":
    main()
