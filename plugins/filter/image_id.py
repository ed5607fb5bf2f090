# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_id filter: the one reference of a Docker image, whatever its spelling."""
from __future__ import annotations

DOCUMENTATION = r"""
name: image_id
version_added: 0.1.0
short_description: The one reference of a Docker image, whatever its spelling
description:
  - Returns the fully qualified reference C(registry/path:tag) (or C(registry/path@digest)) that clore.ai.clore_order
    and clore.ai.clore_order_info match orders by, so that V(ubuntu), V(ubuntu:latest), V(library/ubuntu) and
    V(docker.io/library/ubuntu:latest) compare equal. With a digest the digest names the image and a tag is ignored.
  - By default the value is an image a user gave, checked as Docker checks it - upper-case letters in the name, spaces,
    a bad tag or digest fail with a message naming O(name). With O(strict=false) (for images as Clore lists orders)
    any text is read and the name is compared without case.
positional: _input
options:
  _input:
    description: The image.
    type: raw
    required: true
  name:
    description: The variable the image comes from, for the error message.
    type: str
    default: image
  strict:
    description: Refuse a reference Docker would refuse.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Is the order's image one of the kept images?
  ansible.builtin.debug:
    msg: "{{ (order.image | clore.ai.image_id(strict=false)) in (keep | map('clore.ai.image_id', 'keep') | list) }}"
  vars:
    order: {image: "docker.io/library/ubuntu:latest"}
    keep: [ubuntu]
"""

RETURN = r"""
_value:
  description: The reference, for example C(docker.io/library/ubuntu:latest); V(null) for no image with O(strict=false).
  type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.images import checked_reference, image_reference


def image_id(value: Any, name: str = "image", strict: bool = True) -> str | None:
    if not strict:
        return image_reference(None if value is None else str(value))
    try:
        return checked_reference(value, name)
    except CloreConfigError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self) -> dict:
        return {"image_id": image_id}
