"""Injected faults: for the next N calls of an endpoint, or at a rate."""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass

KINDS = ("code1", "http500", "http502", "delay", "rate_limit", "drop_after_commit", "code1_after_commit",
         "cloudflare_1010")


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
