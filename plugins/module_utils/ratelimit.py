"""A rate limiter shared by every process of the controller that uses one API key against one API URL.

Ansible runs modules in many processes at once (forks, loops, several ansible-playbook runs), and Clore.ai limits
each key (about 1 request per second, 1 create_order per 5 seconds). The limiter keeps, in one small JSON file per
(API URL, key hash), for each kind of call ("request", "create"):
  - `next`: the first free slot, which a process reserves under the lock and then sleeps towards (outside the lock);
  - `last`: when a call of that kind last actually left, checked again just before leaving, so that a process that
    woke late never makes the next one leave less than a full interval after it.
Times are `time.time()` everywhere in the file (shared between processes); a backward clock jump is detected from
`written` and the stored times are shifted by the jump. A corrupt or empty file counts as "no calls yet".
"""
from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.account import account_digest
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

REQUEST = "request"
CREATE = "create"
# Added to every interval: the service measures arrival times, and a process can be scheduled a little late between
# leaving the limiter and its request reaching the server.
SAFETY_MARGIN = 0.05
# A stored time further ahead than this many intervals cannot come from a queue of real processes: it is garbage.
_MAX_QUEUE_INTERVALS = 1_000


def default_state_dir() -> Path:
    """~/.cache/clore.ai (or $XDG_CACHE_HOME/clore.ai)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "clore.ai"


def fallback_state_dir() -> Path:
    """For homes that cannot be written (some execution environments): a per-user directory in the temp dir."""
    return Path(tempfile.gettempdir()) / f"clore.ai-{os.getuid()}"


def limiter_file_name(api_url: str, api_key: str) -> str:
    """One file per account (API URL and key); the key appears only inside the account digest."""
    return f"ratelimit-{account_digest(api_url, api_key)}.json"


class SharedRateLimiter:
    """Spaces calls of each kind by its interval, across every process using the same state file."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        intervals: dict[str, float],
        state_dir: str | os.PathLike | None = None,
        *,
        margin: float = SAFETY_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url
        self._file_name = limiter_file_name(api_url, api_key)
        self._intervals = {kind: float(value) for kind, value in intervals.items()}
        self._state_dir = Path(state_dir) if state_dir else None
        self._margin = margin
        self._clock = clock
        self._sleep = sleep
        self._path: Path | None = None

    @property
    def enabled(self) -> bool:
        return any(value > 0 for value in self._intervals.values())

    def spacing(self, kind: str) -> float:
        """The time between two calls of `kind`: its interval plus the safety margin (0 when the limit is off)."""
        interval = self._intervals.get(kind, 0.0)
        return interval + self._margin if interval > 0 else 0.0

    @property
    def path(self) -> Path:
        """The state file; the directory is created on first use."""
        if self._path is None:
            self._path = self._prepare_dir() / self._file_name
        return self._path

    def acquire(self, *kinds: str) -> float:
        """Wait until a call of every kind in `kinds` may leave now ("request" is always included); return the wait."""
        kinds = tuple(dict.fromkeys((REQUEST, *kinds)))
        if not any(self.spacing(kind) > 0 for kind in kinds):
            return 0.0
        started = self._clock()
        if not self._wait_for_slot(kinds):
            self._confirm_departure(kinds)
        return max(0.0, self._clock() - started)

    def penalize(self, seconds: float, kind: str = REQUEST) -> None:
        """Push the next free slot of `kind` at least `seconds` into the future for every process (after a 429)."""
        if seconds <= 0 or not self.enabled:
            return
        with self._state() as state:
            now = self._clock()
            entry = state.setdefault(kind, {})
            entry["next"] = max(_number(entry.get("next")), now + seconds)
            entry["last"] = max(_number(entry.get("last")), now + seconds - self.spacing(kind))

    def _wait_for_slot(self, kinds: tuple[str, ...]) -> bool:
        """Reserve the first slot free for all kinds and sleep towards it; True when the call has already left.

        "request" queues: each process reserves the next slot in turn. The other kinds (create) are gates: while one
        is closed we only wait for it, without reserving request slots that would hold everyone else back.
        When the slot is now and the last departures are far enough back, the departure is recorded at once
        (one lock instead of two on an idle limiter).
        """
        gates = [kind for kind in kinds if kind != REQUEST and self.spacing(kind) > 0]
        while True:
            with self._state() as state:
                now = self._clock()
                closed_until = max((_number(state.get(kind, {}).get("next")) for kind in gates), default=0.0)
                if closed_until > now:
                    wait = closed_until - now
                    reserved = False
                else:
                    slot = max([now] + [_number(state.get(kind, {}).get("next")) for kind in kinds])
                    ready_at = max(_number(state.get(kind, {}).get("last")) + self.spacing(kind) for kind in kinds)
                    if slot <= now and ready_at <= now:
                        for kind in kinds:
                            state[kind] = {"next": now + self.spacing(kind), "last": now}
                        return True
                    for kind in kinds:
                        state.setdefault(kind, {})["next"] = slot + self.spacing(kind)
                    wait = slot - now
                    reserved = True
            if wait > 0:
                self._sleep(wait)
            if reserved:
                return False

    def _confirm_departure(self, kinds: tuple[str, ...]) -> None:
        """Leave only a full spacing after the last call of each kind actually left; record this departure."""
        while True:
            with self._state() as state:
                now = self._clock()
                ready_at = max(_number(state.get(kind, {}).get("last")) + self.spacing(kind) for kind in kinds)
                if ready_at <= now:
                    for kind in kinds:
                        entry = state.setdefault(kind, {})
                        entry["last"] = now
                        entry["next"] = max(_number(entry.get("next")), now + self.spacing(kind))
                    return
                wait = ready_at - now
            self._sleep(wait)

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """The file's state under an exclusive lock, written back on exit."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            state = self._load(fd)
            yield state
            state["written"] = self._clock()
            data = json.dumps(state, separators=(",", ":")).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
        finally:
            os.close(fd)  # also releases the lock

    def _load(self, fd: int) -> dict[str, Any]:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        try:
            raw = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        now = self._clock()
        written = _number(raw.get("written"))
        # The wall clock went back since the last write: move every stored time back by the same amount.
        shift = written - now if written > now else 0.0
        state: dict[str, Any] = {}
        for kind in (REQUEST, CREATE, *self._intervals):
            entry = raw.get(kind)
            if not isinstance(entry, dict):
                continue
            horizon = now + max(self.spacing(kind), 1.0) * _MAX_QUEUE_INTERVALS
            clean = {}
            for field in ("next", "last"):
                value = _number(entry.get(field)) - shift
                clean[field] = value if value <= horizon else now
            state[kind] = clean
        return state

    def _prepare_dir(self) -> Path:
        if self._state_dir is not None:
            try:
                self._state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise CloreConfigError(
                    f"api_state_dir / CLORE_STATE_DIR {str(self._state_dir)!r} cannot be created: "
                    f"{exc.strerror or exc}. Choose a directory this user can write.",
                    option="api_state_dir",
                ) from None
            if not os.access(self._state_dir, os.W_OK | os.X_OK):
                raise CloreConfigError(
                    f"api_state_dir / CLORE_STATE_DIR {str(self._state_dir)!r} is not writable by this user.",
                    option="api_state_dir",
                )
            return self._state_dir
        for candidate in (default_state_dir(), fallback_state_dir()):
            try:
                candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM, errno.ENOENT, errno.ENOTDIR):
                    raise
                continue
            if os.access(candidate, os.W_OK | os.X_OK):
                return candidate
        raise CloreConfigError(
            "No writable directory for the rate limiter's state: set api_state_dir / CLORE_STATE_DIR.",
            option="api_state_dir",
        )


def _number(value: Any) -> float:
    """A finite float from the file, or 0.0 (no constraint) for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0
