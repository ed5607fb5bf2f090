"""clore_server's settings: the declared options checked before any API call, merged over what the server has now,
compared, and written as one set_server_settings body.

Nothing is reset by omission: an option left out keeps the server's current value, and the body carries the current
value of every setting that was not declared. Two body forms exist: the current one with a key per coin
(`bitcoin_on_demand`, `enabled-bitcoin`, ..., `autoprice`, `usd_pricing`) and the older `{name, availability, mrl,
on_demand, spot}` whose prices are in CLORE-Blockchain; the older one is used only when the API refuses the current
one and the change fits in it.
"""
from __future__ import annotations

import math
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import CLORE, KNOWN_CURRENCIES, canonical_currency
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.mrl import MRL_MAX, MRL_MIN

SETTINGS = ("available", "mrl", "coins", "on_demand_price", "spot_min_price", "usd_pricing", "autoprice")
PRICE_MAPS = ("on_demand_price", "spot_min_price")
USD_KEYS = ("on_demand", "spot")
CURRENT_FORM = "per-currency"
OLDER_FORM = "older"
AUTOPRICE_USD = "usd"

SERVER_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "available": {"type": "bool"},
    "mrl": {"type": "int"},
    "on_demand_price": {"type": "dict"},
    "spot_min_price": {"type": "dict"},
    "coins": {"type": "list", "elements": "str"},
    "usd_pricing": {"type": "dict", "options": {"on_demand": {"type": "float"}, "spot": {"type": "float"}}},
    "autoprice": {"type": "bool"},
}


def _price(field: str, value: Any) -> float:
    """A price per day: a finite number above 0 (numeric strings accepted, as Ansible templating makes them)."""
    amount = None
    if not isinstance(value, bool):
        try:
            amount = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError, OverflowError):
            amount = None
    if amount is None or not math.isfinite(amount) or amount <= 0:
        raise CloreConfigError(f"{field} must be a finite price per day above 0, got {value!r}.",
                               option=field.split(".")[0])
    return amount


def _coin(field: str, name: Any) -> str:
    coin = canonical_currency(name)
    if coin is None:
        raise CloreConfigError(
            f"{field}: {name!r} is not a coin Clore accepts; use {', '.join(KNOWN_CURRENCIES)} "
            "(or the aliases BTC, CLORE).",
            option=field.split(".")[0],
        )
    return coin


def check_declared(params: dict) -> dict:
    """The declared settings in canonical form (only those given), or CloreConfigError naming the field.

    Runs before any API call: every rule that needs no knowledge of the server is checked here.
    """
    declared: dict[str, Any] = {}
    if not isinstance(params.get("name"), str) or not params["name"].strip():
        raise CloreConfigError("name must be the name of one of your servers (as clore_server_info lists it).",
                               option="name")
    if params.get("available") is not None:
        declared["available"] = bool(params["available"])
    mrl = params.get("mrl")
    if mrl is not None:
        if isinstance(mrl, bool) or not isinstance(mrl, int) or not MRL_MIN <= mrl <= MRL_MAX:
            raise CloreConfigError(f"mrl must be a whole number of hours from {MRL_MIN} to {MRL_MAX} (the rental "
                                   f"lengths Clore allows), got {mrl!r}.", option="mrl")
        declared["mrl"] = mrl
    if params.get("coins") is not None:
        coins = {_coin("coins", name) for name in params["coins"]}
        if not coins:
            raise CloreConfigError("coins must name at least one coin the server accepts.", option="coins")
        declared["coins"] = [coin for coin in KNOWN_CURRENCIES if coin in coins]
    for option in PRICE_MAPS:
        value = params.get(option)
        if value is None:
            continue
        if not isinstance(value, dict) or not value:
            raise CloreConfigError(f"{option} must map coins to prices per day, e.g. {{CLORE-Blockchain: 250}}.",
                                   option=option)
        prices: dict[str, float] = {}
        for name, amount in value.items():
            coin = _coin(f"{option}.{name}", name)
            if coin in prices:
                raise CloreConfigError(f"{option} names {coin} twice (as {name!r} and an alias).", option=option)
            prices[coin] = _price(f"{option}.{name}", amount)
            if "coins" in declared and coin not in declared["coins"]:
                raise CloreConfigError(f"{option}.{name}: {coin} is not in coins; add it there or drop the price.",
                                       option=option)
        declared[option] = prices
    usd = params.get("usd_pricing")
    if usd is not None:
        given = {key: _price(f"usd_pricing.{key}", usd[key]) for key in USD_KEYS if usd.get(key) is not None}
        if not given:
            raise CloreConfigError("usd_pricing needs on_demand and/or spot, in US dollars per day.",
                                   option="usd_pricing")
        declared["usd_pricing"] = given
    if params.get("autoprice") is not None:
        declared["autoprice"] = bool(params["autoprice"])
    if declared.get("autoprice") and any(option in declared for option in PRICE_MAPS):
        raise CloreConfigError(
            "on_demand_price / spot_min_price are set while autoprice: true makes Clore derive the coin prices from "
            "usd_pricing: declare usd_pricing, or set autoprice: false to fix the coin prices.",
            option="autoprice",
        )
    return declared


def current_settings(record: dict) -> dict:
    """The settings of a hosted record (hosted.normalize_hosted) as clore_server compares them."""
    usd = {key: value for key, value in (record.get("usd_pricing") or {}).items() if value is not None}
    return {
        "available": record.get("available"),
        "mrl": record.get("mrl"),
        "coins": list(record.get("coins") or []),
        "on_demand_price": dict(record.get("on_demand_price") or {}),
        "spot_min_price": dict(record.get("spot_min_price") or {}),
        "usd_pricing": usd,
        "autoprice": record.get("autoprice"),
    }


def desired_settings(current: dict, declared: dict) -> dict:
    """The current settings with the declared ones laid over them (prices merged per coin)."""
    desired = {key: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value)
               for key, value in current.items()}
    for key, value in declared.items():
        if key in PRICE_MAPS or key == "usd_pricing":
            desired[key] = {**(current.get(key) or {}), **value}
        else:
            desired[key] = value
    return desired


def check_against_server(name: str, current: dict, declared: dict, desired: dict) -> None:
    """The rules that need the server's current settings; CloreError before any write."""
    if desired.get("autoprice") and any(option in declared for option in PRICE_MAPS):
        raise CloreConfigError(
            f"server {name!r} has autoprice on, so Clore derives its coin prices from usd_pricing: set autoprice: "
            "false to fix on_demand_price / spot_min_price, or declare usd_pricing instead.",
            option="autoprice",
        )
    if desired.get("autoprice") and not (desired.get("usd_pricing") or {}).get("on_demand"):
        raise CloreConfigError(
            f"autoprice: true needs usd_pricing.on_demand (server {name!r} has none): Clore derives the coin prices "
            "from it.",
            option="usd_pricing",
        )
    coins = desired.get("coins") or []
    for option in PRICE_MAPS:
        for coin in declared.get(option, {}):
            if coin not in coins:
                raise CloreConfigError(
                    f"{option}.{coin}: server {name!r} does not accept {coin} (it accepts {_names(coins)}); add it "
                    "to coins.",
                    option=option,
                )
    if "coins" in declared and not desired.get("autoprice"):
        for coin in declared["coins"]:
            for option in PRICE_MAPS:
                if coin not in desired[option]:
                    raise CloreConfigError(
                        f"coins: server {name!r} has no {option} in {coin}; set {option}.{coin} too.",
                        option=option,
                    )


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, dict) and isinstance(after, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    if isinstance(before, float) or isinstance(after, float):
        if isinstance(before, bool) or isinstance(after, bool) or before is None or after is None:
            return before == after
        return math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-12)
    return before == after


def differences(current: dict, desired: dict, declared: dict) -> dict[str, dict]:
    """{setting: {before, after}} for every declared setting whose desired value differs from the current one."""
    changes = {}
    for key in SETTINGS:
        if key in declared and not _same(current.get(key), desired.get(key)):
            changes[key] = {"before": current.get(key), "after": desired.get(key)}
    return changes


def per_currency_body(name: str, desired: dict) -> dict:
    """The current set_server_settings form: every known setting, one key per coin."""
    body: dict[str, Any] = {"name": name}
    if desired.get("available") is not None:
        body["availability"] = desired["available"]
    if desired.get("mrl") is not None:
        body["mrl"] = desired["mrl"]
    coins = desired.get("coins") or []
    for coin in KNOWN_CURRENCIES:
        if coin in desired["on_demand_price"]:
            body[f"{coin}_on_demand"] = desired["on_demand_price"][coin]
        if coin in desired["spot_min_price"]:
            body[f"{coin}_spot"] = desired["spot_min_price"][coin]
    if coins:
        for coin in KNOWN_CURRENCIES:
            body[f"enabled-{coin}"] = coin in coins
    if desired.get("autoprice") is not None:
        body["autoprice"] = AUTOPRICE_USD if desired["autoprice"] else False
    usd = desired.get("usd_pricing") or {}
    if usd:
        body["usd_pricing"] = dict(usd)
    return body


def older_body(name: str, desired: dict, changed: dict[str, dict]) -> dict:
    """The older form {name, availability, mrl, on_demand, spot} (prices in CLORE-Blockchain), or CloreError when the
    change needs what only the current form carries."""
    beyond = [key for key in changed if key not in ("available", "mrl") + PRICE_MAPS]
    for option in PRICE_MAPS:
        if option in changed:
            coins = {coin for coin in set(changed[option]["before"] or {}) | set(changed[option]["after"] or {})
                     if not _same((changed[option]["before"] or {}).get(coin),
                                  (changed[option]["after"] or {}).get(coin))}
            beyond += [f"{option}.{coin}" for coin in sorted(coins - {CLORE})]
    if beyond:
        raise CloreError(f"the older form carries only availability, mrl and CLORE-Blockchain prices, not "
                         f"{', '.join(beyond)}")
    body: dict[str, Any] = {"name": name}
    if desired.get("available") is not None:
        body["availability"] = desired["available"]
    if desired.get("mrl") is not None:
        body["mrl"] = desired["mrl"]
    if CLORE in desired["on_demand_price"]:
        body["on_demand"] = desired["on_demand_price"][CLORE]
    if CLORE in desired["spot_min_price"]:
        body["spot"] = desired["spot_min_price"][CLORE]
    return body


def unknown_settings(current: dict, declared: dict) -> list[str]:
    """Settings the server did not report and the task did not declare: the body cannot carry them."""
    missing = []
    if current.get("available") is None and "available" not in declared:
        missing.append("available (visibility)")
    if current.get("mrl") is None and "mrl" not in declared:
        missing.append("mrl")
    return missing


def record_after(record: dict, desired: dict) -> dict:
    """The record as it will be once the change is applied (what check mode reports)."""
    after = dict(record)
    for key in SETTINGS:
        after[key] = desired.get(key)
    usd = desired.get("usd_pricing") or {}
    after["usd_pricing"] = {key: usd.get(key) for key in USD_KEYS} if usd else {}
    if desired.get("available") is not None:
        after["visibility"] = "public" if desired["available"] else "hidden"
    return after
