"""Small JSON records the controller keeps in its state directory, one file per account, under an fcntl lock.

The bad-server memory, the lifetimes of rented fleets, the GPU activity the reaper reads, the server claims, the
shared my_orders reads and the creates in flight all live in such files: every process of the controller reads and
changes them under the lock, and a torn or foreign file is set aside rather than allowed to block renting or reaping:
it is moved to `<name>.corrupt-<time>` and a warning names both files. The directories are made 0700 and the files
0600 (an older file with wider permissions is narrowed when opened): they name orders and servers of the account.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.json_stream import TooDeep, loads

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# Who hears about a state file set aside (the module's or the inventory's warnings, see report_to); stderr until then.
_report: Callable[[str], None] | None = None


def report_to(warn: Callable[[str], None] | None) -> None:
    """Send the warnings about corrupt state files to `warn` (the client registers its own on first use)."""
    global _report  # pylint: disable=global-statement
    _report = warn


def private_dir(path: Path) -> None:
    """Make the directory `path` and every missing parent private to the user (0700), not only the last one as
    Path.mkdir(parents=True) would; directories that exist already are left as they are."""
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # made meanwhile by another process
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))


def private_fd(fd: int) -> None:
    """Narrow an open file to 0600 when it was made with wider permissions (by an older version, or by hand)."""
    info = os.fstat(fd)
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():  # another user's file is theirs to set
        os.fchmod(fd, PRIVATE_FILE)


@contextlib.contextmanager
def locked_record(path: Path, *, durable: bool = False) -> Iterator[dict]:
    """The record at `path` as a dict, held under an exclusive lock; written back if the block changed it.

    A file that is not JSON, or whose JSON is not an object or nests too deep, is moved aside (set_aside) and reads
    as {}. Nothing is written when the block raises.

    durable: the record must survive a crash of the process writing it (the creates in flight). The file is then
    replaced whole by a synced temporary file, never truncated in place, and the lock is held on a separate file,
    `path` with the suffix `.lock`, since a replaced file's lock would no longer guard the new one.
    """
    private_dir(path.parent)
    lock = path.with_suffix(".lock") if durable else path
    if lock == path and durable:
        raise ValueError(f"a durable record needs a lock file of its own: {path}")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        private_fd(fd)
        raw = _read_file(path) if durable else _read_fd(fd)
        why = "is not a JSON object"
        try:
            loaded = loads(raw) if raw else {}
        except TooDeep as err:
            loaded, why = None, f"is {err}"
        except ValueError:
            loaded, why = None, "is not JSON"
        if not isinstance(loaded, dict):
            set_aside(path, raw, why)
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


def set_aside(path: Path, raw: bytes, why: str) -> Path | None:
    """Keep a corrupt state file's content as `<name>.corrupt-<UTC time>` (0600) and say so; the record then starts
    empty. Called under the record's lock, so the content is the one that was read."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}")
    try:
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        try:
            os.write(fd, raw)
        finally:
            os.close(fd)
    except OSError as err:
        _tell(f"clore.ai state file {path} {why} ({len(raw)} bytes) and could not be kept aside ({err.strerror}): "
              "it is started afresh")
        return None
    _tell(f"clore.ai state file {path} {why} ({len(raw)} bytes): it was moved aside to {aside.name} and is "
          "started afresh")
    return aside


def _tell(message: str) -> None:
    if _report is not None:
        _report(message)
    else:
        sys.stderr.write(f"[WARNING]: {message}\n")


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
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
