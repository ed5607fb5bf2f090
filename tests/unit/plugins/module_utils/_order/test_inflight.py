"""Creates in flight across processes: the records kept in the state dir, and how a later run reconciles them."""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.create import (
    ExactlyOnceCreator,
    NotListed,
    create_body,
)
from ansible_collections.clore.ai.plugins.module_utils._order import inflight
from ansible_collections.clore.ai.plugins.module_utils._order.request import Container, Terms
from ansible_collections.clore.ai.plugins.module_utils._order.inflight import (
    LISTING_MARGIN,
    InflightCreates,
    reconcile_inflight,
)
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask

from order_fakes import Clock, FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"
SECRET = "Secret123"
CONTAINER = Container(image=IMAGE, ssh_password=SECRET, env={"TOKEN": "hush"})


def body(server_id: int) -> dict:
    return create_body(CONTAINER, Terms(), server_id, "USD-Blockchain")


def creator(fake: FakeClore, journal: InflightCreates, **kwargs) -> ExactlyOnceCreator:
    clock = Clock(fake)
    options = {"reconcile_timeout": 10.0, "confirm_timeout": 10.0, "clock": clock.monotonic, "sleep": clock.sleep,
               **kwargs}
    return ExactlyOnceCreator(fake, {o["id"] for o in fake.active()}, journal=journal, **options)


class SimClock:
    """A wall clock for the journal and the reconciler that moves only when something sleeps (Clore's too)."""

    def __init__(self, fake: FakeClore, start: float = 1_800_000_000.0):
        self.now = start
        self.fake = fake

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.fake.now += seconds


# ----- the records -----

def test_records_round_trip_per_account(tmp_path: Path):
    mine, theirs = InflightCreates(tmp_path, "acct-a"), InflightCreates(tmp_path, "acct-b")
    record = mine.record(7, IMAGE, 1_700_000_000.0)
    theirs.record(8, IMAGE, None)
    assert [(r.server_id, r.image, r.clore_floor) for r in mine.pending(IMAGE)] == [(7, IMAGE, 1_700_000_000.0)]
    assert [r.server_id for r in theirs.pending(IMAGE)] == [8]
    assert mine.pending("other/image") == []
    mine.clear(record)
    assert mine.pending(IMAGE) == [] and [r.server_id for r in theirs.pending(IMAGE)] == [8]


def test_a_foreign_or_broken_file_is_ignored(tmp_path: Path):
    journal = InflightCreates(tmp_path, "acct")
    journal.path.write_text("{not json")
    assert journal.pending(IMAGE) == []
    journal.path.write_text(json.dumps({"records": [{"server_id": "x"}, 3]}))
    assert journal.pending(IMAGE) == []
    journal.path.write_text(json.dumps({"records": 3}))
    assert journal.pending(IMAGE) == []
    journal.record(1, IMAGE, None)
    assert [r.server_id for r in journal.pending(IMAGE)] == [1]


class RecordingClore(FakeClore):
    """Reads the journal file at the moment create_order arrives."""

    journal: InflightCreates

    def create_order(self, body: dict) -> None:
        self.seen_at_create = self.journal.pending(IMAGE)
        super().create_order(body)


def test_record_is_on_disk_before_the_create_and_cleared_once_found(tmp_path: Path):
    fake = RecordingClore([server(1, 2.0)])
    fake.journal = journal = InflightCreates(tmp_path, "acct")
    made = creator(fake, journal).create(body(1))
    assert [(r.server_id, r.image, r.account) for r in fake.seen_at_create] == [(1, IMAGE, "acct")]
    assert not made.adopted and journal.pending(IMAGE) == []
    assert not journal.path.exists() or SECRET not in journal.path.read_text()


def test_the_record_holds_no_secret(tmp_path: Path):
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 1000
    journal = InflightCreates(tmp_path, "acct")
    with pytest.raises(NotListed):
        creator(fake, journal, confirm_timeout=2.0).create(body(1))
    text = journal.path.read_text()
    assert '"server_id": 1' in text
    for secret in (SECRET, "hush", "TOKEN"):
        assert secret not in text


def test_record_stays_while_the_order_may_exist_and_goes_when_proven_absent(tmp_path: Path):
    journal = InflightCreates(tmp_path, "acct")
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 1000
    with pytest.raises(NotListed, match="next run with this key and image looks for it"):
        creator(fake, journal, confirm_timeout=2.0).create(body(1))
    assert [r.server_id for r in journal.pending(IMAGE)] == [1]

    journal = InflightCreates(tmp_path, "refused")
    with pytest.raises(CloreApiError):
        creator(FakeClore([server(1, 2.0, rented=True)]), journal).create(body(1))
    assert journal.pending(IMAGE) == []

    journal = InflightCreates(tmp_path, "absent")
    fake = FakeClore([server(1, 2.0)])
    fake.fault("create_order", "drop", "drop")
    with pytest.raises(CloreError, match="nothing was rented"):
        creator(fake, journal).create(body(1))
    assert journal.pending(IMAGE) == []


# ----- reconciling what an earlier run left -----

def test_reconcile_waits_for_a_late_listing_and_adopts(tmp_path: Path):
    fake = FakeClore([server(1, 2.0), server(2, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    journal.mark_sent(journal.record(1, IMAGE, fake.now - 50))
    fake.listing_lag_reads = 4
    order = fake.add_order(1, IMAGE)  # the create that the killed run sent
    journal.record(9, "other/image", None)  # another fleet's: not this task's business
    found = reconcile_inflight(fake, journal, IMAGE, 60.0, clock=clock, sleep=clock.sleep)
    assert [o["id"] for o in found.adopted] == [order["id"]] and found.warnings == []
    assert journal.pending(IMAGE) == [] and [r.server_id for r in journal.pending("other/image")] == [9]
    assert fake.posts() == []


def test_reconcile_drops_a_record_whose_order_never_appears(tmp_path: Path):
    fake = FakeClore([server(1, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    journal.mark_sent(journal.record(1, IMAGE, None))
    clock.now += 5
    found = reconcile_inflight(fake, journal, IMAGE, 20.0, clock=clock, sleep=clock.sleep)
    assert found.adopted == [] and journal.pending(IMAGE) == []
    assert len(found.warnings) == 1 and "nothing was rented" in found.warnings[0]
    assert f"within {20 + LISTING_MARGIN:.0f} s" in found.warnings[0]


def test_reconcile_ignores_older_orders_and_reports_an_ended_one(tmp_path: Path):
    fake = FakeClore([server(1, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    old = fake.add_order(1, IMAGE, ct=fake.now - 3600)
    old["expired"] = True
    journal.record(1, IMAGE, fake.now)
    ended = fake.add_order(1, IMAGE, ct=fake.now + 1)
    ended["expired"] = True  # rented, then cancelled by hand before anyone found it
    found = reconcile_inflight(fake, journal, IMAGE, 10.0, clock=clock, sleep=clock.sleep)
    assert found.adopted == []
    assert found.warnings == [f"order {ended['id']} on server 1, rented by an earlier run that stopped before "
                              "finding it, has already ended"]


# ----- a task run after a crash mid-create -----

def task_params(**overrides) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, count=3, gpu=["4090"], image=IMAGE, reconcile_timeout=10)
    params.update(overrides)
    return params


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    fake = FakeClore([server(i, float(i)) for i in range(1, 7)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "acct"
    return fake


def run_task(fake: FakeClore, check_mode: bool = False, **overrides) -> dict:
    params = task_params(**overrides)
    warnings: list[str] = []
    result = OrderTask(fake, order_request(params), check_mode=check_mode, diff=False,
                       warn=warnings.append).run()
    result["warnings"] = warnings
    return result


def crashed_after_first_create(fake: FakeClore) -> dict:
    """What a run killed right after its first create_order leaves: a record, and an order listed late."""
    journal = InflightCreates(fake.state_path, fake.account)
    journal.mark_sent(journal.record(1, IMAGE, None))
    fake.listing_lag_reads = 2
    order = fake.add_order(1, IMAGE)
    fake.listing_lag_reads = 0
    return order


def test_rerun_after_a_crash_adopts_the_order_and_rents_only_the_rest(market):
    lost = crashed_after_first_create(market)
    result = run_task(market)
    assert result["adopted"] == [lost["id"]]
    assert len(result["created"]) == 2 and lost["id"] not in result["created"]
    assert sorted(o["id"] for o in result["orders"]) == sorted(o["id"] for o in market.active())
    assert len(market.active()) == 3 and len(market.posts("create_order")) == 2
    assert any(f"adopted order {lost['id']}" in w for w in result["warnings"])
    assert f"adopted after an unclear create order(s) {lost['id']}" in result["msg"]
    assert InflightCreates(market.state_path, market.account).pending(IMAGE) == []
    again = run_task(market)
    assert again["changed"] is False and len(again["kept"]) == 3


def test_check_mode_warns_about_a_create_in_flight_and_leaves_the_record(market):
    crashed_after_first_create(market)
    result = run_task(market, check_mode=True)
    assert market.posts() == []
    assert any("a real run first looks for it" in w for w in result["warnings"])
    assert len(InflightCreates(market.state_path, market.account).pending(IMAGE)) == 1


def test_records_of_another_key_are_not_reconciled(market):
    InflightCreates(market.state_path, "another-key").record(1, IMAGE, None)
    result = run_task(market, count=1)
    assert result["adopted"] == [] and len(result["created"]) == 1
    assert len(InflightCreates(market.state_path, "another-key").pending(IMAGE)) == 1


def test_records_are_replaced_whole_and_only_when_they_change(tmp_path: Path):
    journal = InflightCreates(tmp_path, "acct")
    journal.record(1, IMAGE, None)
    inode, text = journal.path.stat().st_ino, journal.path.read_text()
    assert [r.server_id for r in journal.pending(IMAGE)] == [1]
    assert (journal.path.stat().st_ino, journal.path.read_text()) == (inode, text)  # a read writes nothing
    journal.record(2, IMAGE, None)
    assert journal.path.stat().st_ino != inode  # never truncated in place: a crash cannot leave it empty
    assert oct(journal.path.stat().st_mode & 0o777) == oct(0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inflight-acct.json", "inflight-acct.lock"]


# ----- the age of a record counts from its last sending, not from when it was queued -----

class Killed(BaseException):
    """The module killed mid-call: nothing after it runs, nothing is cleaned up."""


class QueuedLimiter:
    """The client's shared limiter: each call waits `waits[i]` s (the queue, a 429's back-off) before it leaves."""

    def __init__(self, clock: SimClock, waits: list[float]):
        self.clock = clock
        self.waits = list(waits)
        self.departures: list[float] = []

    def acquire(self, *kinds, max_wait=None) -> float:
        wait = self.waits.pop(0) if self.waits else 0.0
        self.clock.sleep(wait)
        self.departures.append(self.clock())
        return wait


class LimitedClore(FakeClore):
    """create_order as the client sends it: through the limiter for every attempt; 429s until the last one."""

    limiter: QueuedLimiter
    refusals = 0
    kill_at_accept = False

    def create_order(self, body: dict) -> None:
        for _attempt in range(self.refusals):
            self.limiter.acquire("request", "create")  # answered 429, retried after the back-off
        self.limiter.acquire("request", "create")
        super().create_order(body)
        if self.kill_at_accept:
            raise Killed()


def killed_after_a_long_queue(tmp_path: Path, refusals: int, lag_reads: int):
    """A run whose create waited behind the limiter and 19 429s, was accepted, and was killed at the answer."""
    fake = LimitedClore([server(1, 2.0), server(2, 2.0)])
    clock = SimClock(fake)
    fake.limiter = QueuedLimiter(clock, [5.0] * (refusals + 1))
    fake.refusals, fake.kill_at_accept = refusals, True
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    with pytest.raises(Killed):
        creator(fake, journal).create(body(1))
    fake.listing_lag_reads = lag_reads
    return fake, clock, journal


def test_a_create_queued_long_before_it_was_sent_is_found_by_a_rerun_at_once(tmp_path: Path):
    fake, clock, journal = killed_after_a_long_queue(tmp_path, refusals=19, lag_reads=8)
    [record] = journal.pending(IMAGE)
    assert fake.limiter.departures[-1] - record.queued_at == 100.0  # queued 100 s before it left, past the bound
    assert journal.sent_at(record) == fake.limiter.departures[-1]  # the mark moved with every attempt
    found = reconcile_inflight(fake, journal, IMAGE, 60.0, clock=clock, sleep=clock.sleep)
    assert [o["id"] for o in found.adopted] == [o["id"] for o in fake.active()] and found.warnings == []
    assert journal.pending(IMAGE) == [] and len(fake.posts("create_order")) == 1


def test_a_record_never_sent_by_a_writer_that_is_gone_is_dropped_at_once(tmp_path: Path):
    fake = FakeClore([server(1, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    journal.record(1, IMAGE, None)  # killed while it waited for the limiter: never marked sent
    started = clock()
    found = reconcile_inflight(fake, journal, IMAGE, 60.0, clock=clock, sleep=clock.sleep)
    assert clock() == started and found.adopted == [] and journal.pending(IMAGE) == []
    assert len(found.warnings) == 1 and "stopped before sending it" in found.warnings[0]


@pytest.mark.parametrize("writer", [inflight.RUNNING, inflight.UNKNOWN])
def test_a_writer_that_may_still_send_or_lost_its_mark_is_waited_for_until_its_send_deadline(
        tmp_path: Path, writer: str):
    fake = FakeClore([server(1, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    record = journal.record(1, IMAGE, None, send_window=130.0)  # no mark: it may yet leave, or its mark was lost
    found = reconcile_inflight(fake, journal, IMAGE, 20.0, clock=clock, sleep=clock.sleep,
                               state_of=lambda r: writer)
    assert clock() >= record.queued_at + 130.0 + 20.0 + LISTING_MARGIN
    assert found.adopted == [] and journal.pending(IMAGE) == [] and "last sending" in found.warnings[0]


def test_a_late_listing_of_a_create_by_a_writer_still_running_is_adopted(tmp_path: Path):
    fake = FakeClore([server(1, 2.0)])
    clock = SimClock(fake)
    journal = InflightCreates(tmp_path, "acct", clock=clock)
    journal.record(1, IMAGE, None, send_window=300.0)  # still retrying within its client's deadline
    clock.sleep(200)  # long past the bound counted from the queueing
    fake.listing_lag_reads = 3
    order = fake.add_order(1, IMAGE)
    found = reconcile_inflight(fake, journal, IMAGE, 20.0, clock=clock, sleep=clock.sleep,
                               state_of=lambda r: inflight.RUNNING)
    assert [o["id"] for o in found.adopted] == [order["id"]]


def test_writer_state_tells_gone_running_reused_and_other_boot(tmp_path: Path):
    journal = InflightCreates(tmp_path, "acct")
    own = journal.record(1, IMAGE, None)
    assert inflight.writer_state(own) == inflight.GONE  # this process reconciles before it sends anything
    parent = dataclasses.replace(own, pid=os.getppid(), started=inflight.process_start(os.getppid()))
    assert inflight.writer_state(parent) == inflight.RUNNING
    assert inflight.writer_state(dataclasses.replace(parent, started="1")) == inflight.GONE  # a reused pid
    assert inflight.writer_state(dataclasses.replace(parent, boot="another-boot")) == inflight.UNKNOWN


def test_a_record_of_an_older_collection_is_read_with_its_queue_time_and_a_send_deadline():
    old = {"server_id": 3, "image": IMAGE, "sent_at": 100.0, "clore_floor": None, "account": "a", "token": "t",
           "pid": 7}
    record = inflight.InflightRecord.from_json(old)
    assert (record.queued_at, record.send_by, record.boot) == (100.0, 100.0 + inflight.LEGACY_SEND_WINDOW, None)
    assert inflight.writer_state(record) == inflight.UNKNOWN


def test_the_limiter_is_left_as_it_was_after_the_create(tmp_path: Path):
    fake = LimitedClore([server(1, 2.0)])
    clock = SimClock(fake)
    fake.limiter = QueuedLimiter(clock, [])
    own_acquire = fake.limiter.acquire
    creator(fake, InflightCreates(tmp_path, "acct", clock=clock)).create(body(1))
    assert "acquire" not in vars(fake.limiter) and fake.limiter.acquire == own_acquire
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inflight-acct.json", "inflight-acct.lock"]  # mark gone
