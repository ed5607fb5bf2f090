"""Per-key rate limits: a minimum interval between any two accepted requests, and before a create.

A create's interval counts, with create_spacing "any", from any accepted request of the key (a real client's log shows
creates refused about 1 s after another request and 19 s after the previous create), with "create" from the key's
previous create only."""
from __future__ import annotations

import bisect
import math
import threading

# Served arrival times kept per key and kind: enough to judge a request whose handler ran late, behind later ones.
_KEPT = 64


class RateLimiter:
    """Measures each request at its arrival. A refused request (429) does not move the window: only accepted
    requests count, so a client that waits `Retry-After` and comes back is served.

    Requests are judged in the order they arrived, not the order their handler threads got here: arrival is the
    kernel's receive time (arrival.py), and a handler that a busy machine runs late must not find its request "too
    early" behind a request that came after it. So a request is checked against the served request just before it
    and the one just after it (if a later one was already served)."""

    def __init__(self, request_interval: float, create_interval: float, tolerance: float,
                 create_spacing: str = "any") -> None:
        self.request_interval = request_interval
        self.create_interval = create_interval
        self.tolerance = tolerance
        self.create_spacing = create_spacing
        self._lock = threading.Lock()
        self._served: dict[str, list[float]] = {}
        self._created: dict[str, list[float]] = {}

    def admit(self, key: str, arrival: float, is_create: bool) -> float | None:
        """None when the request may proceed (and is recorded), else the seconds to wait."""
        with self._lock:
            served = self._served.setdefault(key, [])
            created = self._created.setdefault(key, [])
            wait = self._wait(served, arrival, self.request_interval)
            if is_create:
                spaced_from = served if self.create_spacing == "any" else created
                wait = max(wait, self._wait(spaced_from, arrival, self.create_interval))
            elif self.create_spacing == "any":
                # A create already served that arrived after this request, closer than its interval: this request
                # would have made it too early (its handler simply ran first).
                later = [t for t in created if arrival < t < arrival + self.create_interval - self.tolerance]
                if later:
                    wait = max(wait, max(later) + self.request_interval - arrival)
            if wait > 0:
                return wait
            _record(served, arrival)
            if is_create:
                _record(created, arrival)
            return None

    def _wait(self, times: list[float], arrival: float, interval: float) -> float:
        """0 when `arrival` keeps `interval` (less the tolerance) from its served neighbours, else how long until
        a request would: after the later of the two it is too close to."""
        if not times or interval <= 0:
            return 0.0
        index = bisect.bisect_left(times, arrival)
        blocking = [t for t in times[max(0, index - 1):index + 1] if abs(arrival - t) < interval - self.tolerance]
        return max(t + interval - arrival for t in blocking) if blocking else 0.0

    def nearest(self, key: str, arrival: float) -> float | None:
        """The signed gap from the nearest accepted request of `key` to `arrival` (negative: that request came
        later), for the log line of a 429; None before any."""
        with self._lock:
            times = self._served.get(key) or []
            return min((arrival - t for t in times), key=abs, default=None)

    def reset(self) -> None:
        with self._lock:
            self._served.clear()
            self._created.clear()


def _record(times: list[float], arrival: float) -> None:
    bisect.insort(times, arrival)
    del times[:-_KEPT]


def retry_after_header(wait: float) -> str:
    """Whole seconds, as HTTP wants them, never 0."""
    return str(max(1, math.ceil(wait)))
