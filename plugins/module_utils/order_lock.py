"""One clore_order at a time per API key and image on a controller, so that forks cannot rent the same fleet twice.

Two processes that read my_orders at once would each see the fleet short and each rent the missing orders. A lock file
(fcntl, next to the rate limiter's state file) serialises the read-decide-create part of tasks that touch the
same image with the same key; waiting for readiness happens after the lock is released.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

def lock_path(directory: Path, api_url: str, api_key: str, image: str | None) -> Path:
    """The lock file for (API URL, key, image) in `directory`; the key only as a hash."""
    digest = hashlib.sha256(f"{api_url}\0{api_key}\0{image or ''}".encode()).hexdigest()[:32]
    return directory / f"order-{digest}.lock"


@contextlib.contextmanager
def order_lock(directory: Path, api_url: str, api_key: str, image: str | None) -> Iterator[None]:
    """Hold the lock for this key and image (blocking) while the block runs."""
    path = lock_path(directory, api_url, api_key, image)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
