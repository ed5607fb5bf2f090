# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The number filter: a playbook variable read as a finite number within bounds."""
from __future__ import annotations

DOCUMENTATION = r"""
name: number
version_added: 0.1.0
short_description: Read a playbook variable as a finite number
description:
  - Reads a number given as a number or as text (C(-e name=value)).
  - Text that is not a number (V(1x), V(5USD)), V(nan), V(inf), V(true) and values out of bounds fail with a message
    naming the variable, so that a playbook refuses them before any API call instead of reading them as 0.
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
  minimum:
    description: The least value allowed.
    type: float
  above:
    description: The value must be more than this.
    type: float
  maximum:
    description: The greatest value allowed.
    type: float
  integer:
    description: A whole number is required; the result is an integer.
    type: bool
    default: false
  optional:
    description: An empty value (null or empty text) is V(null) instead of an error.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A count of 0 or more
  ansible.builtin.set_fact:
    count: "{{ spot_fleet_count | clore.ai.number('spot_fleet_count', integer=true, minimum=0) }}"

- name: A limit in US dollars, off when empty
  ansible.builtin.set_fact:
    spend_over: "{{ reap_spend_over_usd | clore.ai.number('reap_spend_over_usd', minimum=0, optional=true) }}"
"""

RETURN = r"""
_value:
  description: The number (an integer with O(integer)), or V(null) for an empty O(optional) value.
  type: raw
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.inputs import number as read_number


def number(value: Any, name: str, minimum: Any = None, above: Any = None, maximum: Any = None, integer: bool = False,
           optional: bool = False) -> float | int | None:
    try:
        return read_number(value, name, minimum=minimum, above=above, maximum=maximum, integer=integer,
                           optional=optional)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self) -> dict:
        return {"number": number}
