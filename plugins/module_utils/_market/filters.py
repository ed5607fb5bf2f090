"""Market filters: the argument spec shared by clore_market_info and clore_order, validation, and the checks.

Filters are checked in the fixed order FILTER_ORDER; for each server the first one that fails is the reason it is
excluded, which is what the `excluded` counts report. A filter whose value is None (not given) is inactive.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.currencies import (
    KNOWN_CURRENCIES,
    USD,
    USD_COIN,
    canonical_currency,
)
from ansible_collections.clore.ai.plugins.module_utils._market.normalize import (
    ORDER_TYPES,
    ON_DEMAND,
    price_per_day,
)

PRICE_UNITS = ("day", "hour", "gpu_hour")

MARKET_FILTER_SPEC: dict[str, dict[str, Any]] = {
    "gpu": {"type": "list", "elements": "str"},
    "gpu_count_min": {"type": "int"},
    "gpu_count_max": {"type": "int"},
    "gpu_ram_min": {"type": "float"},
    "ram_min": {"type": "float"},
    "max_price": {
        "type": "dict",
        "options": {
            "amount": {"type": "float", "required": True},
            "currency": {"type": "str", "default": USD},
            "type": {"type": "str", "choices": list(ORDER_TYPES), "default": ON_DEMAND},
            "per": {"type": "str", "choices": list(PRICE_UNITS), "default": "day"},
        },
    },
    "reliability_min": {"type": "float"},
    "countries": {"type": "list", "elements": "str"},
    "exclude_countries": {"type": "list", "elements": "str"},
    "cuda_min": {"type": "str"},
    "currency": {"type": "str"},
    "currencies": {"type": "list", "elements": "str"},
    "available_only": {"type": "bool", "default": True},
    "server_ids": {"type": "list", "elements": "int"},
}

# The order in which filters are tried; a server excluded by several is counted under the first.
FILTER_ORDER: tuple[str, ...] = (
    "server_ids",
    "available_only",
    "gpu",
    "gpu_count_min",
    "gpu_count_max",
    "gpu_ram_min",
    "ram_min",
    "cuda_min",
    "countries",
    "exclude_countries",
    "reliability_min",
    "currency",
    "currencies",
    "max_price",
)

# Filters that read only hardware specs (and the host's country), so they apply to an order's `specs` as well.
SPEC_FILTERS: frozenset[str] = frozenset(
    {"gpu", "gpu_count_min", "gpu_count_max", "gpu_ram_min", "ram_min", "cuda_min", "countries", "exclude_countries"}
)

_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")

Check = Callable[[dict], bool]


class MarketFilterError(CloreConfigError, ValueError):
    """A filter value that cannot be used; the message starts with the filter's name and states the rule.

    A CloreConfigError, so run_module turns it into a failure naming the option before any API call.
    """

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message, option or re.split(r"[\s.:(]", message, maxsplit=1)[0])


def parse_version(value: Any) -> tuple[int, ...] | None:
    """"12.4" -> (12, 4), so that 12.10 > 12.4; None when the text does not start with a version."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    match = _VERSION.match(value)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _is_active(filters: dict, name: str) -> bool:
    value = filters.get(name)
    if name == "available_only":
        # Default on: a missing or null value means "only servers one can rent now".
        return value is None or bool(value)
    return value is not None and value != []


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MarketFilterError(f"{name}: {value!r} is not a number")
    if not math.isfinite(value):
        # NaN passes every comparison and infinity means nothing as a limit: both would pass silently.
        raise MarketFilterError(f"{name}: {value!r} is not a finite number")
    if value < 0:
        raise MarketFilterError(f"{name}: {value} must not be negative")
    return float(value)


def _text_list(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise MarketFilterError(f"{name}: expected a list of strings, got {type(value).__name__}")
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise MarketFilterError(f"{name}: {item!r} is not a non-empty string")
        items.append(item.strip())
    return items


def _gpu_check(patterns: Any) -> Check:
    compiled = []
    for pattern in _text_list("gpu", patterns):
        try:
            compiled.append((pattern.lower(), re.compile(pattern, re.IGNORECASE)))
        except re.error as err:
            raise MarketFilterError(
                f"gpu: {pattern!r} is not a valid regular expression ({err}); escape special characters to match "
                "them literally"
            ) from None

    def check(server: dict) -> bool:
        model = server.get("gpu_model")
        if not model:
            return False
        lowered = model.lower()
        return any(text in lowered or regex.search(model) for text, regex in compiled)

    return check


def _minimum_check(name: str, field: str, value: Any) -> Check:
    minimum = _non_negative(name, value)

    def check(server: dict) -> bool:
        actual = server.get(field)
        return actual is not None and actual >= minimum

    return check


def _count_checks(filters: dict) -> dict[str, Check]:
    checks: dict[str, Check] = {}
    low, high = filters.get("gpu_count_min"), filters.get("gpu_count_max")
    if low is not None:
        low = _non_negative("gpu_count_min", low)
        checks["gpu_count_min"] = lambda s: s.get("gpu_count") is not None and s["gpu_count"] >= low
    if high is not None:
        high = _non_negative("gpu_count_max", high)
        checks["gpu_count_max"] = lambda s: s.get("gpu_count") is not None and s["gpu_count"] <= high
    if low is not None and high is not None and low > high:
        raise MarketFilterError(f"gpu_count_min ({low:g}) is greater than gpu_count_max ({high:g})")
    return checks


def _reliability_check(value: Any) -> Check:
    minimum = _non_negative("reliability_min", value)
    if minimum > 1:
        raise MarketFilterError(f"reliability_min: {value} is outside 0..1")
    return lambda s: s.get("reliability") is not None and s["reliability"] >= minimum


def _cuda_check(value: Any) -> Check:
    minimum = parse_version(value)
    if minimum is None:
        raise MarketFilterError(f"cuda_min: {value!r} is not a version such as '12.4'")

    def check(server: dict) -> bool:
        version = parse_version(server.get("cuda_version"))
        return version is not None and version >= minimum

    return check


def _country_checks(filters: dict) -> dict[str, Check]:
    checks: dict[str, Check] = {}
    if _is_active(filters, "countries"):
        wanted = {c.upper() for c in _text_list("countries", filters["countries"])}
        checks["countries"] = lambda s: s.get("country") in wanted
    if _is_active(filters, "exclude_countries"):
        unwanted = {c.upper() for c in _text_list("exclude_countries", filters["exclude_countries"])}
        checks["exclude_countries"] = lambda s: s.get("country") not in unwanted
    return checks


def accepted_currency(value: Any, name: str = "currency") -> str:
    """The API's spelling of a coin a user named ("USD" meaning USD-Blockchain here), or MarketFilterError."""
    coin = canonical_currency(value, allow_usd=True)
    if coin == USD:
        return USD_COIN
    if coin is None:
        raise MarketFilterError(f"{name}: {value!r} is not a currency; use one of {', '.join(KNOWN_CURRENCIES)}")
    return coin


def wanted_currencies(filters: dict | None) -> list[str] | None:
    """The currencies an order may pay in, in the API's spelling: `currencies`, or `currency` as a list of one;
    None when neither is given (every currency a server accepts). MarketFilterError for an unknown coin, an empty
    list, or a `currency` outside `currencies`."""
    filters = filters or {}
    single, several = filters.get("currency"), filters.get("currencies")
    if several is not None and several != []:
        if isinstance(several, str):
            several = [several]
        if not isinstance(several, (list, tuple)) or not several:
            raise MarketFilterError(f"currencies: expected a non-empty list of coins ({', '.join(KNOWN_CURRENCIES)}), "
                                    f"got {several!r}")
        coins = list(dict.fromkeys(accepted_currency(coin, "currencies") for coin in several))
        if single:
            coin = accepted_currency(single)
            if coin not in coins:
                raise MarketFilterError(f"currency: {coin} is not one of currencies ({', '.join(coins)}); give one "
                                        "of the two, or a currency in the list")
            return [coin]
        return coins
    return [accepted_currency(single)] if single else None


def _currencies_check(filters: dict) -> Check:
    coins = set(wanted_currencies(filters) or ())
    return lambda s: bool(coins.intersection(s.get("allowed_currencies") or ()))


def _currency_check(value: Any) -> Check:
    coin = accepted_currency(value)
    return lambda s: coin in (s.get("allowed_currencies") or ())


def _max_price_check(value: Any) -> Check:
    if not isinstance(value, dict):
        raise MarketFilterError(f"max_price: expected a dict with amount, currency, type and per, got {value!r}")
    unknown = set(value) - {"amount", "currency", "type", "per"}
    if unknown:
        raise MarketFilterError(f"max_price: unknown keys {', '.join(sorted(unknown))}")
    amount = _non_negative("max_price.amount", value.get("amount"))
    currency_name = value.get("currency") or USD
    currency = canonical_currency(currency_name, allow_usd=True)
    if currency is None:
        raise MarketFilterError(
            f"max_price.currency: {currency_name!r} is not USD or a coin ({', '.join(KNOWN_CURRENCIES)})"
        )
    order_type = value.get("type") or ON_DEMAND
    if order_type not in ORDER_TYPES:
        raise MarketFilterError(f"max_price.type: {order_type!r} is not one of {', '.join(ORDER_TYPES)}")
    per = value.get("per") or "day"
    if per not in PRICE_UNITS:
        raise MarketFilterError(f"max_price.per: {per!r} is not one of {', '.join(PRICE_UNITS)}")
    # Per-day limit, with a hair of slack so that 0.1-style float arithmetic never excludes an exact match.
    slack = 1e-9 * max(1.0, amount)

    def check(server: dict) -> bool:
        price = price_per_day(server, order_type, currency)
        if price is None:
            return False
        if per == "hour":
            price /= 24
        elif per == "gpu_hour":
            count = server.get("gpu_count")
            if not count:
                return False
            price = price / 24 / count
        return price <= amount + slack

    return check


def _available(server: dict) -> bool:
    # Unknown (None) is not held against a server: only a known rented or offline state excludes it.
    return server.get("rented") is not True and server.get("online") is not False


def _server_ids_check(value: Any) -> Check:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise MarketFilterError(f"server_ids: expected a list of integers, got {value!r}")
    wanted = set(value)
    return lambda s: s.get("id") in wanted


def prepare_filters(filters: dict | None, only: Iterable[str] | None = None) -> list[tuple[str, Check]]:
    """Validate filters and return the active ones as (name, check) in FILTER_ORDER; MarketFilterError if invalid.

    `only` restricts to those filter names (e.g. SPEC_FILTERS); validation covers only those, too.
    """
    filters = filters or {}
    allowed = None if only is None else set(only)
    names = [n for n in FILTER_ORDER if allowed is None or n in allowed]
    active = [n for n in names if _is_active(filters, n)]
    checks: dict[str, Check] = {}
    for name in active:
        value = filters.get(name)
        if name == "server_ids":
            checks[name] = _server_ids_check(value)
        elif name == "available_only":
            checks[name] = _available
        elif name == "gpu":
            checks[name] = _gpu_check(value)
        elif name == "gpu_ram_min":
            checks[name] = _minimum_check(name, "gpu_ram_gb", value)
        elif name == "ram_min":
            checks[name] = _minimum_check(name, "ram_gb", value)
        elif name == "cuda_min":
            checks[name] = _cuda_check(value)
        elif name == "reliability_min":
            checks[name] = _reliability_check(value)
        elif name == "currency":
            checks[name] = _currency_check(value)
        elif name == "currencies":
            checks[name] = _currencies_check(filters)
        elif name == "max_price":
            checks[name] = _max_price_check(value)
    if {"gpu_count_min", "gpu_count_max"} & set(active):
        checks.update({k: v for k, v in _count_checks(filters).items() if k in active})
    checks.update({k: v for k, v in _country_checks(filters).items() if k in active})
    return [(name, checks[name]) for name in active]


def validate_filters(filters: dict | None, only: Iterable[str] | None = None) -> None:
    """Raise MarketFilterError naming the first unusable filter; call before any API request."""
    prepare_filters(filters, only)


def failing_check(server: dict, prepared: list[tuple[str, Check]]) -> str | None:
    """The name of the first prepared filter the server fails, or None if it passes them all."""
    for name, check in prepared:
        if not check(server):
            return name
    return None


def first_failing_filter(server: dict, filters: dict, only: Iterable[str] | None = None) -> str | None:
    """The first filter (in FILTER_ORDER) a normalised server fails, or None; `only` limits the filters tried."""
    return failing_check(server, prepare_filters(filters, only))
