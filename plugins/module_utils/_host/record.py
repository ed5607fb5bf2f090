"""The servers a key hosts: one `my_servers` row (and optionally its `server_config`) in, one flat record out.

Read defensively, as the real rows demand: any field may be missing, null, a string where a number is expected or a
number that is not finite; such a field becomes None (or an empty list / dict). Only a row without a name is unusable
(a hosted server is known by its name to server_config and set_server_settings): read_hosted skips it with a warning
naming it, and never fails the whole listing. Secrets a row may carry (`init_token`, a background job's `env`) are
never copied: a record is built from named fields only.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import KNOWN_CURRENCIES, canonical_currency
from ansible_collections.clore.ai.plugins.module_utils.json_stream import loads
from ansible_collections.clore.ai.plugins.module_utils.gpu_specs import gpu_from_specs
from ansible_collections.clore.ai.plugins.module_utils.values import as_bool, as_server_id, as_text

PUBLIC = "public"
HIDDEN = "hidden"
# server_config's rental_status: 0 free, 1 spot, 2 on-demand.
RENTAL_TYPES = {1: "spot", 2: "on-demand"}
# Values of `autoprice` that mean "off" (the newest public client types it as "usd" or false).
_AUTOPRICE_OFF = {"", "false", "off", "none", "no", "0"}
# remaining_time above this is a Unix time in milliseconds (the real rows: 1754149391786), above 1e9 one in seconds.
_MS_EPOCH_FLOOR = 1e11
_S_EPOCH_FLOOR = 1e9


def number(value: Any) -> float | None:
    """A finite float from an int, a float or a numeric string; None for anything else (bool included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def _count(value: Any) -> int | None:
    result = number(value)
    return int(result) if result is not None and result >= 0 and result == int(result) else None


def _whole(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def price_map(value: Any) -> dict[str, float]:
    """{coin: price per day} with the API's coin names; unknown coins and non-positive or odd prices left out."""
    if not isinstance(value, dict):
        return {}
    prices = {}
    for coin, amount in value.items():
        name = canonical_currency(coin)
        price = number(amount)
        if name is not None and price is not None and price > 0:
            prices[name] = price
    return prices


def _usd_pricing(value: Any) -> dict[str, float | None]:
    """{on_demand, spot} in USD per day: the flat form of the real rows, or (newest client) one entry per coin."""
    if not isinstance(value, dict):
        return {}
    if "on_demand" not in value and "spot" not in value:
        per_coin = [value.get(coin) for coin in KNOWN_CURRENCIES if isinstance(value.get(coin), dict)]
        if not per_coin:
            return {}
        value = per_coin[0]
    return {"on_demand": _positive(value.get("on_demand")), "spot": _positive(value.get("spot"))}


def _positive(value: Any) -> float | None:
    result = number(value)
    return result if result is not None and result > 0 else None


def autoprice_on(value: Any) -> bool | None:
    """Whether Clore derives the coin prices from the USD prices: "usd" (real rows), a flag, or one per coin."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):
        states = [autoprice_on(v) for v in value.values()]
        return any(states) if states else None
    if isinstance(value, str):
        return value.strip().lower() not in _AUTOPRICE_OFF
    return None


def _coins(*candidates: Any) -> list[str]:
    """The accepted coins from the first list given (allowed_coins / allowed_currencies), in the API's spelling."""
    for value in candidates:
        if isinstance(value, list):
            names = {canonical_currency(coin) for coin in value}
            return [coin for coin in KNOWN_CURRENCIES if coin in names]
    return []


def rented_until(remaining_time: Any) -> str | None:
    """remaining_time as an ISO 8601 UTC time, when it reads as a Unix time (ms, as the real rows show, or s)."""
    value = number(remaining_time)
    if value is None or value < _S_EPOCH_FLOOR:
        return None
    seconds = value / 1000 if value >= _MS_EPOCH_FLOOR else value
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def _oc_gpus(value: Any) -> list:
    """oc_gpus: a JSON **string** in the real rows (a list of GPUs with their overclocking ranges)."""
    if isinstance(value, str):
        try:
            value = loads(value)  # nesting bounded, as every answer is
        except ValueError:
            return []
    return [gpu for gpu in value if isinstance(gpu, dict)] if isinstance(value, list) else []


def _gpu_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [name for item in value for name in _gpu_names(item)]
    return []


def _pick(config: dict, row: dict, config_key: str, row_key: str | None = None) -> Any:
    """server_config's value when it has the field, else my_servers'."""
    if config_key in config and config[config_key] is not None:
        return config[config_key]
    return row.get(row_key or config_key)


def _visibility(value: Any) -> tuple[str | None, bool | None]:
    text = as_text(value)
    lowered = text.lower() if text else None
    return text, {PUBLIC: True, HIDDEN: False}.get(lowered) if lowered else None


def _rented(row: dict, config: dict) -> tuple[bool, str | None]:
    """(rented, rental type): server_config's rental_status when read, else my_servers' `rented` (listed only while
    rented, so its absence means free)."""
    status = _count(config.get("rental_status"))
    if status is not None:
        return status in RENTAL_TYPES, RENTAL_TYPES.get(status)
    return bool(as_bool(row.get("rented"))), None


def normalize_hosted(row: Any, config: Any = None) -> dict | None:
    """One hosted server as a flat record (docs/hosts.md lists every field); None for a row without a name."""
    if not isinstance(row, dict):
        return None
    config = config if isinstance(config, dict) else {}
    name = as_text(row.get("name")) or as_text(config.get("name"))
    if name is None:
        return None
    specs = _pick(config, row, "specs")
    specs = specs if isinstance(specs, dict) else {}
    gpu_array = _gpu_names(row.get("gpu_array"))
    gpu_model, gpu_count = gpu_from_specs(specs, gpu_array)
    listed_count = _count(row.get("gpu_count"))
    on_demand = price_map(_pick(config, row, "pricing"))
    spot = price_map(_pick(config, row, "spot_pricing", "min_spot_pricing"))
    visibility, available = _visibility(_pick(config, row, "visibility"))
    rented, rental_type = _rented(row, config)
    remaining = row.get("remaining_time", config.get("remaining_time"))
    mrl = number(_pick(config, row, "mrl"))
    max_fair = number(row.get("max_fair_price_usd"))
    return {
        "id": as_server_id(row.get("id", config.get("id"))),
        "name": name,
        "public_name": as_text(row.get("public_name")),
        "visibility": visibility,
        "available": available,
        "connected": as_bool(_pick(config, row, "connected")),
        "online": as_bool(_pick(config, row, "online")),
        "working_properly": as_bool(row.get("working_properly")),
        "rented": rented,
        "rental_type": rental_type,
        "remaining_time": _whole(number(remaining)),
        "rented_until": rented_until(remaining) if rented else None,
        "gpu_model": gpu_model,
        "gpu_count": listed_count if listed_count else gpu_count,
        "gpu_array": gpu_array,
        "coins": _coins(config.get("allowed_coins"), row.get("allowed_coins"), row.get("allowed_currencies"))
        or [coin for coin in KNOWN_CURRENCIES if coin in on_demand],
        "on_demand_price": on_demand,
        "spot_min_price": spot,
        "usd_pricing": _usd_pricing(_pick(config, row, "usd_pricing")),
        "autoprice": autoprice_on(_pick(config, row, "autoprice")),
        "max_fair_price_usd": max_fair if max_fair is not None and max_fair >= 0 else None,
        "mrl": _whole(mrl),
        "specs": specs,
        "oc_gpus": _oc_gpus(row.get("oc_gpus")),
        "energy_price": number(row.get("energy_price")),
        "max_poh_capacity": number(row.get("max_poh_capacity")),
        "is_vpn_enabled": as_bool(row.get("is_vpn_enabled")),
        "mass_price_changeable": as_bool(row.get("mass_price_changeable")),
        "enable_btc_and_clore": as_bool(row.get("enable_btc_and_clore")),
        "enable_only_clore": as_bool(row.get("enable_only_clore")),
        "enable_only_btc": as_bool(row.get("enable_only_btc")),
        "config_read": bool(config),
    }


def _label(row: Any, index: int) -> str:
    """How a warning names a row: its position, and its id or name when it has one."""
    if isinstance(row, dict):
        for key in ("name", "id"):
            text = as_text(row.get(key))
            if text:
                return f"my_servers row {index} ({key} {text[:64]!r})"
    return f"my_servers row {index}"


def read_hosted(rows: Any) -> tuple[list[dict], list[str]]:
    """(records, warnings) from the my_servers listing: a row without a name is skipped with a warning, a server
    listed twice is kept once (with a warning only when the two rows differ)."""
    records: list[dict] = []
    warnings: list[str] = []
    seen: dict[Any, tuple[int, Any]] = {}
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        record = normalize_hosted(row)
        if record is None:
            kind = "is not an object" if not isinstance(row, dict) else "has no name"
            warnings.append(f"{_label(row, index)} {kind}: skipped (a hosted server is managed by its name)")
            continue
        key = record["id"] if record["id"] is not None else ("name", record["name"])
        if key in seen:
            first_index, first_row = seen[key]
            if first_row != row:
                warnings.append(f"{_label(row, index)} lists server {record['name']!r} again with other values "
                                f"than row {first_index}: kept row {first_index}")
            continue
        seen[key] = (index, row)
        records.append(record)
    return records, warnings


def raw_rows_by_name(rows: Any) -> dict[str, dict]:
    """The first my_servers row of each name, for merging with that server's server_config."""
    found: dict[str, dict] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict):
            name = as_text(row.get("name"))
            if name is not None and name not in found:
                found[name] = row
    return found
