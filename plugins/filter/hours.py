# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hours filter: a playbook variable read as a duration, in hours."""
from __future__ import annotations

DOCUMENTATION = r"""
name: hours
version_added: 0.1.0
short_description: Read a playbook variable as a duration, in hours
description:
  - Reads a duration in the collection's syntax, that of O(clore.ai.clore_order_info#module:older_than) - a number
    with V(s), V(m), V(h), V(d) or V(w) (V(36h), V(90m), V(2d)); a bare number is hours.
  - An empty value (null or empty text) is V(null), a limit that is off.
  - Anything else (V(abc), V(-1), V(nan), V(true)) fails with a message naming the variable, so that a playbook
    refuses it before any API call instead of reading it as 0.
positional: _input, name
options:
  _input:
    description: The value, as given with C(-e name=value) (text) or in JSON or YAML (a number).
    type: raw
    required: true
  name:
    description: The variable's name, for the error message.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Orders older than reap_older_than_hours (48, 48h, 2d, 2880m are all two days)
  ansible.builtin.set_fact:
    older_than: "{{ reap_older_than_hours | clore.ai.hours('reap_older_than_hours') }}"
"""

RETURN = r"""
_value:
  description: The duration in hours, or V(null) for an empty value.
  type: float
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.inputs import hours as read_hours


def hours(value: Any, name: str) -> float | None:
    try:
        return read_hours(value, name)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self) -> dict:
        return {"hours": hours}
