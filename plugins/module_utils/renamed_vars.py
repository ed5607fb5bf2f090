# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Playbook variables under their old names: read for one more release, each named with its new name."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError


def new_name(name: str, renamed: Mapping[str, str]) -> str | None:
    """The new name of an old one, or None: a key of `renamed` ending in `_` renames every name with that prefix."""
    if name in renamed:
        return renamed[name]
    for old, new in renamed.items():
        if old.endswith("_") and name.startswith(old) and not name.startswith(new):
            return new + name[len(old):]
    return None


def playbook_vars(given: Mapping[str, Any], renamed: Mapping[str, str], defaults: Mapping[str, Any],
                  playbook: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(each variable's value by its new name, the (old, new) names given) from the variables `given` by the user.

    A value given under its new name wins over the default; one given under its old name is taken under the new one;
    both given is refused, as the two may disagree.
    """
    values = dict(defaults)
    old_given: list[tuple[str, str]] = []
    for name, value in given.items():
        new = new_name(name, renamed)
        if new is None:
            values[name] = value
            continue
        if new in given:
            raise CloreConfigError(
                f"{playbook}: {name} and {new} are both given; {name} is the old name of {new}: give only {new}",
                option=new)
        old_given.append((name, new))
        values[new] = value
    return values, sorted(old_given)
