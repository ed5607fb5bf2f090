"""The host side: how a hosted server looks in my_servers, server_config and the marketplace, and the checks of
set_server_settings (both forms) answered with code 2.

A hosted server is kept as one dict in its account (state.json); everything here derives views from it or changes it.
"""
from __future__ import annotations

import math
from typing import Any

from .market import GPUS, USD_RATES
from .price_shapes import USD_KEYS
from .validation import InvalidInput, is_int, is_number

COINS = tuple(USD_RATES)  # bitcoin, CLORE-Blockchain, USD-Blockchain
MRL_MIN, MRL_MAX = 6, 3000  # hours: a rental lasts between 6 and 3000 hours
AUTOPRICE_USD = "usd"
OLDER_KEYS = ("on_demand", "spot")
# The fields of a my_servers row, as the real rows have them (rented and remaining_time only while rented).
MY_SERVERS_FIELDS = ("id", "name", "connected", "visibility", "online", "is_vpn_enabled", "gpu_array",
                     "max_fair_price_usd", "enable_btc_and_clore", "enable_only_clore", "enable_only_btc",
                     "mass_price_changeable", "gpu_count", "public_name", "usd_pricing", "autoprice", "oc_gpus",
                     "specs", "working_properly", "max_poh_capacity")


def _round(coin: str, amount: float) -> float:
    return round(amount, 8 if coin == "bitcoin" else 4)


def upgrade(server: dict) -> None:
    """Fields a hosted server saved by an older clore-sim lacks."""
    server.setdefault("allowed_coins", sorted(server.get("pricing") or {"CLORE-Blockchain": 0}))
    server.setdefault("usd_pricing", {})
    server.setdefault("autoprice", False)
    server.setdefault("working_properly", True)
    server.setdefault("gpu_count", len(server.get("gpu_array") or [None]))


def apply_autoprice(server: dict) -> None:
    """With autoprice "usd" the coin prices follow usd_pricing at the simulator's fixed rates."""
    usd = server.get("usd_pricing") or {}
    if server.get("autoprice") != AUTOPRICE_USD or not usd.get("on_demand"):
        return
    spot = usd.get("spot") or usd["on_demand"]
    for coin in server["allowed_coins"]:  # a coin not accepted keeps the price it had
        server["pricing"][coin] = _round(coin, usd["on_demand"] / USD_RATES[coin])
        server["spot_pricing"][coin] = _round(coin, spot / USD_RATES[coin])


def offered_coins(server: dict) -> list[str]:
    """The coins a renter can pay in: accepted and priced."""
    return [c for c in server["allowed_coins"] if c in server["pricing"] and c in server["spot_pricing"]]


def market_row(server: dict, owner: int) -> dict:
    """The hosted server as the marketplace lists it to everyone (when public)."""
    coins = offered_coins(server)
    on_demand = {c: server["pricing"][c] for c in coins}
    spot = {c: server["spot_pricing"][c] for c in coins}
    usd = {USD_KEYS[c]: round(on_demand[c] * USD_RATES[c], 4) for c in coins}
    if coins:
        usd["spot"] = round(spot[coins[0]] * USD_RATES[coins[0]], 4)
    model = (server.get("gpu_array") or ["RTX 3090"])[0]
    full_name = GPUS[model].name if model in GPUS else model
    return {
        "id": server["id"], "owner": owner, "mrl": server["mrl"],
        "price": {"on_demand": on_demand, "spot": spot, "usd": usd},
        "rented": False, "online": server["online"], "specs": server["specs"],
        "reliability": server.get("reliability", 0.99), "rating": server.get("rating", {"avg": 5.0, "cnt": 0}),
        "allowed_coins": coins, "gpu_array": [full_name] * int(server.get("gpu_count") or 1),
        "cuda_version": server.get("cuda_version", "12.4"),
    }


def my_servers_row(server: dict, rental: tuple[int, float] | None) -> dict:
    """A my_servers row: the fields of the real rows; `rented` and `remaining_time` (Unix ms) only while rented."""
    row = {name: server[name] for name in MY_SERVERS_FIELDS if name in server}
    row["pricing"] = dict(server["pricing"])
    row["min_spot_pricing"] = dict(server["spot_pricing"])
    if rental is not None:
        row["rented"] = True
        row["remaining_time"] = int(rental[1] * 1000)
    return row


def config_view(server: dict, rental: tuple[int, float] | None) -> dict:
    """server_config's `config`."""
    return {
        "name": server["name"], "id": server["id"], "connected": server["connected"],
        "visibility": server["visibility"], "pricing": dict(server["pricing"]),
        "spot_pricing": dict(server["spot_pricing"]), "mrl": server["mrl"], "online": server["online"],
        "initialized": True, "rental_status": rental[0] if rental is not None else 0, "specs": server["specs"],
        "allowed_coins": list(server["allowed_coins"]), "autoprice": server["autoprice"],
        "usd_pricing": dict(server["usd_pricing"]),
    }


def _price(name: str, value: Any) -> float:
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise InvalidInput(f"{name} must be a positive number (per day)")
    return float(value)


def _older_price(name: str, value: Any) -> dict[str, float]:
    """The older form's price: a number (CLORE-Blockchain) or {currency: price}."""
    if is_number(value):
        return {"CLORE-Blockchain": _price(name, value)}
    if isinstance(value, dict) and value:
        unknown = [c for c in value if c not in COINS]
        if unknown:
            raise InvalidInput(f"{name}: unknown currency {unknown[0]!r}; use {', '.join(COINS)}")
        return {c: _price(f"{name}.{c}", v) for c, v in value.items()}
    raise InvalidInput(f"{name} must be a positive number or an object {{currency: price}}")


def parse_settings(body: dict) -> dict:
    """The changes a set_server_settings body asks for (either form), or InvalidInput (code 2)."""
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput("name is required: the server's name")
    per_coin_keys = {f"{c}_{kind}" for c in COINS for kind in OLDER_KEYS} | {f"enabled-{c}" for c in COINS} | {
        "autoprice", "usd_pricing"}
    known = per_coin_keys | set(OLDER_KEYS) | {"name", "availability", "mrl"}
    unknown = sorted(k for k in body if k not in known)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}")
    newer = per_coin_keys & body.keys()
    older = set(OLDER_KEYS) & body.keys()
    if newer and older:
        raise InvalidInput(f"{sorted(older)[0]!r} (the older form) cannot be mixed with the per-currency fields")
    changes: dict[str, Any] = {}
    if "availability" in body:
        if not isinstance(body["availability"], bool):
            raise InvalidInput("availability must be a boolean")
        changes["visibility"] = "public" if body["availability"] else "hidden"
    if "mrl" in body:
        if not is_int(body["mrl"]) or not MRL_MIN <= body["mrl"] <= MRL_MAX:
            raise InvalidInput(f"mrl must be a whole number of hours from {MRL_MIN} to {MRL_MAX}")
        changes["mrl"] = body["mrl"]
    if older:
        for field_name, target in (("on_demand", "pricing"), ("spot", "spot_pricing")):
            if field_name in body:
                changes[target] = _older_price(field_name, body[field_name])
        return changes
    for kind, target in (("on_demand", "pricing"), ("spot", "spot_pricing")):
        prices = {c: _price(f"{c}_{kind}", body[f"{c}_{kind}"]) for c in COINS if f"{c}_{kind}" in body}
        if prices:
            changes[target] = prices
    enabled = {c: body[f"enabled-{c}"] for c in COINS if f"enabled-{c}" in body}
    for coin, flag in enabled.items():
        if not isinstance(flag, bool):
            raise InvalidInput(f"enabled-{coin} must be a boolean")
    if enabled:
        changes["enabled"] = enabled
    if "autoprice" in body:
        if body["autoprice"] not in (AUTOPRICE_USD, False):
            raise InvalidInput(f'autoprice must be "{AUTOPRICE_USD}" or false')
        changes["autoprice"] = body["autoprice"]
    if "usd_pricing" in body:
        usd = body["usd_pricing"]
        if not isinstance(usd, dict) or not usd or any(k not in OLDER_KEYS for k in usd):
            raise InvalidInput("usd_pricing must be an object {on_demand, spot} in US dollars per day")
        changes["usd_pricing"] = {k: _price(f"usd_pricing.{k}", v) for k, v in usd.items()}
    return changes


def apply_settings(server: dict, changes: dict) -> None:
    """Apply parsed changes (prices merged per coin: a coin not named keeps its price), or InvalidInput when the
    result cannot be offered (no coin accepted, autoprice without a USD price, a coin without prices)."""
    candidate = {**server, "pricing": dict(server["pricing"]), "spot_pricing": dict(server["spot_pricing"]),
                 "usd_pricing": dict(server["usd_pricing"]), "allowed_coins": list(server["allowed_coins"])}
    for key in ("visibility", "mrl", "autoprice"):
        if key in changes:
            candidate[key] = changes[key]
    for key in ("pricing", "spot_pricing", "usd_pricing"):
        candidate[key].update(changes.get(key, {}))
    if "enabled" in changes:
        accepted = set(candidate["allowed_coins"])
        accepted |= {c for c, on in changes["enabled"].items() if on}
        accepted -= {c for c, on in changes["enabled"].items() if not on}
        candidate["allowed_coins"] = [c for c in COINS if c in accepted]
    if not candidate["allowed_coins"]:
        raise InvalidInput("at least one currency must be enabled")
    if candidate["autoprice"] == AUTOPRICE_USD:
        if not candidate["usd_pricing"].get("on_demand"):
            raise InvalidInput("autoprice usd needs usd_pricing.on_demand")
        apply_autoprice(candidate)
    missing = [c for c in candidate["allowed_coins"]
               if c not in candidate["pricing"] or c not in candidate["spot_pricing"]]
    if missing:
        raise InvalidInput(f"{missing[0]} is enabled without an on-demand and a spot price")
    server.update(candidate)
