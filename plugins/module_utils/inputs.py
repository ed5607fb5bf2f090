"""A playbook's variables read the way a user types them, with `-e name=value` (text) or `-e '{"name": ...}'` (JSON):
a duration in hours, a list of order ids, a list of texts, a finite number.

Each function names the variable in its error (CloreConfigError with `option`) so that a playbook refuses bad input
before any API call instead of reading it as 0 or as nothing; the clore.ai filters of the same names are thin wrappers.
"""
from __future__ import annotations

import json
import math
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.reaping import parse_duration


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def hours(value: Any, name: str) -> float | None:
    """Hours of a duration (48h, 2d, 90m, 3600s, 1w; a bare number is hours); None when empty (a limit that is off)."""
    if _empty(value):
        return None
    if isinstance(value, bool):
        raise CloreConfigError(f"{name}: {value!r} is not a duration; use a number with s, m, h, d or w "
                               "(36h, 90m, 2d); a bare number is hours", option=name)
    try:
        return parse_duration(value, name) / 3600
    except ValueError as err:
        raise CloreConfigError(str(err), option=name) from None


def number(value: Any, name: str, *, minimum: float | None = None, above: float | None = None,
           maximum: float | None = None, integer: bool = False, optional: bool = False) -> float | int | None:
    """A finite number (an int with `integer`), at least `minimum` or more than `above`, at most `maximum`; None when
    empty and `optional`. Text such as `1x`, `nan` or `inf`, and true/false, are refused."""
    kind = "a whole number" if integer else "a number"
    if _empty(value):
        if optional:
            return None
        raise CloreConfigError(f"{name} is required: give {kind}", option=name)
    found: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found = float(value)
    elif isinstance(value, str):
        try:
            found = float(value.strip())
        except ValueError:
            found = None
    if found is None or not math.isfinite(found):
        raise CloreConfigError(f"{name}: {value!r} is not {kind}", option=name)
    if integer and not found.is_integer():
        raise CloreConfigError(f"{name}: {value!r} is not {kind}", option=name)
    if minimum is not None and found < minimum:
        raise CloreConfigError(f"{name}: {value!r} is below {minimum:g}", option=name)
    if above is not None and found <= above:
        raise CloreConfigError(f"{name}: {value!r} must be more than {above:g}", option=name)
    if maximum is not None and found > maximum:
        raise CloreConfigError(f"{name}: {value!r} is above {maximum:g}", option=name)
    return int(found) if integer else found


def _items(value: Any, name: str) -> list:
    """The items of a list given as a list, as JSON text (`[1, 2]`) or as comma-separated text (`1,2`)."""
    if _empty(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise CloreConfigError(f"{name}: {value!r} is neither a JSON list nor comma-separated values",
                                       option=name) from None
            if isinstance(parsed, list):
                return parsed
        items = [item.strip() for item in text.split(",")]
        if "" in items:
            raise CloreConfigError(f"{name}: {value!r} has an empty item; separate values with one comma",
                                   option=name)
        return items
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    raise CloreConfigError(f"{name}: {value!r} is not a list; give a JSON list or comma-separated values",
                           option=name)


def id_list(value: Any, name: str) -> list[int]:
    """Order or server ids: `100003`, `[100003]`, `100003,100004` or a list; each a whole number above 0."""
    ids = []
    for item in _items(value, name):
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            raise CloreConfigError(f"{name}: {item!r} is not an id (a whole number above 0)", option=name)
        ids.append(number(item, f"{name} item", integer=True, above=0))
    return ids


def text_list(value: Any, name: str) -> list[str]:
    """Texts (image names, GPU models): `a`, `["a", "b"]`, `a,b` or a list; each a non-empty text."""
    texts = []
    for item in _items(value, name):
        if not isinstance(item, str) or not item.strip():
            raise CloreConfigError(f"{name}: {item!r} is not a text", option=name)
        texts.append(item.strip())
    return texts
