"""The one guard on every module's numbers, ids and names, read from the argument spec itself (no list to keep).

Ansible's own checks let through what no request can mean: NaN and infinity pass a float check and then every
comparison (a due time of NaN is never reached, an infinite cap is no cap); `true` passes an int check unchanged (it
is an int in Python); an empty string passes for a name or a directory. And a number given where a dict is expected
makes Ansible fail with a Python error text that does not name the option. common.run_module applies both halves to
every module: widen_scalars before Ansible's checks, check_params after them, both before any API call.
"""
from __future__ import annotations

import math
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

# An option or sub-option whose name ends so holds Clore ids (orders, servers): whole numbers from 1.
ID_SUFFIXES = ("_id", "_ids")
ID_NAMES = ("id", "ids")
# A text option so named means a name: empty, it names nothing (list elements of type str are always names).
NAME_OPTIONS = ("name", "image")
SCALARS = (bool, int, float, str)


def widen_scalars(spec: dict, params: dict) -> CloreConfigError | None:
    """Before Ansible's checks: a number for a dict option means its one required sub-option (in place).

    `account_budget: 25` becomes `{amount: 25}`, the other sub-options taking their documented defaults. Any other
    scalar for a dict option with sub-options (a boolean, or a dict without exactly one required sub-option) is
    taken out of `params` and returned as the refusal: Ansible itself would stop on it with a Python error text.
    So is a boolean for a float option, which Ansible's check would silently read as 1.0 or 0.0.
    """
    for name, option in spec.items():
        for given in _given_names(name, option, params):
            value = params[given]
            if _is_dict(option) and option.get("options"):
                widened, refusal = _widened(name, option, value)
                if refusal is None:
                    params[given] = widened
                    if isinstance(widened, dict):
                        refusal = widen_scalars(option["options"], widened)
            elif _is_list_of_dicts(option) and option.get("options") and isinstance(value, list):
                refusal = _widen_elements(name, option, value)
            else:
                refusal = _scalar_for_dict(name, option, value) or _boolean_for_float(name, option, value)
            if refusal is not None:
                _take_out(params, given, option)
                return refusal
    return None


def check_params(spec: dict, params: dict, prefix: str = "", top: str | None = None) -> None:
    """After Ansible's checks: every float finite, every int not a boolean, ids from 1, names not empty.

    CloreConfigError names the option as the user wrote it into the task: `account_budget.amount`, `order_ids[1]`.
    """
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            continue
        path = f"{prefix}{name}"
        owner = top or name
        kind = option.get("type", "str")
        if kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                _check_value(option.get("elements"), option, name, item, f"{path}[{index}]", owner)
        else:
            _check_value(kind, option, name, value, path, owner)


def _check_value(kind: Any, option: dict, name: str, value: Any, path: str, owner: str) -> None:
    if value is None:
        return
    if kind == "float":
        check_finite(path, value, owner)
    elif kind == "int":
        check_whole(path, value, owner, is_id=is_id_option(name))
    elif kind == "path" or (kind == "str" and (name in NAME_OPTIONS or option.get("elements") == "str")):
        check_not_empty(path, value, owner)
    elif kind == "dict" and option.get("options") and isinstance(value, dict):
        check_params(option["options"], value, f"{path}.", owner)


def is_id_option(name: str) -> bool:
    """Whether an option holds Clore ids: order_id, server_ids, ids and the like."""
    return name in ID_NAMES or name.endswith(ID_SUFFIXES)


def check_finite(path: str, value: Any, option: str | None = None) -> None:
    """NaN and infinity refused: they pass every comparison, and no request can carry them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise CloreConfigError(f"{path} must be a finite number, got {value}", option=option or path)


def check_whole(path: str, value: Any, option: str | None = None, *, is_id: bool = False) -> None:
    """A boolean is no whole number (`count: true` is a typo nobody should pay for); ids start at 1."""
    if isinstance(value, bool):
        raise CloreConfigError(f"{path} must be a whole number, got {str(value).lower()} (a boolean)",
                               option=option or path)
    if is_id and isinstance(value, int) and value < 1:
        raise CloreConfigError(f"{path} must be 1 or more (Clore's ids start at 1), got {value}",
                               option=option or path)


def check_not_empty(path: str, value: Any, option: str | None = None) -> None:
    """An empty name or directory names nothing: refused rather than read as "any" or "the default"."""
    if isinstance(value, str) and not value.strip():
        raise CloreConfigError(f"{path} must not be empty (leave the option out to mean none or the default)",
                               option=option or path)


def _take_out(params: dict, given: str, option: dict) -> None:
    """Take a refused value out of Ansible's way; a required option keeps an empty value, never used (the refusal is
    raised first), so that Ansible does not report it missing instead."""
    if option.get("required"):
        params[given] = [] if option.get("type") == "list" else {}
    else:
        params.pop(given, None)


def _given_names(name: str, option: dict, params: dict) -> list[str]:
    """The names (the option's own, its aliases) under which the user gave a value."""
    return [given for given in (name, *option.get("aliases", ())) if params.get(given) is not None]


def _is_dict(option: dict) -> bool:
    return option.get("type") == "dict"


def _is_list_of_dicts(option: dict) -> bool:
    return option.get("type") == "list" and option.get("elements") == "dict"


def _widened(path: str, option: dict, value: Any) -> tuple[Any, CloreConfigError | None]:
    """(the value to validate, or the refusal) for a dict option with sub-options."""
    if not isinstance(value, SCALARS):
        return value, None
    required = [sub for sub, spec in option["options"].items() if spec.get("required")]
    numeric = len(required) == 1 and option["options"][required[0]].get("type") in ("float", "int")
    if isinstance(value, bool) or not numeric:
        wanted = f"a number (its {required[0]}) or a dict" if numeric else "a dict"
        return None, CloreConfigError(f"{path} must be {wanted}, got {_kind(value)}", option=path.split("[")[0])
    if isinstance(value, str) and not _numeric_text(value):
        return value, None  # Ansible's own dict check names the option and the text it could not read
    return {required[0]: value}, None


def _widen_elements(path: str, option: dict, items: list) -> CloreConfigError | None:
    for index, item in enumerate(items):
        widened, refusal = _widened(f"{path}[{index}]", option, item)
        if refusal is None and isinstance(widened, dict):
            items[index] = widened
            refusal = widen_scalars(option["options"], widened)
        if refusal is not None:
            return refusal
    return None


def _scalar_for_dict(path: str, option: dict, value: Any) -> CloreConfigError | None:
    """A number or a boolean for a dict option without sub-options: refused here, naming it."""
    if _is_dict(option) and isinstance(value, (bool, int, float)):
        return CloreConfigError(f"{path} must be a dict (key: value pairs), got {_kind(value)}", option=path)
    return None


def _boolean_for_float(path: str, option: dict, value: Any) -> CloreConfigError | None:
    """A boolean for a float option: Ansible would read `true` as 1.0 (`lifetime_hours: true` is one hour)."""
    if option.get("type") == "float" and isinstance(value, bool):
        return CloreConfigError(f"{path} must be a number, got {_kind(value)}", option=path)
    return None


def _numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    """What was given, without quoting it (a dict option may be no_log)."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return "a number"
    return "a text"
