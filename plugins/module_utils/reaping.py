"""What the reaper needs to find orders nobody uses: durations, money filters, fleet lifetimes and GPU activity.

Times are the service's clock: the HTTP Date header of the my_orders answer (client.server_time), against which the
orders' creation times (`ct`) are given; the controller's own clock only when the service sent no date. Both records
below are kept per account digest in the state directory (records.py), so that a reaper started from cron or an AWX
schedule finds what earlier runs saw.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD, USD_COIN
from ansible_collections.clore.ai.plugins.module_utils.pricing import order_usd
from ansible_collections.clore.ai.plugins.module_utils.records import locked_record

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(value, option: str) -> float:
    """Seconds of a duration such as 36h, 90m, 2d, 3600s; a bare number is hours. ValueError naming `option`."""
    match = _DURATION.match(str(value)) if value is not None else None
    if match is None:
        raise ValueError(f"{option}: {value!r} is not a duration; use a number with s, m, h, d or w (36h, 90m, 2d); "
                         "a bare number is hours")
    return float(match.group(1)) * _UNITS[(match.group(2) or "h").lower()]


def service_now(client) -> float:
    """The service's clock at its last answer, else the controller's."""
    return client.server_time if client.server_time is not None else time.time()


def needs_rates(orders: list[dict], spend_currency: str | None = None) -> bool:
    """Whether a marketplace read is needed to price these orders in USD (an order in a coin that neither
    USD-Blockchain nor its own original_price_usd prices)."""
    if spend_currency is not None and spend_currency != USD:
        return False
    return any(o.get("currency") not in (None, USD_COIN) and o.get("usd_source") is None for o in orders)


def add_money_and_age(order: dict, rates: dict[str, float], now: float, due: float | None) -> dict:
    """The order with its age in hours, its spend and per-day price in USD by the price model (with usd_source),
    and its lifetime (when recorded)."""
    money = order_usd(order.get("currency"), order.get("price_per_day"), order.get("spend"),
                      order.get("original_price_usd"), rates)
    created = order.get("created_at")
    age = max(0.0, now - created) if created is not None else None
    return order | {
        "age_seconds": int(age) if age is not None else order.get("age_seconds"),
        "age_hours": round(age / 3600, 4) if age is not None else None,
        **money,
        "lifetime_due_at": due,
        "lifetime_expired": due is not None and now >= due,
    }


def spend_above(order: dict, spend_over: dict, rates: dict[str, float]) -> bool:
    """Whether the order spent more than spend_over ({amount, currency}: a coin, or USD for every coin)."""
    currency = spend_over.get("currency") or USD
    if currency == USD:
        spent = order.get("spend_usd")
    elif order.get("currency") == currency:
        spent = order.get("spend")
    else:
        return False  # spend in another coin is not compared with this amount
    return spent is not None and spent > float(spend_over["amount"])


def gpu_matches(order: dict, models: list[str]) -> bool:
    """Whether the order's GPU model contains one of `models` (case, spaces and vendor words ignored)."""
    have = _model_key(order.get("gpu_model") or "")
    return any(_model_key(m) and _model_key(m) in have for m in models)


def _model_key(name: str) -> str:
    return re.sub(r"nvidia|geforce|[^a-z0-9]", "", name.lower())


class Lifetimes:
    """{order id: {due, label}}: when a fleet's orders are due to be cancelled, set when they were rented."""

    def __init__(self, directory: Path, account: str):
        self.path = Path(directory) / f"lifetimes-{account}.json"

    def set(self, orders: list[dict], hours: float, label: str | None, now: float) -> list[int]:
        """Give each order without a lifetime one of `hours` from its creation; the ids given one."""
        given = []
        with locked_record(self.path) as record:
            for order in orders:
                key = str(order["id"])
                if key in record:
                    continue
                start = order.get("created_at") or now
                record[key] = {"due": float(start) + hours * 3600, "label": label}
                given.append(order["id"])
        return given

    def due_times(self) -> dict[int, float]:
        with locked_record(self.path) as record:
            return {int(k): float(v["due"]) for k, v in record.items() if isinstance(v, dict) and "due" in v}

    def forget_except(self, active_ids: set[int]) -> None:
        """Drop the lifetimes of orders that no longer exist."""
        with locked_record(self.path) as record:
            for key in [k for k in record if not k.isdigit() or int(k) not in active_ids]:
                del record[key]


class GpuActivity:
    """{order id: {first_seen, last_busy, last_util}}: when each order's GPUs were last seen busy.

    An order is idle when every look since `idle_seconds` ago found every GPU below the threshold: measured from its
    last busy look, or from the first look when it was never seen busy (so that a fresh order is not idle at once).
    """

    def __init__(self, directory: Path, account: str):
        self.path = Path(directory) / f"gpu-activity-{account}.json"

    def observe(self, samples: dict[int, list[float]], threshold: float, now: float, write: bool = True) -> dict:
        """Record this look at each order's GPUs; {order id: {idle_since, busy, max_util}}."""
        seen = {}
        with locked_record(self.path) as record:
            for order_id, utils in samples.items():
                entry = dict(record.get(str(order_id)) or {"first_seen": now, "last_busy": None})
                busy = any(u >= threshold for u in utils)
                if busy:
                    entry["last_busy"] = now
                entry["last_util"] = max(utils)
                seen[order_id] = {"idle_since": None if busy else entry["last_busy"] or entry["first_seen"],
                                  "busy": busy, "max_util": max(utils)}
                if write:
                    record[str(order_id)] = entry
        return seen

    def forget_except(self, active_ids: set[int]) -> None:
        with locked_record(self.path) as record:
            for key in [k for k in record if not k.isdigit() or int(k) not in active_ids]:
                del record[key]
