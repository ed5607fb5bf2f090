"""The GPUs a server's specs name: one home for reading them, shared by the market's offers, the orders of
my_orders (flat_order.py) and the servers a key hosts (_host/record.py).

A module of its own, and light, so that a module reading orders does not load the market's machinery with it.
"""
from __future__ import annotations

import re
from typing import Any

# A count of at most 6 digits: a longer one is no GPU count (and int() refuses numbers past 4,300 digits).
_GPU_SPEC = re.compile(r"^\s*(\d{1,6})\s*[xX×]\s*(.*?)\s*$")


def _flatten_names(value: Any) -> list[str]:
    """GPU names from gpu_array, which is a list of strings or nested lists of strings ([["GTX 745"]])."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, (list, tuple)):
        names: list[str] = []
        for item in value:
            names.extend(_flatten_names(item))
        return names
    return []


def gpu_from_specs(specs: dict | None, gpu_array: Any = None) -> tuple[str | None, int | None]:
    """(model, count) from specs.gpu ("2x NVIDIA GeForce RTX 3090"), falling back to gpu_array.

    A specs.gpu without an "<N>x " prefix names the model; its count then comes from gpu_array, else 1.
    gpu_array alone gives the count by its length and the model by its names (distinct names joined by ", ").
    """
    spec = specs.get("gpu") if isinstance(specs, dict) else None
    if isinstance(spec, str) and spec.strip():
        match = _GPU_SPEC.match(spec)
        if match and match.group(2):
            return match.group(2), int(match.group(1))
        if not match:
            return spec.strip(), len(_flatten_names(gpu_array)) or 1
    names = _flatten_names(gpu_array)
    if not names:
        return None, None
    distinct = list(dict.fromkeys(names))
    return ", ".join(distinct), len(names)
