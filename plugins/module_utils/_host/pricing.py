"""Market-aware pricing for hosts: the price of each hosted server from comparable servers in the live market.

Comparable means the same GPU model and count (another host's server; the key's own are left out). The new on-demand
price is a chosen percentile of the comparables' US dollars per GPU-hour (what a renter pays, in the cheapest
currency each accepts: pricing.py), clamped between a floor and a ceiling per
GPU-hour, and the spot minimum a chosen fraction of it. A server with too few comparables keeps its price and the plan
says so. Pure functions over the records of clore_server_info and clore_market_info: no API call here.
"""
from __future__ import annotations

import math
from typing import Any

DEFAULTS = {"percentile": 50.0, "floor": 0.01, "ceiling": 100.0, "spot_fraction": 0.6, "min_comparables": 3}
SET = "set"
KEEP = "keep"
_HOURS = 24


class PricingError(ValueError):
    """A pricing parameter out of range; the message names it."""


def percentile(values: list[float], rank: float) -> float:
    """The `rank`-th percentile (0-100) with linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise PricingError("percentile of no values")
    position = (len(ordered) - 1) * rank / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def check_parameters(percentile_rank: Any, floor: Any, ceiling: Any, spot_fraction: Any,
                     min_comparables: Any) -> tuple[float, float, float, float, int]:
    """The parameters as numbers, or PricingError naming the first one out of range."""
    values = {"percentile": _finite(percentile_rank), "floor": _finite(floor), "ceiling": _finite(ceiling),
              "spot_fraction": _finite(spot_fraction), "min_comparables": _finite(min_comparables)}
    given = {"percentile": percentile_rank, "floor": floor, "ceiling": ceiling, "spot_fraction": spot_fraction,
             "min_comparables": min_comparables}
    rules = {
        "percentile": (lambda v: 0 <= v <= 100, "a number from 0 to 100 (50 is the median)"),
        "floor": (lambda v: v > 0, "a price above 0 in US dollars per GPU-hour"),
        "ceiling": (lambda v: v > 0, "a price above 0 in US dollars per GPU-hour"),
        "spot_fraction": (lambda v: 0 < v <= 1, "a fraction above 0 and at most 1 of the on-demand price"),
        "min_comparables": (lambda v: v >= 1 and v == int(v), "a whole number of 1 or more"),
    }
    for name, (rule, what) in rules.items():
        if values[name] is None or not rule(values[name]):
            raise PricingError(f"{name} must be {what}, got {given[name]!r}")
    if values["ceiling"] < values["floor"]:
        raise PricingError(f"ceiling ({ceiling}) must not be below floor ({floor})")
    return (values["percentile"], values["floor"], values["ceiling"], values["spot_fraction"],
            int(values["min_comparables"]))


def _model_key(model: Any) -> str | None:
    return " ".join(model.split()).casefold() if isinstance(model, str) and model.strip() else None


def same_model(mine: str | None, theirs: str | None) -> bool:
    """Equal ignoring case and spacing; a short name ("RTX 4090", as gpu_array has it) also matches the full one
    ("NVIDIA GeForce RTX 4090") it ends."""
    if mine is None or theirs is None:
        return False
    return mine == theirs or mine.endswith(" " + theirs) or theirs.endswith(" " + mine)


def comparable_prices(server: dict, market: list, own_ids: set) -> list[float]:
    """US dollars per GPU-hour (on-demand) of the market's servers with the same GPU model and count: the price a
    renter would pay, in the cheapest currency each server takes (the price model's cheapest_usd_per_gpu_hour)."""
    model, count = _model_key(server.get("gpu_model")), server.get("gpu_count")
    if model is None or not count:
        return []
    prices = []
    for other in market or []:
        if not isinstance(other, dict) or other.get("id") in own_ids or other.get("gpu_count") != count:
            continue
        price = _finite(other.get("cheapest_usd_per_gpu_hour", other.get("usd_per_gpu_hour")))
        if price is not None and price > 0 and same_model(model, _model_key(other.get("gpu_model"))):
            prices.append(price)
    return prices


def price_plan(server: dict, market: list, own_ids: set, *, rank: float, floor: float, ceiling: float,
               spot_fraction: float, min_comparables: int) -> dict:
    """One server's plan: the market figures, its current and new price, and whether to set or keep it."""
    count = server.get("gpu_count") or 0
    current = _finite((server.get("usd_pricing") or {}).get("on_demand"))
    current_spot = _finite((server.get("usd_pricing") or {}).get("spot"))
    prices = comparable_prices(server, market, own_ids)
    plan: dict[str, Any] = {
        "name": server.get("name"),
        "id": server.get("id"),
        "gpu_model": server.get("gpu_model"),
        "gpu_count": server.get("gpu_count"),
        "comparables": len(prices),
        "market_low": round(min(prices), 4) if prices else None,
        "market_median": round(percentile(prices, 50), 4) if prices else None,
        "market_high": round(max(prices), 4) if prices else None,
        "market_percentile": round(percentile(prices, rank), 4) if prices else None,
        "current_usd_per_day": current,
        "current_spot_usd_per_day": current_spot,
        "current_usd_per_gpu_hour": round(current / _HOURS / count, 4) if current and count else None,
        "new_usd_per_gpu_hour": None,
        "usd_pricing": None,
        "clamped": None,
        "action": KEEP,
        "changed": False,
    }
    if not count or _model_key(server.get("gpu_model")) is None:
        plan["reason"] = "its GPU model or count is unknown: price kept"
        return plan
    if len(prices) < min_comparables:
        plan["reason"] = (f"{len(prices)} comparable server(s), {min_comparables} needed: price kept")
        return plan
    per_gpu_hour = percentile(prices, rank)
    if per_gpu_hour < floor:
        per_gpu_hour, plan["clamped"] = floor, "floor"
    elif per_gpu_hour > ceiling:
        per_gpu_hour, plan["clamped"] = ceiling, "ceiling"
    on_demand = max(0.01, round(per_gpu_hour * _HOURS * count, 2))
    spot = max(0.01, round(on_demand * spot_fraction, 2))
    plan.update(
        new_usd_per_gpu_hour=round(per_gpu_hour, 4),
        usd_pricing={"on_demand": on_demand, "spot": spot},
        action=SET,
        changed=not (_close(current, on_demand) and _close(current_spot, spot)) or server.get("autoprice") is not True,
    )
    where = f", clamped to the {plan['clamped']}" if plan["clamped"] else ""
    plan["reason"] = f"{len(prices)} comparable server(s), percentile {rank:g}{where}"
    return plan


def _close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, abs_tol=0.005)


def price_plans(servers: list, market: list, *, percentile_rank: Any = DEFAULTS["percentile"],
                floor: Any = DEFAULTS["floor"], ceiling: Any = DEFAULTS["ceiling"],
                spot_fraction: Any = DEFAULTS["spot_fraction"],
                min_comparables: Any = DEFAULTS["min_comparables"]) -> list[dict]:
    """A plan per hosted server (records of clore_server_info) against the market (records of clore_market_info)."""
    rank, low, high, fraction, needed = check_parameters(percentile_rank, floor, ceiling, spot_fraction,
                                                         min_comparables)
    hosted = [s for s in servers or [] if isinstance(s, dict)]
    own_ids = {s.get("id") for s in hosted if s.get("id") is not None}
    return [price_plan(s, market, own_ids, rank=rank, floor=low, ceiling=high, spot_fraction=fraction,
                       min_comparables=needed) for s in hosted]


def _money(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


TABLE_HEADER = ("server", "GPUs", "comparables", "low/GPU-h", "median/GPU-h", "high/GPU-h", "current/day",
                "new/day", "new spot/day", "note")


def table(plans: list[dict]) -> list[str]:
    """The plans as aligned text lines, a header first: prices in US dollars."""
    rows = [TABLE_HEADER]
    for plan in plans:
        gpus = f"{plan.get('gpu_count') or '?'}x {plan.get('gpu_model') or 'unknown GPU'}"
        pricing = plan.get("usd_pricing") or {}
        if plan["action"] == SET:
            note = "set" if plan["changed"] else "unchanged"
            note += f" ({plan['reason']})"
        else:
            note = plan["reason"]
        rows.append((str(plan.get("name")), gpus, str(plan["comparables"]), _money(plan["market_low"], 4),
                     _money(plan["market_median"], 4), _money(plan["market_high"], 4),
                     _money(plan["current_usd_per_day"]), _money(pricing.get("on_demand")),
                     _money(pricing.get("spot")), note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER) - 1)]
    return ["  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]) for row in rows]
