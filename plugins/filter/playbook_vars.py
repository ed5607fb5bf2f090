# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbook_vars filter: a shipped playbook's variables by their names, old names taken with a deprecation."""
from __future__ import annotations

DOCUMENTATION = r"""
name: playbook_vars
version_added: 0.1.0
short_description: Read a playbook's variables, taking their old names with a deprecation warning
description:
  - The shipped playbooks name their own variables C(<playbook name>_<variable>). Their old names
    (C(clore_search_*), C(clore_rent_*), C(clore_watch_*), C(watch_*), C(order_id) and C(issue), C(job_*)) are read
    until 0.3.0, each with a deprecation warning naming the new name.
  - A variable given under both its old and its new name fails, naming both.
positional: _input, renamed, defaults, playbook
options:
  _input:
    description: The variables the user gave, by name (old or new).
    type: dict
    required: true
  renamed:
    description: Old name to new name; a key ending in C(_) renames every variable with that prefix.
    type: dict
    required: true
  defaults:
    description: The value of each variable not given, by its new name.
    type: dict
    required: true
  playbook:
    description: The playbook's file name, for the messages.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the variables (old names are deprecated)
  ansible.builtin.set_fact:
    "{{ item.key }}": "{{ item.value }}"
  loop: >-
    {{ dict(given | zip(query('ansible.builtin.vars', *given)))
       | clore.ai.playbook_vars({'clore_search_': 'market_search_'}, {'market_search_limit': 10}, 'market_search.yml')
       | dict2items }}
  vars:
    given: "{{ query('ansible.builtin.varnames', '^(clore_search|market_search)_[a-z]') }}"
"""

RETURN = r"""
_value:
  description: Every variable by its new name, the defaults for those not given.
  type: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.renamed_vars import playbook_vars as read_vars


def playbook_vars(given: Mapping[str, Any], renamed: Mapping[str, str], defaults: Mapping[str, Any],
                  playbook: str) -> dict[str, Any]:
    try:
        values, old_given = read_vars(given, renamed, defaults, playbook)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None
    for old, new in old_given:
        Display().deprecated(f"{playbook}: the variable {old} is now {new}", version="0.3.0",
                             collection_name="clore.ai")
    return values


class FilterModule:
    def filters(self) -> dict:
        return {"playbook_vars": playbook_vars}
