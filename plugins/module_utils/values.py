"""Reading one field of an API row defensively: a flag, a text or an id, or None when the value is not one.

The market rows and the hosted-server rows are read by the same rules: any field may be missing, null, a string where
a number or a flag is expected, or a number that is not finite. Numbers are read differently by each (the market
reads "24 GB" as 24, a hosted row's numbers must be numbers), so their readers stay with them.
"""
from __future__ import annotations

import math
from typing import Any

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
# More digits than this is no id Clore gives (and int() refuses a string past 4,300 digits).
_ID_DIGITS = 18


def as_bool(value: Any) -> bool | None:
    """True or False from a bool, 0 / 1, or "true" / "false" / "yes" / "no" / "1" / "0" (any case); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    return None


def as_text(value: Any) -> str | None:
    """A stripped non-empty string, or a finite number as a string; None for anything else (bool included)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return None


def as_server_id(value: Any) -> int | None:
    """A non-negative integer id from an int, a whole float or a string of decimal digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.isdecimal() and len(digits) <= _ID_DIGITS:
            return int(digits)
    return None
