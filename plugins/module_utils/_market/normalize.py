"""Market normalisation: one raw `marketplace` server in, one flat dict for people, `when:` and `sort` out.

The API is read defensively: any field may be missing, null, a string where a number is expected, a number that is not
finite (1e999, "inf", an integer too large for a float) or nested where a flat list is expected. Such a field becomes
None (or an empty list / dict); only a row without a usable id is unusable (normalize_server returns None for it, and
the caller counts it). Nothing a row holds makes normalize_server raise.

Prices are per day, as the API gives them. US-dollar figures come from the price model (pricing.py): a row's own
dollar evidence is read here; price_server completes it with coin rates once the whole answer is read, and picks the
cheapest currency. Per-hour figures are per day / 24 and per-GPU-hour figures also / gpu_count.
"""
from __future__ import annotations

# Exact type checks (type(x) is int) on the hot path: they are faster, and they keep bool out of the numbers.
# pylint: disable=unidiomatic-typecheck

import math
import re
from typing import Any

from collections.abc import Iterable

from ansible_collections.clore.ai.plugins.module_utils.currencies import (
    KNOWN_CURRENCIES,
    USD,
    canonical_currency,
)
from ansible_collections.clore.ai.plugins.module_utils.gpu_specs import gpu_from_specs
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    ON_DEMAND,
    SPOT,
    RateBook,
    cheapest,
    native_prices,
    round_usd,
    row_usd,
    usd_by_currency,
)
from ansible_collections.clore.ai.plugins.module_utils.values import as_bool, as_server_id, as_text

ORDER_TYPES = (ON_DEMAND, SPOT)

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


# The normalised fields of each order type's dollar prices: (by currency, source by currency, cheapest currency,
# per day, per hour, per GPU-hour, usd_source).
_USD_FIELDS = {
    ON_DEMAND: ("usd_per_day_by_currency", "usd_source_by_currency", "cheapest_currency", "usd_per_day",
                "usd_per_hour", "usd_per_gpu_hour", "usd_source"),
    SPOT: ("spot_usd_per_day_by_currency", "spot_usd_source_by_currency", "spot_cheapest_currency",
           "spot_usd_per_day", "spot_usd_per_hour", "spot_usd_per_gpu_hour", "spot_usd_source"),
}


def _priced_fields(gpu_count: int | None, prices: dict[str, dict[str, float]], figures: dict[str, dict],
                   book: RateBook | None, considered: Iterable[str]) -> dict[str, Any]:
    """The dollar fields of a server (see _USD_FIELDS), from its row's figures and, with a book, coin rates; the
    cheapest is over the `considered` currencies (the ones it accepts, narrowed to the task's `currencies`)."""
    considered = list(considered)
    fields: dict[str, Any] = {}
    for order_type, names in _USD_FIELDS.items():
        priced = usd_by_currency(figures.get(order_type) or {}, prices.get(order_type) or {}, book)
        by_coin, sources, currency, per_day, per_hour, per_gpu_hour, source = names
        fields[by_coin] = {coin: round_usd(value) for coin, (value, _s) in priced.items()}
        fields[sources] = {coin: origin for coin, (_v, origin) in priced.items()}
        best = cheapest(priced, [c for c in considered if c in (prices.get(order_type) or {})])
        day = round_usd(best[1]) if best else None
        fields[currency] = best[0] if best else None
        fields[per_day] = day
        fields[per_hour], fields[per_gpu_hour] = _hourly(day, gpu_count)
        fields[source] = best[2] if best else None
    if fields["usd_per_day"] is not None:
        fields["cheapest_usd_per_day"] = fields["usd_per_day"]
        fields["cheapest_usd_per_hour"] = fields["usd_per_hour"]
        fields["cheapest_usd_per_gpu_hour"] = fields["usd_per_gpu_hour"]
    else:
        fields["cheapest_usd_per_day"] = fields["cheapest_usd_per_hour"] = fields["cheapest_usd_per_gpu_hour"] = None
    return fields


def considered_currencies(server: dict, currencies: Iterable[str] | None) -> list[str]:
    """The currencies an order on `server` may pay in: those it accepts, narrowed to `currencies` when given."""
    allowed = server.get("allowed_currencies") or [c for c in KNOWN_CURRENCIES
                                                   if c in (server.get("prices") or {}).get(ON_DEMAND, {})]
    if currencies is None:
        return list(allowed)
    wanted = set(currencies)
    return [coin for coin in allowed if coin in wanted]


def _row_figures(server: dict) -> dict[str, dict[str, tuple[float, str]]]:
    """The dollar figures already on a normalised server, as usd_by_currency takes them."""
    figures = {}
    for order_type, (by_coin, sources, *_rest) in _USD_FIELDS.items():
        values, origins = server.get(by_coin) or {}, server.get(sources) or {}
        figures[order_type] = {coin: (values[coin], origins[coin]) for coin in values if coin in origins}
    return figures


def price_server(server: dict, book: RateBook | None, currencies: Iterable[str] | None = None) -> dict:
    """Complete a normalised server's dollar prices with the book's rates and pick the cheapest of the currencies
    an order may pay in (considered_currencies); in place, and returned."""
    server.update(_priced_fields(server.get("gpu_count"), server.get("prices") or {}, _row_figures(server), book,
                                 considered_currencies(server, currencies)))
    return server


def unpriced_currencies(server: dict, currencies: Iterable[str] | None = None,
                        order_types: Iterable[str] = ORDER_TYPES) -> set[str]:
    """The currencies an order may pay in whose dollar price (for `order_types`) is not known yet."""
    missing = set()
    for order_type in order_types:
        by_coin = _USD_FIELDS[order_type][0]
        native = (server.get("prices") or {}).get(order_type) or {}
        known = server.get(by_coin) or {}
        missing.update(c for c in considered_currencies(server, currencies) if c in native and c not in known)
    return missing


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


def normalize_server(raw: dict, currencies: Iterable[str] | None = None) -> dict | None:
    """One marketplace server as a flat dict (see docs/market.md for every field); None for a row without an id.

    Its cheapest price is over `currencies` (None: every currency it accepts)."""
    summary = summary_fields(raw)
    return None if summary is None else complete_server(raw, summary, currencies)


def complete_server(raw: dict, summary: dict, currencies: Iterable[str] | None = None) -> dict:
    """The normalised server from a row and its summary_fields (so that a caller who filtered on those reads
    them once), priced from the row's own dollar figures over `currencies` (see price_server)."""
    gpu_count = summary["gpu_count"]
    specs = _as_dict(raw.get("specs"))
    net = _as_dict(specs.get("net"))
    price = _as_dict(raw.get("price"))
    on_demand = native_prices(price.get("on_demand"))
    spot = native_prices(price.get("spot"))
    allowed = _currencies(raw.get("allowed_coins")) or [coin for coin in on_demand if coin in KNOWN_CURRENCIES]
    cores, threads = _cpu_cores_threads(specs.get("cpus"))
    rating, rating_count = _rating(raw.get("rating"))
    country = as_text(net.get("cc")) or as_text(raw.get("country"))
    disk_model, disk_gb = disk_free(specs.get("disk"))

    figures = {order_type: row_usd(price, order_type, allowed or KNOWN_CURRENCIES) for order_type in ORDER_TYPES}
    considered = allowed if currencies is None else [coin for coin in allowed if coin in set(currencies)]
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
        **_priced_fields(gpu_count, {ON_DEMAND: on_demand, SPOT: spot}, figures, None, considered),
    }


def price_per_day(server: dict, order_type: str, currency: str) -> float | None:
    """A normalised server's price per day for order_type ('on-demand'|'spot') in currency ('USD' or a coin).

    "USD" is the US-dollar equivalent; a coin (aliases accepted) is the host's price in that coin.
    None when the server has no such price.
    """
    coin = canonical_currency(currency, allow_usd=True)
    if coin == USD:
        # The cheapest of the currencies the order may pay in: the price that will be paid.
        return server.get("usd_per_day") if order_type == ON_DEMAND else server.get("spot_usd_per_day")
    prices = (server.get("prices") or {}).get(order_type) or {}
    return prices.get(coin or currency)
