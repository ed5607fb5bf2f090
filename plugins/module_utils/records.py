"""Small JSON records the controller keeps in its state directory, one file per account, under an fcntl lock.

The bad-server memory, the lifetimes of rented fleets and the GPU activity the reaper reads all live in such files:
every process of the controller reads and changes them under the lock, and a torn or foreign file is forgotten
rather than allowed to block renting or reaping.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked_record(path: Path) -> Iterator[dict]:
    """The record at `path` as a dict, held under an exclusive lock; written back if the block changed it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = None
        record = loaded if isinstance(loaded, dict) else {}
        before = json.dumps(record, sort_keys=True)
        yield record
        after = json.dumps(record, sort_keys=True)
        if after != before or loaded is None:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, after.encode())
    finally:
        os.close(fd)
