"""A rate limiter shared by every process of the controller that uses one API key against one API URL.

Ansible runs modules in many processes at once (forks, loops, several ansible-playbook runs), and Clore.ai limits
each key (about 1 request per second, 1 create_order per 5 seconds). The limiter keeps, in one small JSON file per
(API URL, key hash), for each kind of call ("request", "create"):
  - `next`: the first free slot, which a process reserves under the lock and then sleeps towards (outside the lock);
  - `waiters`: who reserved a slot and has not left yet ("<pid>-<random>": slot);
  - `last`: when a call of that kind last actually left, checked again just before leaving, so that a process that
    woke late never makes the next one leave less than a full interval after it;
  - `hold`: until when the service asked every process to wait (after a 429).
A create leaves a full create interval after the last call of any kind, not only after the last create: the service
may count it either way (docs/connection.md).
`next` is believed only as far ahead as `last`, `hold` and the live waiters justify: a slot reserved by a process
that died, or written by anything else, holds nobody back. Every wait is bounded by the caller's `max_wait` (the
client's retry deadline); a wait beyond it is refused at once, and a long one is announced through `warn`, both
naming the state file.
A caller that may wait (an event source's poll) asks `others_busy` first: whether another process of the key has a
call queued or has just sent one, so that it does not slip between a playbook's reads and its create.
Times are `time.time()` everywhere in the file (shared between processes); a backward clock jump is detected from
`written` and the stored times are shifted by the jump. A corrupt or empty file counts as "no calls yet".
"""
from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.account import account_digest
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.json_stream import loads
from ansible_collections.clore.ai.plugins.module_utils.records import overwrite, private_dir, private_fd

REQUEST = "request"
CREATE = "create"
# Added to every interval: the service measures arrival times, and a process can be scheduled a little late between
# leaving the limiter and its request reaching the server. `make bench` (bench_rate_margin) against clore-sim's 20 ms
# tolerance: 10 processes x 3 calls drew no 429 at 0, 20 or 50 ms, quiet or beside two busy processes, nor did
# ansible-playbook with forks=10 at 20 ms. 20 ms keeps room for jitter on the way to the real service; the margin
# costs 2 % of a 1 request/s flow (50 ms cost 5 %); a 429 that gets through anyway is waited out and retried.
SAFETY_MARGIN = 0.02
# A waiter's slot further ahead than this many intervals cannot come from a queue of real processes: it is garbage.
_MAX_QUEUE_INTERVALS = 1_000
# The longest hold believed from the file (a Retry-After is bounded by the waiting client's own deadline anyway).
_MAX_HOLD = 3_600.0
# A departure found this late (or half the margin, if more) is recorded again before the call is sent; after this many
# rounds (each a lock and a write, normally well under a millisecond) the call goes anyway.
_MIN_LATE = 0.002
_MAX_LATE_ROUNDS = 5
# A waiter whose slot passed this long ago has left or died without saying so.
_WAITER_GRACE = 300.0
# How often a call queued behind a create that has not left yet looks again.
_GATE_POLL = 0.01
# The last departure this process recorded, per state file: its own calls, told apart from the other processes'.
_OWN_DEPARTURES: dict[str, float] = {}
# A wait at least this long (or a quarter of what the caller allows, if less) is announced through `warn`.
LONG_WAIT = 30.0


def default_state_dir() -> Path:
    """~/.cache/clore.ai (or $XDG_CACHE_HOME/clore.ai)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "clore.ai"


def fallback_state_dir() -> Path:
    """For homes that cannot be written (some execution environments): a per-user directory in the temp dir."""
    return Path(tempfile.gettempdir()) / f"clore.ai-{os.getuid()}"


def _narrow(directory: Path) -> None:
    """The collection's own state directory, made wider by an older version (its inventory made it 0755): 0700
    again. A directory the user configured (api_state_dir) is left as the user made it."""
    info = directory.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        directory.chmod(0o700)


def limiter_file_name(api_url: str, api_key: str) -> str:
    """One file per account (API URL and key); the key appears only inside the account digest."""
    return f"ratelimit-{account_digest(api_url, api_key)}.json"


class LimiterWaitTooLong(CloreError):
    """The next free slot lies beyond what the caller may wait; nothing was sent."""


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
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.api_url = api_url
        self._file_name = limiter_file_name(api_url, api_key)
        self._intervals = {kind: float(value) for kind, value in intervals.items()}
        self._state_dir = Path(state_dir) if state_dir else None
        self._margin = margin
        self._clock = clock
        self._sleep = sleep
        self._warn = warn
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

    def acquire(self, *kinds: str, max_wait: float | None = None) -> float:
        """Wait until a call of every kind in `kinds` may leave now ("request" is always included); return the wait.

        With `max_wait`, never wait longer than that (but always one's own interval): LimiterWaitTooLong instead.
        """
        kinds = tuple(dict.fromkeys((REQUEST, *kinds)))
        spacing = max(self.spacing(kind) for kind in kinds)
        if spacing <= 0:
            return 0.0
        started = self._clock()
        deadline = None if max_wait is None else started + max(max_wait, spacing)
        long = LONG_WAIT if deadline is None else min(LONG_WAIT, (deadline - started) / 4)
        wait = _Wait(kinds, f"{os.getpid()}-{secrets.token_hex(4)}", deadline, long=max(2 * spacing, long))
        slot_wait = self._reserve(wait)
        if slot_wait is not None:
            try:
                if slot_wait > 0:
                    self._sleep(slot_wait)
                self._confirm_departure(wait)
            except BaseException:
                self._withdraw(wait)
                raise
        self._leave_on_time(wait)
        return max(0.0, self._clock() - started)

    def penalize(self, seconds: float, kind: str = REQUEST) -> None:
        """Hold every process's calls of `kind` for at least `seconds` (after a 429)."""
        if seconds <= 0 or not self.enabled:
            return
        with self._state() as state:
            entry = state[kind] if kind in state else _entry()
            state[kind] = entry
            until = self._clock() + seconds
            entry["hold"] = max(entry["hold"], until)
            entry["next"] = max(entry["next"], until)

    def others_busy(self, within: float) -> bool:
        """Whether another process has a call of this key queued, or sent one within the last `within` seconds.

        For a caller that may wait (an event source's next poll): while a playbook it started reads and creates
        with the same key, a poll slipped between the playbook's calls would push each of them back by a full
        interval, and its create a full create interval after that poll. Calls of this process (every source of
        one ansible-rulebook) are told apart by their tickets (pid) and by the last departure it recorded."""
        if not self.enabled:
            return False
        own = f"{os.getpid()}-"
        with self._state() as state:
            now = self._clock()
            if any(not ticket.startswith(own) for kind in state for ticket in state[kind]["waiters"]):
                return True
            last = state[REQUEST]["last"]
            return last != _OWN_DEPARTURES.get(str(self.path)) and now - within < last

    def _reserve(self, wait: _Wait) -> float | None:
        """Reserve the first slot free for all kinds; the time to sleep towards it, or None when the call left now.

        "request" queues: each process reserves the next slot in turn. The other kinds (create) are gates: a create
        leaves a full create interval after the last call of ANY kind (the service may count it from any request,
        as a real client's log shows, and a client cannot tell which rule it meets). While a create's own gate (the
        previous create, a 429's hold) is further away than that interval, other calls go on and the create only
        waits; then it reserves its slot in the request queue, so that calls queued after it wait behind it and
        cannot hold it back for ever.
        When the slot is now and the last departures are far enough back, the departure is recorded at once
        (one lock instead of two on an idle limiter).
        """
        kinds = wait.kinds
        quiet = self._quiet(kinds)
        gates = [kind for kind in kinds if kind != REQUEST and self.spacing(kind) > 0]
        while True:
            with self._state() as state:
                now = self._clock()
                gate_opens = max((_opens(state[kind]) for kind in gates), default=0.0)
                if gate_opens - quiet > now:
                    self._check_wait(wait, state, now, gate_opens - now)
                    pause = gate_opens - quiet - now
                else:
                    slot = max([now] + [_opens(state[kind]) for kind in kinds])
                    if quiet:  # a full create interval after the last call reserved before this one
                        request = state[REQUEST]
                        slot = max(slot, request["next"] - self.spacing(REQUEST) + quiet, request["last"] + quiet)
                    if slot <= now and self._ready_at(state, wait) <= now:
                        self._depart_all(state, wait, now)
                        return None
                    self._check_wait(wait, state, now, slot - now)
                    for kind in kinds:
                        state[kind]["next"] = slot + self.spacing(kind)
                        state[kind]["waiters"][wait.ticket] = slot
                    wait.slot = slot
                    return slot - now
            self._sleep(pause)

    def _quiet(self, kinds: tuple[str, ...]) -> float:
        """How long before a call of `kinds` no call of any kind may leave: a create's spacing (0 for reads)."""
        return max((self.spacing(kind) for kind in kinds if kind != REQUEST), default=0.0)

    def _ready_at(self, state: dict[str, Any], wait: _Wait, again: bool = False) -> float:
        """When a call of wait.kinds may leave, as far as the last departures and the holds say: each kind's
        spacing after its own last call, and a create's spacing after the last call of any kind.

        again: this call's departure was already recorded; where it is still the last one, the calls before it left
        at least an interval earlier, so it holds nothing back."""
        quiet = self._quiet(wait.kinds)
        times = []
        for kind in wait.kinds:
            entry = state[kind]
            times.append(entry["hold"])
            if not (again and entry["last"] == wait.departed):
                times.append(entry["last"] + max(self.spacing(kind), quiet))
        return max(times)

    def _gate_ahead(self, state: dict[str, Any], wait: _Wait) -> bool:
        """Whether a create that reserved an earlier turn than this call has not left yet. A call queued behind it
        waits until it has: a create can be held past its turn (it leaves a full interval after the last call, and a
        call ahead of it may leave late), and calls behind it leaving at their own turns would hold it back again and
        again."""
        if wait.slot is None:
            return False
        return any(slot < wait.slot for kind in state if kind not in (REQUEST, "written") and kind not in wait.kinds
                   and isinstance(state[kind], dict) for ticket, slot in state[kind]["waiters"].items()
                   if ticket != wait.ticket)

    def _confirm_departure(self, wait: _Wait, again: bool = False) -> None:
        """Leave only a full spacing after the last calls actually left (see _ready_at) and after any create queued
        ahead (see _gate_ahead); record this departure."""
        while True:
            with self._state() as state:
                now = self._clock()
                ready_at = self._ready_at(state, wait, again)
                if self._gate_ahead(state, wait):
                    ready_at = max(ready_at, now + _GATE_POLL)
                if ready_at <= now:
                    self._depart_all(state, wait, now)
                    return
                self._check_wait(wait, state, now, ready_at - now)
                pause = ready_at - now
            self._sleep(pause)

    def _leave_on_time(self, wait: _Wait) -> None:
        """Record the departure again if this process got here late, before the call is sent.

        The departure is recorded under the lock, before the file is written and closed; a write the kernel stalls
        (a disk busy with other writes) or a process scheduled late would otherwise make the call leave later than
        the time the next process spaces itself from, and the two reach the service closer than the interval. A
        lateness within half the margin is absorbed by the margin. If another call left in between, this one queues
        behind it."""
        late = max(self._margin / 2, _MIN_LATE)
        for _round in range(_MAX_LATE_ROUNDS):
            if wait.departed is None or self._clock() - wait.departed <= late:
                return
            self._confirm_departure(wait, again=True)

    def _depart_all(self, state: dict[str, Any], wait: _Wait, now: float) -> None:
        for kind in wait.kinds:
            self._depart(state[kind], kind, wait.ticket, now)
        wait.departed = _OWN_DEPARTURES[str(self.path)] = now

    def _withdraw(self, wait: _Wait) -> None:
        """Give a reserved slot back (the call was refused or interrupted before it left)."""
        try:
            with self._state() as state:
                for kind in wait.kinds:
                    state[kind]["waiters"].pop(wait.ticket, None)
        except OSError:
            pass  # a process about to fail anyway; its pid dies with it and frees the slot

    def _depart(self, entry: dict[str, Any], kind: str, ticket: str, now: float) -> None:
        entry["last"] = now
        entry["next"] = max(entry["next"], now + self.spacing(kind))
        entry["waiters"].pop(ticket, None)

    def _check_wait(self, wait: _Wait, state: dict[str, Any], now: float, seconds: float) -> None:
        """Refuse a wait past the caller's deadline; announce a long one (once per call)."""
        if wait.deadline is not None and now + seconds > wait.deadline:
            left = max(0.0, wait.deadline - now)
            raise LimiterWaitTooLong(
                f"the shared rate limiter would hold this call {seconds:.1f} s ({self._why(wait, state, now)}), "
                f"more than the {left:.1f} s left of api_retry_timeout; nothing was sent. If no other Ansible run "
                f"uses this API key, the wait is stale: delete {self.path} (the limiter's state for this key). "
                "Otherwise raise api_retry_timeout / CLORE_API_RETRY_TIMEOUT."
            )
        if seconds >= wait.long and not wait.warned and self._warn is not None:
            wait.warned = True
            self._warn(
                f"clore.ai: waiting {seconds:.1f} s for the shared rate limiter ({self._why(wait, state, now)}). "
                f"If no other Ansible run uses this API key, delete {self.path} to clear it."
            )

    def _why(self, wait: _Wait, state: dict[str, Any], now: float) -> str:
        reasons = []
        if any(state[kind]["hold"] > now for kind in wait.kinds):
            reasons.append("the service answered 429 (rate limited) and asked every process to wait")
        queued = {ticket for kind in wait.kinds for ticket in state[kind]["waiters"] if ticket != wait.ticket}
        if queued:
            reasons.append(f"{len(queued)} other call(s) with this key are queued before it")
        for kind in wait.kinds:
            if kind != REQUEST and state[kind]["next"] > now:
                reasons.append(f"one {'create_order' if kind == CREATE else kind} per {self.spacing(kind):g} s, "
                               "counted from any call of the key")
        return "; ".join(reasons) or f"one call per {self.spacing(REQUEST):g} s"

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """The file's state under an exclusive lock, written back on exit."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            private_fd(fd)
            state = self._load(fd)
            yield state
            state["written"] = self._clock()
            overwrite(fd, json.dumps(state, separators=(",", ":")).encode())
        finally:
            os.close(fd)  # also releases the lock

    def _load(self, fd: int) -> dict[str, Any]:
        """The state of every kind, cleaned: times shifted after a clock jump, nothing ahead that nobody justifies."""
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        try:
            raw = loads(b"".join(chunks) or b"{}")  # nesting bounded: a deep file is as corrupt as a torn one
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
            state[kind] = self._clean(entry, kind, now, shift) if isinstance(entry, dict) else _entry()
        return state

    def _clean(self, entry: dict[str, Any], kind: str, now: float, shift: float) -> dict[str, Any]:
        spacing = self.spacing(kind)
        last = min(_number(entry.get("last")) - shift, now)  # no call has left in the future
        hold = min(_number(entry.get("hold")) - shift, now + _MAX_HOLD)
        horizon = now + max(spacing, 1.0) * _MAX_QUEUE_INTERVALS
        waiters = {}
        stored = entry.get("waiters")
        for ticket, slot in (stored.items() if isinstance(stored, dict) else ()):
            slot = _number(slot) - shift
            if now - _WAITER_GRACE <= slot <= horizon and _alive(ticket):
                waiters[ticket] = slot
        # The furthest slot anyone can be owed: after the last departure, the hold, and every live waiter's turn.
        justified = max([now, last + spacing, hold] + [slot + spacing for slot in waiters.values()])
        return {"next": min(_number(entry.get("next")) - shift, justified), "last": last, "hold": hold,
                "waiters": waiters}

    def _prepare_dir(self) -> Path:
        if self._state_dir is not None:
            try:
                private_dir(self._state_dir)
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
                private_dir(candidate)
                _narrow(candidate)
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


class _Wait:
    """One acquire: its kinds, its ticket in the waiters' lists, its deadline and whether it was announced."""

    def __init__(self, kinds: tuple[str, ...], ticket: str, deadline: float | None, long: float) -> None:
        self.kinds = kinds
        self.ticket = ticket
        self.deadline = deadline
        self.long = long
        self.warned = False
        self.departed: float | None = None  # when its departure was recorded
        self.slot: float | None = None  # the turn it reserved, if it queued


def _entry() -> dict[str, Any]:
    return {"next": 0.0, "last": 0.0, "hold": 0.0, "waiters": {}}


def _opens(entry: dict[str, Any]) -> float:
    """When the next call of this kind may leave, as far as reservations and holds say."""
    return max(entry["next"], entry["hold"])


def _alive(ticket: Any) -> bool:
    """Whether the process that wrote this waiter's ticket ("<pid>-<random>") still runs."""
    pid_text = ticket.split("-", 1)[0] if isinstance(ticket, str) else ""
    if not pid_text.isdigit() or int(pid_text) <= 0:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but another user's
    except OSError:
        return False
    return True
