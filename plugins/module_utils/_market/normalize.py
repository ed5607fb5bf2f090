"""Market normalisation: one raw `marketplace` server in, one flat dict for people, `when:` and `sort` out.

The API is read defensively: any field may be missing, null, a string where a number is expected, a number that is not
finite (1e999, "inf", an integer too large for a float) or nested where a flat list is expected. Such a field becomes
None (or an empty list / dict); only a row without a usable id is unusable (normalize_server returns None for it, and
the caller counts it). Nothing a row holds makes normalize_server raise.

Prices are per day, as the API gives them. `price.usd` holds US-dollar equivalents of the on-demand price in each
coin and of the spot minimum; per-hour figures are per day / 24 and per-GPU-hour figures also / gpu_count.
"""
from __future__ import annotations

# Exact type checks (type(x) is int) on the hot path: they are faster, and they keep bool out of the numbers.
# pylint: disable=unidiomatic-typecheck

import math
import re
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import (
    KNOWN_CURRENCIES,
    USD,
    USD_COIN,
    USD_EQUIVALENT_FIELDS,
    canonical_currency,
)
from ansible_collections.clore.ai.plugins.module_utils.values import as_bool, as_server_id, as_text

ON_DEMAND = "on-demand"
SPOT = "spot"
ORDER_TYPES = (ON_DEMAND, SPOT)

# A count of at most 6 digits: a longer one is no GPU count (and int() refuses numbers past 4,300 digits).
_GPU_SPEC = re.compile(r"^\s*(\d{1,6})\s*[xX×]\s*(.*?)\s*$")
_LEADING_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
# specs.disk is "<drive model> <free space>GB" and the model may hold sizes of its own ("Samsung SSD 990 PRO 4TB
# 3450.9524GB"): the free space is the size at the very end.
_DISK_FREE = re.compile(r"^(?P<model>.*?)\s*(?P<size>\d+(?:\.\d+)?)\s*(?P<unit>[TG])B\s*$", re.IGNORECASE)


def as_number(value: Any) -> float | None:
    """A finite float from an int, a float or a string starting with a number ("24", "24 GB"); otherwise None."""
    kind = type(value)
    # Exact type checks first: this runs a few hundred thousand times per marketplace listing.
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int:
        try:
            return float(value)
        except OverflowError:  # an int too large for a float
            return None
    if kind is str:
        match = _LEADING_NUMBER.match(value.strip())
        number = float(match.group()) if match else None  # a long run of digits reads as inf
        return number if number is not None and math.isfinite(number) else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            return None
        return number if math.isfinite(number) else None
    return None


def _as_count(value: Any) -> int | None:
    number = as_number(value)
    return int(number) if number is not None and number >= 0 and number == int(number) else None


def _as_dict(value: Any) -> dict:
    return value if type(value) is dict or isinstance(value, dict) else {}


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


def _price_map(value: Any) -> dict[str, float]:
    """{coin: per-day price} keeping only non-negative numbers."""
    if type(value) is not dict:
        return {}
    prices = {}
    for coin, amount in value.items():
        number = amount if type(amount) is float else as_number(amount)
        if number is not None and 0 <= number < math.inf and type(coin) is str:
            prices[coin] = number
    return prices


def _usd_on_demand(usd: dict, on_demand: dict[str, float], allowed: list[str]) -> float | None:
    """The cheapest US-dollar equivalent of the on-demand price over the coins the server accepts."""
    best = None
    for field, coin in USD_EQUIVALENT_FIELDS:
        value = usd.get(field)
        if value is None or (allowed and coin not in allowed):
            continue
        number = as_number(value)
        if number is not None and number >= 0 and (best is None or number < best):
            best = number
    if best is not None:
        return best
    # No dollar equivalents given: a USD-Blockchain price is already in dollars.
    return on_demand.get(USD_COIN)


def _hourly(per_day: float | None, gpu_count: int | None) -> tuple[float | None, float | None]:
    """(per hour, per GPU-hour), rounded to a millionth: readable, and finer than any price step."""
    if per_day is None:
        return None, None
    per_hour = per_day / 24
    per_gpu_hour = round(per_hour / gpu_count, 6) if gpu_count else None
    return round(per_hour, 6), per_gpu_hour


def _cpu_cores_threads(value: Any) -> tuple[int | None, int | None]:
    """"8/16" -> (8, 16); "8" -> (8, None)."""
    if type(value) is str:
        cores, _slash, threads = value.partition("/")
        # isdecimal, not isdigit: int() refuses digits such as "²"; and no count is longer than 6 digits.
        if cores.isdecimal() and threads.isdecimal() and len(cores) <= 6 and len(threads) <= 6:
            return int(cores), int(threads)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _as_count(value), None
    if not isinstance(value, str):
        return None, None
    cores, _slash, threads = value.partition("/")
    return _as_count(cores), _as_count(threads)


def disk_free(value: Any) -> tuple[str | None, float | None]:
    """(drive model, free GB) from specs.disk: "Samsung SSD 990 PRO 4TB 3450.9524GB" -> ("Samsung SSD 990 PRO 4TB",
    3450.9524); "NVMe 2TB" -> ("NVMe", 2000.0); a string that does not end with a size -> (the string, None)."""
    if not isinstance(value, str) or not value.strip():
        return None, None
    match = _DISK_FREE.match(value.strip())
    if not match:
        return value.strip(), None
    size = float(match.group("size"))
    if match.group("unit").upper() == "T":
        size *= 1000
    model = match.group("model").strip() or None
    return model, size if math.isfinite(size) else None


def _rating(value: Any) -> tuple[float | None, int | None]:
    if isinstance(value, dict):
        return as_number(value.get("avg")), _as_count(value.get("cnt", value.get("count")))
    return as_number(value), None


def _reliability(value: Any) -> float | None:
    """0..1; a value in (1, 100] is read as a percentage."""
    number = as_number(value)
    if number is None or number < 0 or number > 100:
        return None
    return number / 100 if number > 1 else number


def _currencies(value: Any) -> list[str]:
    if type(value) is list and all(type(coin) is str and coin and not coin[0].isspace() and not coin[-1].isspace()
                                   for coin in value):
        return list(value)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [coin.strip() for coin in value if isinstance(coin, str) and coin.strip()]


# The fields of summary_fields: cheap to read, and enough for the filters that come first in the filter order.
SUMMARY_FIELDS = ("id", "rented", "online", "gpu_model", "gpu_count")


def summary_fields(raw: Any) -> dict | None:
    """The SUMMARY_FIELDS of a marketplace row (as normalize_server gives them); None for a row without an id."""
    if type(raw) is not dict and not isinstance(raw, dict):
        return None
    server_id = as_server_id(raw.get("id"))
    if server_id is None:
        return None
    gpu_model, gpu_count = gpu_from_specs(raw.get("specs"), raw.get("gpu_array"))
    return {
        "id": server_id,
        "rented": as_bool(raw.get("rented")),
        "online": as_bool(raw.get("online")),
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
    }


def normalize_server(raw: dict) -> dict | None:
    """One marketplace server as a flat dict (see docs/market.md for every field); None for a row without an id."""
    summary = summary_fields(raw)
    return None if summary is None else complete_server(raw, summary)


def complete_server(raw: dict, summary: dict) -> dict:
    """The normalised server from a row and its summary_fields (so that a caller who filtered on those reads
    them once)."""
    gpu_count = summary["gpu_count"]
    specs = _as_dict(raw.get("specs"))
    net = _as_dict(specs.get("net"))
    price = _as_dict(raw.get("price"))
    usd = _as_dict(price.get("usd"))
    on_demand = _price_map(price.get("on_demand"))
    spot = _price_map(price.get("spot"))
    allowed = _currencies(raw.get("allowed_coins")) or [coin for coin in on_demand if coin in KNOWN_CURRENCIES]
    cores, threads = _cpu_cores_threads(specs.get("cpus"))
    rating, rating_count = _rating(raw.get("rating"))
    country = as_text(net.get("cc")) or as_text(raw.get("country"))
    disk_model, disk_gb = disk_free(specs.get("disk"))

    usd_per_day = _usd_on_demand(usd, on_demand, allowed)
    spot_usd_per_day = as_number(usd.get("spot"))
    if spot_usd_per_day is None or spot_usd_per_day < 0:
        spot_usd_per_day = spot.get(USD_COIN)
    usd_per_hour, usd_per_gpu_hour = _hourly(usd_per_day, gpu_count)
    spot_usd_per_hour, spot_usd_per_gpu_hour = _hourly(spot_usd_per_day, gpu_count)

    return {
        "id": summary["id"],
        "owner": as_server_id(raw.get("owner")),
        "gpu_model": summary["gpu_model"],
        "gpu_count": gpu_count,
        "gpu_ram_gb": as_number(specs.get("gpuram")),
        "ram_gb": as_number(specs.get("ram")),
        "cpu": as_text(specs.get("cpu")),
        "cpu_cores": cores,
        "cpu_threads": threads,
        "disk": as_text(specs.get("disk")),
        "disk_model": disk_model,
        "disk_gb": disk_gb,
        "disk_speed": as_number(specs.get("disk_speed")),
        "net_up": as_number(net.get("up")),
        "net_down": as_number(net.get("down")),
        "country": country.upper() if country else None,
        "cuda_version": as_text(raw.get("cuda_version", specs.get("cuda_version"))),
        "reliability": _reliability(raw.get("reliability")),
        "rating": rating,
        "rating_count": rating_count,
        "allowed_currencies": allowed,
        "rented": summary["rented"],
        "online": summary["online"],
        "mrl_hours": as_number(raw.get("mrl")),
        "prices": {ON_DEMAND: on_demand, SPOT: spot},
        "usd_per_day": usd_per_day,
        "usd_per_hour": usd_per_hour,
        "usd_per_gpu_hour": usd_per_gpu_hour,
        "spot_usd_per_day": spot_usd_per_day,
        "spot_usd_per_hour": spot_usd_per_hour,
        "spot_usd_per_gpu_hour": spot_usd_per_gpu_hour,
    }


def price_per_day(server: dict, order_type: str, currency: str) -> float | None:
    """A normalised server's price per day for order_type ('on-demand'|'spot') in currency ('USD' or a coin).

    "USD" is the US-dollar equivalent; a coin (aliases accepted) is the host's price in that coin.
    None when the server has no such price.
    """
    coin = canonical_currency(currency, allow_usd=True)
    if coin == USD:
        return server.get("usd_per_day") if order_type == ON_DEMAND else server.get("spot_usd_per_day")
    prices = (server.get("prices") or {}).get(order_type) or {}
    return prices.get(coin or currency)
