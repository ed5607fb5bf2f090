"""Per-key rate limits: a minimum interval between any two accepted requests, and between two creates."""
from __future__ import annotations

import math
import threading


class RateLimiter:
    """Measures each request at its arrival. A refused request (429) does not move the window: only accepted
    requests count, so a client that waits `Retry-After` and comes back is served."""

    def __init__(self, request_interval: float, create_interval: float, tolerance: float) -> None:
        self.request_interval = request_interval
        self.create_interval = create_interval
        self.tolerance = tolerance
        self._lock = threading.Lock()
        self._last_request: dict[str, float] = {}
        self._last_create: dict[str, float] = {}

    def admit(self, key: str, arrival: float, is_create: bool) -> float | None:
        """None when the request may proceed (and is recorded), else the seconds to wait."""
        with self._lock:
            wait = self._wait(self._last_request, key, arrival, self.request_interval)
            if is_create:
                wait = max(wait, self._wait(self._last_create, key, arrival, self.create_interval))
            if wait > 0:
                return wait
            self._last_request[key] = arrival
            if is_create:
                self._last_create[key] = arrival
            return None

    def _wait(self, table: dict[str, float], key: str, arrival: float, interval: float) -> float:
        last = table.get(key)
        if last is None or interval <= 0:
            return 0.0
        remaining = last + interval - arrival
        return remaining if remaining > self.tolerance else 0.0

    def reset(self) -> None:
        with self._lock:
            self._last_request.clear()
            self._last_create.clear()


def retry_after_header(wait: float) -> str:
    """Whole seconds, as HTTP wants them, never 0."""
    return str(max(1, math.ceil(wait)))
