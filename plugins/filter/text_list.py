# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text_list filter: a playbook variable read as a list of texts."""
from __future__ import annotations

DOCUMENTATION = r"""
name: text_list
version_added: 0.1.0
short_description: Read a playbook variable as a list of texts
description:
  - Reads texts (images, GPU models, names) given as a list, as JSON text (V(["ubuntu", "nginx"])), as
    comma-separated text (V(ubuntu,nginx)) or as one text (V(ubuntu)), so that C(-e name=value) means what the JSON
    form means.
  - An empty value (null or empty text) is an empty list; each text is stripped of surrounding spaces.
  - An item that is not a non-empty text fails with a message naming the variable.
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
# -e reap_keep_images=ubuntu,nginx:1.27, or in JSON: -e '{"reap_keep_images": ["ubuntu", "nginx:1.27"]}'
- name: Images never to cancel
  ansible.builtin.set_fact:
    keep: "{{ reap_keep_images | clore.ai.text_list('reap_keep_images') }}"
"""

RETURN = r"""
_value:
  description: The texts.
  type: list
  elements: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.inputs import text_list as read_text_list


def text_list(value: Any, name: str) -> list[str]:
    try:
        return read_text_list(value, name)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self) -> dict:
        return {"text_list": text_list}
