"""Injected faults: for the next N calls of an endpoint, or at a rate."""
from __future__ import annotations

import json
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("code1", "http500", "http502", "delay", "rate_limit", "drop_after_commit", "code1_after_commit",
         "cloudflare_1010", "deep_row", "deep_answer")
# deep_row: the answer's listing (orders, servers, wallets, offers) gets a first row nested this deep; deep_answer: the
# answer a member `deep` nested this deep. Written as text: json.dumps itself cannot go that deep.
DEEP_LEVELS = 5000
DEEP_ROW_ID = 987654321
_LISTINGS = ("orders", "servers", "wallets")
_MARKER = "__clore_sim_deep__"


@dataclass
class Fault:
    endpoint: str  # an endpoint name, or "*" for all
    kind: str
    remaining: int | None  # fires this many more times; None = no limit
    rate: float  # probability that one call is hit
    delay: float


class FaultBook:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def add(self, endpoint: str, kind: str, count: int | None, rate: float | None, delay: float | None) -> Fault:
        """count None: once without a rate, unlimited with one."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer or null")
        if rate is not None and not 0 < float(rate) <= 1:
            raise ValueError("rate must be in (0, 1]")
        if kind == "delay" and (delay is None or float(delay) < 0):
            raise ValueError("a delay fault needs delay >= 0 (seconds)")
        remaining = count if count is not None else (1 if rate is None else None)
        fault = Fault(endpoint, kind, remaining, 1.0 if rate is None else float(rate), float(delay or 0.0))
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The fault that hits this call, if any (consuming one of its shots)."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in (endpoint, "*"):
                    continue
                if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def deepened(body: dict[str, Any] | bytes, kind: str) -> bytes:
    """The JSON text of an answer (as built, or already encoded, as the marketplace is) with a deep_row or
    deep_answer fault applied (see DEEP_LEVELS)."""
    deep = "[" * DEEP_LEVELS + "]" * DEEP_LEVELS
    body = dict(json.loads(body) if isinstance(body, bytes) else body)
    if kind == "deep_row":
        key = next((name for name in _LISTINGS if isinstance(body.get(name), list)), None)
        if key is None and isinstance(body.get("market"), dict):  # spot_marketplace: its offers
            body["market"] = dict(body["market"], offers=[_MARKER, *(body["market"].get("offers") or [])])
        elif key is not None:
            body[key] = [_MARKER, *body[key]]
        row = json.dumps({"id": DEEP_ROW_ID, "nested": _MARKER})
        text = json.dumps(body).replace(f'"{_MARKER}"', row, 1)
    else:
        body["deep"] = _MARKER
        text = json.dumps(body)
    return text.replace(f'"{_MARKER}"', deep, 1).encode()
