"""Coordination of clore_order processes on one controller: a lock per key and image, one per key, claims on servers.

One clore_order at a time per API key and image, so that forks cannot rent the same fleet twice. With
account_budget, also one at a time per key from the cap's check to the creates found, so that two fleets of other
images cannot both pass the cap on the same reading; that lock is always taken inside the image's, never around it.

Two processes that read my_orders at once would each see the fleet short and each rent the missing orders. A lock file
(fcntl, next to the rate limiter's state file) serialises the read-decide-create part of tasks that touch the
same image with the same key; waiting for readiness happens after the lock is released.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.images import image_reference
from ansible_collections.clore.ai.plugins.module_utils.flat_order import strip_order
from ansible_collections.clore.ai.plugins.module_utils.records import locked_record


def lock_path(directory: Path, account: str, image: str | None) -> Path:
    """The lock file for (account digest, image) in `directory`."""
    # One lock per image, however it is spelt (ubuntu, docker.io/library/ubuntu:latest).
    image_digest = hashlib.sha256((image_reference(image) or "").encode()).hexdigest()[:16]
    return directory / f"order-{account}-{image_digest}.lock"


def account_lock_path(directory: Path, account: str) -> Path:
    """The lock file for the whole account (account_budget) in `directory`."""
    return directory / f"order-{account}.lock"


def order_lock(directory: Path, account: str, image: str | None) -> contextlib.AbstractContextManager[None]:
    """Hold the lock for this account and image (blocking) while the block runs."""
    return _held(lock_path(directory, account, image))


def account_lock(directory: Path, account: str) -> contextlib.AbstractContextManager[None]:
    """Hold the account's lock (blocking) while the block runs; take it only while holding an image's lock."""
    return _held(account_lock_path(directory, account))


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


CLAIM_TTL = 300.0


class ServerClaims:
    """Servers a clore_order process on this controller is about to rent, shared by every process with the same key.

    Forks renting different fleets all want the cheapest servers; without claims they would spend the create
    limit (one per 5 s) colliding on the same server. A claim is {server id: (pid, time)} in a JSON file under an
    fcntl lock; it lapses after CLAIM_TTL seconds or when its process is gone.
    """

    def __init__(self, directory: Path, account: str, clock=time.time):
        self.path = directory / f"claims-{account}.json"
        self.clock = clock
        self.pid = os.getpid()

    def claim(self, server_id: int) -> bool:
        """Take server_id for this process; False when another live process holds it."""
        with self._locked() as claims:
            holder = claims.get(str(server_id))
            if holder and holder[0] != self.pid and self._live(holder):
                return False
            claims[str(server_id)] = [self.pid, self.clock()]
            return True

    def release(self, server_id: int) -> None:
        with self._locked() as claims:
            if claims.get(str(server_id), [None])[0] == self.pid:
                del claims[str(server_id)]

    def _live(self, holder: list) -> bool:
        pid, since = holder
        if self.clock() - since > CLAIM_TTL:
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        """The claims under the file's lock; lapsed or malformed ones are dropped when the block ends."""
        with locked_record(self.path) as claims:
            yield claims
            for key in [k for k, v in claims.items()
                        if not (isinstance(v, list) and len(v) == 2 and self._live(v))]:
                del claims[key]


class SharedOrderReads:
    """my_orders answers shared by the waiting clore_order processes of one key on this controller.

    Every waiting fork polling my_orders on its own would use up the request limit that other forks need for their
    creates. A read younger than `max_age` seconds, made by any of them, serves them all (a records.locked_record;
    the orders hold no secret). Only readiness polling uses it: exactly-once reconciliation always reads afresh.
    """

    def __init__(self, directory: Path, account: str, fetch, max_age: float, clock=time.time):
        self.path = directory / f"orders-{account}.json"
        self.fetch = fetch
        self.max_age = max_age
        self.clock = clock

    def __call__(self) -> list:
        with locked_record(self.path) as cached:
            if self._fresh(cached):
                return cached["orders"]
            # Only the fields an order is read by, as the inventory cache keeps them: no raw answer on disk.
            orders = [strip_order(order) for order in self.fetch()]
            cached.clear()
            cached.update(at=self.clock(), orders=orders)
            return orders

    def _fresh(self, cached: dict) -> bool:
        try:
            age = self.clock() - float(cached.get("at", 0))
        except (TypeError, ValueError):
            return False  # a foreign file: read afresh
        return isinstance(cached.get("orders"), list) and 0 <= age < self.max_age
