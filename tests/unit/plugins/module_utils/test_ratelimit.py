"""SharedRateLimiter: spacing within one process (simulated clock) and across real processes (real clock)."""
from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils import ratelimit
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.ratelimit import (
    CREATE,
    REQUEST,
    SAFETY_MARGIN,
    LimiterWaitTooLong,
    SharedRateLimiter,
    limiter_file_name,
)

URL = "http://127.0.0.1:8199/v1"
KEY = "limiter-test-key-0123456789"


class WallClock:
    """A wall clock that moves only when the limiter sleeps, and can jump."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(tmp_path: Path, clock: WallClock | None = None, warn=None, **intervals: float) -> SharedRateLimiter:
    intervals = {REQUEST: 1.0, CREATE: 5.0, **intervals}
    if clock is None:
        return SharedRateLimiter(URL, KEY, intervals, tmp_path, warn=warn)
    return SharedRateLimiter(URL, KEY, intervals, tmp_path, clock=clock.time, sleep=clock.sleep, warn=warn)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def write_state(lim: SharedRateLimiter, now: float, **request: object) -> None:
    lim.path.write_text(json.dumps({"written": now, REQUEST: {"next": 0, "last": 0, **request}}))


def test_requests_are_spaced_by_the_full_interval(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    departures = []
    for _i in range(5):
        lim.acquire(REQUEST)
        departures.append(clock.now)
    gaps = [b - a for a, b in zip(departures, departures[1:])]
    assert gaps == pytest.approx([1.0 + SAFETY_MARGIN] * 4)


def test_a_departure_written_late_is_recorded_again_before_the_call_leaves(tmp_path, monkeypatch):
    # The departure is recorded under the lock, then the file is written: a write the kernel stalls (a busy disk)
    # must not leave the next process spacing itself from a time this call did not leave at.
    clock = WallClock()
    first, second = limiter(tmp_path, clock), limiter(tmp_path, clock)
    first.acquire(REQUEST)
    stalls = [0.6]
    real_overwrite = ratelimit.overwrite

    def stalling(fd: int, data: bytes) -> None:
        real_overwrite(fd, data)
        state = json.loads(data)[REQUEST]
        # The write that records this call's departure: last is now, and nobody waits any more.
        if stalls and state["last"] == clock.now and not state["waiters"]:
            clock.now += stalls.pop()

    monkeypatch.setattr(ratelimit, "overwrite", stalling)
    started = clock.now
    second.acquire(REQUEST)
    left = clock.now
    assert stalls == [] and left - started == pytest.approx(1.0 + SAFETY_MARGIN + 0.6)
    assert json.loads(first.path.read_text())[REQUEST]["last"] == left
    first.acquire(REQUEST)
    assert clock.now - left == pytest.approx(1.0 + SAFETY_MARGIN)


def test_a_late_call_queues_behind_a_call_that_left_meanwhile(tmp_path, monkeypatch):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    leave_on_time = SharedRateLimiter._leave_on_time

    def stalled(self, wait):
        # Stalled 1.5 s after its departure was recorded; another process's call left an interval after it.
        state = json.loads(self.path.read_text())
        state[REQUEST]["last"] = wait.departed + 1.0 + SAFETY_MARGIN
        self.path.write_text(json.dumps(state))
        clock.now = wait.departed + 1.5
        leave_on_time(self, wait)

    monkeypatch.setattr(SharedRateLimiter, "_leave_on_time", stalled)
    started = clock.now
    lim.acquire(REQUEST)
    # Times near 1.7e9 s: an absolute tolerance (a relative one would allow half an hour).
    assert clock.now - started == pytest.approx(2 * (1.0 + SAFETY_MARGIN))
    assert json.loads(lim.path.read_text())[REQUEST]["last"] == clock.now


def test_two_limiters_on_one_file_share_the_limit(tmp_path):
    clock = WallClock()
    first, second = limiter(tmp_path, clock), limiter(tmp_path, clock)
    first.acquire()
    started = clock.now
    second.acquire()
    assert clock.now - started >= 1.0


def test_other_keys_and_urls_have_their_own_files(tmp_path):
    clock = WallClock()
    limiter(tmp_path, clock).acquire()
    other_key = SharedRateLimiter(URL, "another-key-xyz", {REQUEST: 1.0}, tmp_path, clock=clock.time,
                                  sleep=clock.sleep)
    other_url = SharedRateLimiter("https://api.clore.ai/v1", KEY, {REQUEST: 1.0}, tmp_path, clock=clock.time,
                                  sleep=clock.sleep)
    other_key.acquire()
    other_url.acquire()
    assert clock.sleeps == []
    assert len(list(tmp_path.iterdir())) == 3


def test_the_file_holds_a_hash_never_the_key(tmp_path):
    lim = limiter(tmp_path, WallClock())
    lim.acquire()
    assert KEY not in lim.path.name and KEY not in lim.path.read_text()
    assert lim.path.name == limiter_file_name(URL + "/", KEY)
    assert stat.S_IMODE(lim.path.stat().st_mode) == 0o600


def test_a_create_leaves_a_full_create_interval_after_any_call(tmp_path):
    """The service may count a create's 5 s from any request (a real log: creates refused 1 s after a read and 19 s
    after the previous create): a create never leaves sooner than that after a call of any kind."""
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire(REQUEST)
    read = clock.now
    lim.acquire(CREATE)
    assert clock.now - read == pytest.approx(5.0 + SAFETY_MARGIN)
    created = clock.now
    lim.acquire(REQUEST)
    lim.acquire(REQUEST)
    assert clock.now - created == pytest.approx(2 * (1.0 + SAFETY_MARGIN))
    lim.acquire(CREATE)
    assert clock.now - created == pytest.approx(2 * (1.0 + SAFETY_MARGIN) + 5.0 + SAFETY_MARGIN)


def test_calls_queued_before_a_create_keep_it_a_full_interval_back(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire(REQUEST)
    alive = os.getppid()
    # Two reads of other processes already hold the next two request slots.
    first, second = clock.now + 1.0 + SAFETY_MARGIN, clock.now + 2 * (1.0 + SAFETY_MARGIN)
    state = json.loads(lim.path.read_text())
    state[REQUEST].update(next=second + 1.0 + SAFETY_MARGIN, waiters={f"{alive}-r1": first, f"{alive}-r2": second})
    lim.path.write_text(json.dumps(state))
    lim.acquire(CREATE)
    assert clock.now - second == pytest.approx(5.0 + SAFETY_MARGIN)


def test_a_create_that_reserved_its_slot_holds_later_calls_behind_it(tmp_path):
    """Reads queued after a create wait behind it: a stream of reads cannot hold a create back for ever."""
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire(REQUEST)
    create = ratelimit._Wait((REQUEST, CREATE), f"{os.getpid()}-create", None, long=60.0)
    assert lim._reserve(create) == pytest.approx(5.0 + SAFETY_MARGIN)
    slot = create.slot
    lim._confirm_departure(create)  # the create leaves at its turn
    lim.acquire(REQUEST)  # a read that came after the create reserved its turn
    assert clock.now - slot == pytest.approx(1.0 + SAFETY_MARGIN)


def test_a_read_whose_turn_comes_waits_for_a_create_ahead_that_has_not_left(tmp_path):
    """A create can be held past its turn (a call ahead of it left late): the reads behind it wait until it has left,
    or each of them leaving at its own turn would push the create back again."""
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire(REQUEST)
    create = ratelimit._Wait((REQUEST, CREATE), f"{os.getpid()}-create", None, long=60.0)
    lim._reserve(create)
    left = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not left and clock.now >= create.slot + 2.0:  # the create leaves two seconds after its turn
            lim._confirm_departure(create)
            left.append(clock.now)

    lim._sleep = sleep
    lim.acquire(REQUEST)
    assert left and clock.now - left[0] == pytest.approx(1.0 + SAFETY_MARGIN, abs=0.02)


def test_reads_go_on_between_creates_and_the_next_create_keeps_its_interval_after_them(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock, **{CREATE: 30.0})
    lim.acquire(CREATE)
    created = clock.now
    for _i in range(5):  # reads are not held back by the create's interval
        lim.acquire(REQUEST)
    assert clock.now - created == pytest.approx(5 * (1.0 + SAFETY_MARGIN))
    last_read = clock.now
    lim.acquire(CREATE)
    assert clock.now - last_read == pytest.approx(30.0 + SAFETY_MARGIN)


def test_zero_intervals_turn_the_limiter_off_without_touching_disk(tmp_path):
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.0, CREATE: 0.0}, tmp_path / "state")
    for _i in range(3):
        assert lim.acquire(REQUEST, CREATE) == 0.0
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("content", [b"", b"{", b"null", b"[1,2]", b'{"request": "soon"}',
                                     b'{"request": {"next": "x", "last": NaN}}', b"\x00\xff garbage"])
def test_a_corrupt_or_empty_file_counts_as_no_calls_yet(tmp_path, content):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.path.write_bytes(content)
    lim.acquire()
    assert clock.sleeps == []
    state = json.loads(lim.path.read_text())
    assert state[REQUEST]["last"] == clock.now
    lim.acquire()
    assert sum(clock.sleeps) == pytest.approx(1.0 + SAFETY_MARGIN)


def test_a_backward_clock_jump_does_not_stall_everyone(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire()
    clock.now -= 3600  # the wall clock is set back an hour
    lim.acquire()
    assert sum(clock.sleeps) == pytest.approx(1.0 + SAFETY_MARGIN)  # one interval, not an hour


def test_a_forward_clock_jump_lets_the_next_call_go(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire()
    clock.now += 3600
    lim.acquire()
    assert clock.sleeps == []


def test_a_stored_time_absurdly_far_ahead_is_ignored(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.path.write_text(json.dumps({"written": clock.now, REQUEST: {"next": clock.now + 1e9, "last": 0}}))
    lim.acquire()
    assert clock.sleeps == []


@pytest.mark.parametrize("ahead", [200.0, 999.0])
def test_a_slot_far_ahead_that_no_waiter_justifies_holds_nobody_back(tmp_path, ahead):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    write_state(lim, clock.now, next=clock.now + ahead, last=clock.now - 10)
    lim.acquire()
    assert clock.sleeps == []


def test_a_slot_reserved_by_a_process_that_died_holds_nobody_back(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    gone = dead_pid()
    write_state(lim, clock.now, next=clock.now + 60, last=clock.now - 10,
                waiters={f"{gone}-dead": clock.now + 59})
    lim.acquire()
    assert clock.sleeps == []
    assert json.loads(lim.path.read_text())[REQUEST]["waiters"] == {}


def test_live_waiters_justify_their_queue(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    spacing = 1.0 + SAFETY_MARGIN
    alive = os.getppid()  # the process that runs the tests: alive while they run
    slots = {f"{alive}-w{n}": clock.now + n * spacing for n in range(3)}
    write_state(lim, clock.now, next=clock.now + 3 * spacing, last=clock.now, waiters=slots)
    lim.acquire()
    assert sum(clock.sleeps) == pytest.approx(3 * spacing)  # behind the three live waiters, not before them


def test_others_busy_sees_another_process_s_recent_call_and_not_its_own(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    assert not lim.others_busy(1.5)  # no call yet
    write_state(lim, clock.now, next=clock.now + 1.02, last=clock.now - 1.0)  # another process, 1 s ago
    assert lim.others_busy(1.5)
    clock.now += 0.6
    assert not lim.others_busy(1.5)  # 1.6 s ago: past the window
    lim.acquire()  # this process's own call is the last one now
    assert not lim.others_busy(1.5)
    assert not SharedRateLimiter(URL, KEY, {REQUEST: 1.0}, tmp_path, clock=clock.time).others_busy(1.5)  # same process


def test_others_busy_sees_another_process_s_queued_call_whatever_its_kind(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire()
    alive = os.getppid()  # the process that runs the tests: alive while they run
    lim.path.write_text(json.dumps({"written": clock.now, CREATE: {
        "next": clock.now + 5.02, "last": 0, "waiters": {f"{alive}-create": clock.now + 5.02}}}))
    assert lim.others_busy(1.5)
    lim.path.write_text(json.dumps({"written": clock.now, REQUEST: {
        "next": clock.now + 1.02, "last": 0, "waiters": {f"{os.getpid()}-mine": clock.now + 1.02}}}))
    assert not lim.others_busy(1.5)  # a call of this process (another thread of it) is not another process's


def test_others_busy_is_false_without_a_limit(tmp_path):
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.0, CREATE: 0.0}, tmp_path / "never")
    assert not lim.others_busy(1.5)
    assert not (tmp_path / "never").exists()


def test_a_wait_past_max_wait_is_refused_at_once_naming_the_file(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.penalize(300.0)
    with pytest.raises(LimiterWaitTooLong) as caught:
        lim.acquire(max_wait=20.0)
    text = str(caught.value)
    assert "300.0 s" in text and "20.0 s left of api_retry_timeout" in text and "429" in text
    assert f"delete {lim.path}" in text
    assert clock.sleeps == []
    assert json.loads(lim.path.read_text())[REQUEST]["waiters"] == {}


def test_max_wait_always_allows_one_interval(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire()
    lim.acquire(max_wait=0.0)
    assert sum(clock.sleeps) == pytest.approx(1.0 + SAFETY_MARGIN)


def test_a_create_may_always_wait_its_own_interval(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock, **{CREATE: 50.0})
    lim.acquire(CREATE)
    lim.acquire(CREATE, max_wait=10.0)
    assert sum(clock.sleeps) == pytest.approx(50.0 + SAFETY_MARGIN)


def test_a_create_queue_past_max_wait_is_refused_with_its_reasons(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    spacing = 5.0 + SAFETY_MARGIN
    alive = os.getppid()
    waiters = {f"{alive}-c{n}": clock.now + n * spacing for n in range(3)}
    lim.path.write_text(json.dumps({"written": clock.now, CREATE: {"next": clock.now + 3 * spacing, "last": clock.now,
                                                                   "waiters": waiters}}))
    with pytest.raises(LimiterWaitTooLong) as caught:
        lim.acquire(CREATE, max_wait=1.0)
    assert "3 other call(s) with this key are queued before it" in str(caught.value)
    assert f"one create_order per {spacing:g} s, counted from any call of the key" in str(caught.value)
    assert clock.sleeps == []


def test_a_long_wait_is_announced_once_with_its_reason_and_the_file(tmp_path):
    clock = WallClock()
    warnings: list[str] = []
    lim = limiter(tmp_path, clock, warn=warnings.append)
    lim.penalize(40.0)
    lim.acquire(max_wait=120.0)
    assert sum(clock.sleeps) >= 40.0
    assert len(warnings) == 1
    assert "waiting 40.0 s" in warnings[0] and "429" in warnings[0] and str(lim.path) in warnings[0]


def test_a_short_wait_is_not_announced(tmp_path):
    clock = WallClock()
    warnings: list[str] = []
    lim = limiter(tmp_path, clock, warn=warnings.append)
    for _i in range(3):
        lim.acquire(max_wait=120.0)
    assert clock.sleeps and warnings == []


def test_an_interrupted_wait_gives_its_slot_back(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.acquire()

    def interrupted(_seconds):
        raise KeyboardInterrupt

    lim._sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        lim.acquire()
    state = json.loads(lim.path.read_text())
    assert state[REQUEST]["waiters"] == {}
    lim._sleep = clock.sleep
    lim.acquire()
    assert sum(clock.sleeps) == pytest.approx(1.0 + SAFETY_MARGIN)  # after the last departure, not after a ghost


def test_penalize_pushes_every_process_back(tmp_path):
    clock = WallClock()
    lim = limiter(tmp_path, clock)
    lim.penalize(7.0)
    started = clock.now
    limiter(tmp_path, clock).acquire()
    assert clock.now - started >= 7.0


def test_an_unusable_state_dir_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 1.0}, blocker / "sub")
    with pytest.raises(CloreConfigError, match="api_state_dir / CLORE_STATE_DIR") as caught:
        lim.acquire()
    assert caught.value.option == "api_state_dir"


def test_default_state_dir_is_under_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, None)
    lim.acquire()
    assert lim.path.parent == tmp_path / "cache" / "clore.ai"


def test_default_state_dir_falls_back_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        # root writes anywhere: make the cache path impossible instead of unwritable
        (tmp_path / "cache").write_text("a file, not a directory")
    else:
        (tmp_path / "cache").mkdir(mode=0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, None)
    lim.acquire()
    assert lim.path.parent == tmp_path / "tmp" / f"clore.ai-{os.getuid()}"


# ----- across real processes -----
class _RecordingLimiter(SharedRateLimiter):
    """Remembers the departure time the limiter recorded for the last call (what the other processes space from)."""

    departed = 0.0

    def _depart_all(self, state, wait, now):
        super()._depart_all(state, wait, now)
        self.departed = now


def _worker(state_dir: str, kinds: tuple[str, ...], count: int, intervals: dict, out) -> None:
    # The departures the limiter recorded, which it spaces: a time.time() read after acquire() returns may come late
    # on a loaded machine (the process not scheduled yet), and the gap after it then looks short.
    lim = _RecordingLimiter(URL, KEY, intervals, state_dir)
    stamps = []
    for _i in range(count):
        lim.acquire(*kinds)
        stamps.append(lim.departed)
    out.put(stamps)


def _run_processes(state_dir: Path, processes: int, count: int, kinds: tuple[str, ...], intervals: dict) -> list:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(str(state_dir), kinds, count, intervals, out))
               for _i in range(processes)]
    for worker in workers:
        worker.start()
    stamps = sorted(t for _i in workers for t in out.get(timeout=120))
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return stamps


def test_processes_share_the_request_limit(tmp_path):
    interval = 0.1
    stamps = _run_processes(tmp_path, processes=5, count=4, kinds=(REQUEST,),
                            intervals={REQUEST: interval, CREATE: 0.0})
    assert len(stamps) == 20
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= interval, gaps
    assert stamps[-1] - stamps[0] >= 19 * interval


MAX_READS = 400  # per reader: far more than the creates need, so that reaching it means a create was held back


def _reader(state_dir: str, intervals: dict, done, out) -> None:
    lim = _RecordingLimiter(URL, KEY, intervals, state_dir)
    stamps = []
    while not done.is_set() and len(stamps) < MAX_READS:
        lim.acquire(REQUEST)
        stamps.append((lim.departed, False))
    out.put(stamps)


def _creator(state_dir: str, intervals: dict, done, out) -> None:
    lim = _RecordingLimiter(URL, KEY, intervals, state_dir)
    stamps = []
    for _i in range(2):
        lim.acquire(REQUEST, CREATE)
        stamps.append((lim.departed, True))
    done.set()
    out.put(stamps)


def test_processes_reading_all_the_time_neither_crowd_a_create_nor_hold_it_back(tmp_path):
    """Three processes read as fast as the limit allows until one process has created twice: every create leaves a
    full create interval after the call before it, and the creates get through while the reads go on."""
    intervals = {REQUEST: 0.05, CREATE: 0.3}
    ctx = multiprocessing.get_context("spawn")
    out, done = ctx.Queue(), ctx.Event()
    workers = [ctx.Process(target=_reader, args=(str(tmp_path), intervals, done, out)) for _i in range(3)]
    workers.append(ctx.Process(target=_creator, args=(str(tmp_path), intervals, done, out)))
    for worker in workers:
        worker.start()
    per_process = [out.get(timeout=120) for _i in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert all(len(stamps) < MAX_READS for stamps in per_process), [len(s) for s in per_process]
    stamps = sorted(stamp for process in per_process for stamp in process)
    creates = [n for n, (_t, is_create) in enumerate(stamps) if is_create]
    assert len(creates) == 2
    for n in creates:
        assert n == 0 or stamps[n][0] - stamps[n - 1][0] >= intervals[CREATE], stamps[n - 1:n + 1]


def test_processes_share_the_create_limit(tmp_path):
    interval = 0.3
    stamps = _run_processes(tmp_path, processes=3, count=2, kinds=(REQUEST, CREATE),
                            intervals={REQUEST: 0.05, CREATE: interval})
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(stamps) == 6 and min(gaps) >= interval, gaps


# ----- private to the user
def test_the_default_state_dir_and_its_new_parents_are_0700_and_an_older_wider_one_is_narrowed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, None)
    lim.acquire()
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE(lim.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(lim.path.stat().st_mode) == 0o600
    os.chmod(lim.path.parent, 0o755)  # as an older inventory plugin made it
    os.chmod(lim.path, 0o644)
    again = SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, None)
    again.acquire()
    assert stat.S_IMODE(lim.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(lim.path.stat().st_mode) == 0o600


def test_a_configured_state_dir_is_made_private_but_an_existing_one_is_left_as_the_user_made_it(tmp_path):
    made = tmp_path / "new" / "state"
    SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, made).acquire()
    assert [stat.S_IMODE(p.stat().st_mode) for p in (made.parent, made)] == [0o700, 0o700]
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    os.chmod(shared, 0o750)
    SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, shared).acquire()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o750


def test_a_deeply_nested_state_file_counts_as_no_calls_yet(tmp_path):
    lim = SharedRateLimiter(URL, KEY, {REQUEST: 0.01}, tmp_path)
    lim.acquire()
    lim.path.write_text('{"request": ' + "[" * 5000 + "]" * 5000 + "}")
    lim.acquire()  # no RecursionError: read as a corrupt file is
    assert json.loads(lim.path.read_text())["request"]["last"] > 0
