"""Request counters, so that tests can prove how many API calls a client made."""
from __future__ import annotations

import threading
from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.requests_by_key: Counter[str] = Counter()
            self.posts: Counter[str] = Counter()
            self.rate_limited = 0
            self.orders_created = 0
            self.orders_cancelled = 0
            self.orders_outbid = 0  # orders of a key ended by a higher bid or pre-empted by an on-demand order

    def request(self, endpoint: str, key: str, method: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            self.requests_by_key[key] += 1
            if method == "POST":
                self.posts[endpoint] += 1

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requests_by_key": dict(self.requests_by_key),
                "posts": dict(self.posts),
                "rate_limited": self.rate_limited,
                "orders_created": self.orders_created,
                "orders_cancelled": self.orders_cancelled,
                "orders_outbid": self.orders_outbid,
            }
