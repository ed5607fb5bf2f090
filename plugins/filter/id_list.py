# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The id_list filter: a playbook variable read as a list of order or server ids."""
from __future__ import annotations

DOCUMENTATION = r"""
name: id_list
version_added: 0.1.0
short_description: Read a playbook variable as a list of ids
description:
  - Reads order or server ids given as a list, as JSON text (V([100003, 100004])), as comma-separated text
    (V(100003,100004)) or as one id (V(100003)), so that C(-e name=value) means what the JSON form means.
  - An empty value (null or empty text) is an empty list.
  - An item that is not a whole number above 0 fails with a message naming the variable.
positional: _input, name
options:
  _input:
    description: The value.
    type: raw
    required: true
  name:
    description: The variable's name, for the error message.
    type: str
    required: true
"""

EXAMPLES = r"""
# -e reap_keep_order_ids=100003,100004, or in JSON: -e '{"reap_keep_order_ids": [100003, 100004]}'
- name: Orders never to cancel
  ansible.builtin.set_fact:
    keep: "{{ reap_keep_order_ids | clore.ai.id_list('reap_keep_order_ids') }}"
"""

RETURN = r"""
_value:
  description: The ids.
  type: list
  elements: int
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.inputs import id_list as read_id_list


def id_list(value: Any, name: str) -> list[int]:
    try:
        return read_id_list(value, name)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self) -> dict:
        return {"id_list": id_list}
