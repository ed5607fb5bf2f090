#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_api_check: call every read-only endpoint the collection uses and compare the answers with what it expects."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_api_check
short_description: Check the live Clore.ai API against what the collection expects, for free
version_added: 0.1.0
description:
  - Calls every read-only endpoint the collection uses - C(marketplace), C(my_orders) without and with ended orders,
    C(wallets), C(spot_marketplace) of one server and C(my_servers) - one request each, within the rate limit.
  - Checks every field the collection reads for presence and JSON type, and reports fields missing, of an
    unexpected type, and fields the collection does not know.
  - Fails when a field the collection reads is of another type in any row, naming it, or when a field it relies on
    is missing everywhere it was looked for. An order's C(pub_cluster) (a list of host names, or a string) and
    C(tcp_ports) (a list of C("<container port>:<public port>") strings, or a dict of container port to public
    port) are relied on, since no SSH endpoint can be made without them; any other shape of them is wrong.
  - RV(verdict) and RV(summary) are read from the same report as RV(failures), so the verdict never contradicts the
    details.
  - Rents nothing and changes nothing at Clore; it only reads.
  - A field missing on some rows only (the API leaves fields out of odd rows) is reported, not a failure.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  server_id:
    description:
      - The server whose C(spot_marketplace) is read (1 or more). By default the first server of the marketplace.
    type: int
  record:
    description:
      - A directory to write every answer to, one C(<name>.json) file per call (mode 0600), with secrets, wallet
        deposit addresses and the API key removed.
      - The files are what C(clore-sim --market-file) (the C(marketplace.json) file) and the contract tests replay.
      - Nothing is written in check mode.
    type: path
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: The module only reads; in check mode it writes no recording either.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
"""

EXAMPLES = r"""
- name: Check the live API (the key from CLORE_API_KEY)
  clore.ai.clore_api_check:
  register: clore_check

- name: Check and record the answers for clore-sim and the contract tests
  clore.ai.clore_api_check:
    record: "{{ playbook_dir }}/recorded"
"""

RETURN = r"""
ok:
  description: Whether every field the collection reads has its type and every field it relies on is there.
  returned: always
  type: bool
  sample: true
failures:
  description: One sentence per field of another type and per relied-on field missing everywhere, naming it.
  returned: always
  type: list
  elements: str
  sample: ["my_orders: orders[].tcp_ports is int in 1 of 1, expected list of string or dict of int/string; the
           collection relies on it"]
verdict:
  description: The check's conclusion in one sentence, from the same entries as RV(failures).
  returned: always
  type: str
  sample: Every field the collection reads has its type, and every field it relies on is there.
summary:
  description: One line per call - ok or FAILED, the objects checked, and the fields missing, of another type and
    unknown.
  returned: always
  type: list
  elements: str
  sample: ["wallets: ok; (answer) x1, wallets[] x3; missing none; wrong type none; unknown none"]
report:
  description: Per call, what was found.
  returned: always
  type: dict
  contains:
    endpoint:
      description: The endpoint the answer came from.
      type: str
      sample: marketplace
    objects:
      description: How many objects were checked at each path (rows of a list count one each).
      type: dict
      sample: {"(answer)": 1, "servers[]": 40}
    missing:
      description: Fields missing (or null), with how many rows lack them of how many, and whether relied on.
      type: list
      elements: dict
      sample: [{"field": "servers[].rating", "rows": 2, "of": 40, "relied": false}]
    wrong_type:
      description: Fields of an unexpected JSON type, the types expected and found.
      type: list
      elements: dict
      sample: [{"field": "servers[].id", "expected": ["int"], "got": ["string"], "rows": 1, "of": 40,
                "relied": true}]
    unknown:
      description: Fields the collection does not know (a new field of the API, or a misspelt one).
      type: list
      elements: str
      sample: ["servers[].new_field"]
    failures:
      description: The failures of this call.
      type: list
      elements: str
  sample: {"wallets": {"endpoint": "wallets", "objects": {"(answer)": 1, "wallets[]": 3}, "missing": [],
           "wrong_type": [], "unknown": [], "failures": []}}
unknown_fields:
  description: Every unknown field, prefixed with its call.
  returned: always
  type: list
  elements: str
  sample: ["marketplace: servers[].new_field"]
recorded:
  description: The files written (O(record)).
  returned: always
  type: list
  elements: str
  sample: ["/home/me/recorded/marketplace.json"]
"""

from ansible_collections.clore.ai.plugins.module_utils.api_survey import run_api_check
from ansible_collections.clore.ai.plugins.module_utils.common import run_module

ARGUMENT_SPEC = {"server_id": {"type": "int"}, "record": {"type": "path"}}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_api_check)


if __name__ == "__main__":
    main()
