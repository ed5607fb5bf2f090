"""Small JSON records the controller keeps in its state directory, one file per account, under an fcntl lock.

The bad-server memory, the lifetimes of rented fleets, the GPU activity the reaper reads, the server claims, the
shared my_orders reads and the creates in flight all live in such files: every process of the controller reads and
changes them under the lock, and a torn or foreign file is forgotten rather than allowed to block renting or reaping.
The directory is made 0700 and the files 0600: they name orders and servers of the account.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked_record(path: Path, *, durable: bool = False) -> Iterator[dict]:
    """The record at `path` as a dict, held under an exclusive lock; written back if the block changed it.

    A file that is not JSON reads as {} and is rewritten; one whose JSON is not an object reads as {} too. Nothing is
    written when the block raises.

    durable: the record must survive a crash of the process writing it (the creates in flight). The file is then
    replaced whole by a synced temporary file, never truncated in place, and the lock is held on a separate file,
    `path` with the suffix `.lock`, since a replaced file's lock would no longer guard the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = path.with_suffix(".lock") if durable else path
    if lock == path and durable:
        raise ValueError(f"a durable record needs a lock file of its own: {path}")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = _read_file(path) if durable else _read_fd(fd)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = None
        record = loaded if isinstance(loaded, dict) else {}
        before = json.dumps(record, sort_keys=True)
        yield record
        after = json.dumps(record, sort_keys=True)
        if after != before or loaded is None:
            if durable:
                _replace(path, after.encode())
            else:
                overwrite(fd, after.encode())
    finally:
        os.close(fd)


def overwrite(fd: int, data: bytes) -> None:
    """Replace a locked file's content in place, then cut what is left of a longer old content.

    Never truncated to empty first: ext4 (auto_da_alloc) flushes a file rewritten that way when it is closed, and on a
    machine busy writing to disk that close blocked for up to about a second. The rate limiter's file is closed
    between recording a call's departure and sending it, so such a stall let two calls reach the service closer than
    its interval. Readers hold the lock, so nobody sees the file half written.
    """
    view = memoryview(data)
    written = 0
    while written < len(data):
        written += os.pwrite(fd, view[written:], written)
    os.ftruncate(fd, len(data))


def _read_fd(fd: int) -> bytes:
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    return raw


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
