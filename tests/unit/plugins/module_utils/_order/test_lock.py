"""Coordination between clore_order processes: the per-image lock, server claims and shared readiness reads."""
from __future__ import annotations

import json
import multiprocessing
import os
import time

from ansible_collections.clore.ai.plugins.module_utils._order.lock import (
    CLAIM_TTL,
    ServerClaims,
    SharedOrderReads,
    account_lock,
    account_lock_path,
    lock_path,
    order_lock,
)

# Children in a fresh interpreter: forking a multi-threaded process (a pytest-xdist worker) may deadlock the child,
# as Python 3.12 and later warn.
PROCESSES = multiprocessing.get_context("spawn")


def _hold_lock(directory, queue, contender_waits):
    with order_lock(directory, "acct", "img"):
        queue.put(time.monotonic())
        contender_waits.wait(timeout=10)
        time.sleep(0.1)  # the contender is now blocked on the lock (or about to be)
        queue.put(time.monotonic())  # the last moment this process surely holds the lock


def test_the_lock_serialises_processes_with_the_same_key_and_image(tmp_path):
    queue = PROCESSES.Queue()
    contender_waits = PROCESSES.Event()
    child = PROCESSES.Process(target=_hold_lock, args=(tmp_path, queue, contender_waits))
    child.start()
    queue.get(timeout=10)
    contender_waits.set()
    with order_lock(tmp_path, "acct", "img"):
        got_it = time.monotonic()
    last_held = queue.get(timeout=10)
    child.join()
    assert got_it >= last_held
    assert lock_path(tmp_path, "acct", "a") != lock_path(tmp_path, "acct", "b")
    assert lock_path(tmp_path, "acct", "a") != lock_path(tmp_path, "other", "a")


def _claim(directory, server_id, queue, done):
    queue.put(ServerClaims(directory, "acct").claim(server_id))
    done.wait(timeout=10)  # alive, holding the claim, until the test has tried it


def test_a_live_claim_of_another_process_is_respected_a_dead_one_is_not(tmp_path):
    queue = PROCESSES.Queue()
    done = PROCESSES.Event()
    child = PROCESSES.Process(target=_claim, args=(tmp_path, 7, queue, done))
    child.start()
    assert queue.get(timeout=10) is True
    mine = ServerClaims(tmp_path, "acct")
    assert mine.claim(7) is False
    assert mine.claim(8) is True
    done.set()
    child.join()
    assert mine.claim(7) is True  # its holder is gone
    later = ServerClaims(tmp_path, "acct", clock=lambda: time.time() + CLAIM_TTL + 1)
    later.pid = os.getpid() + 1_000_000
    assert later.claim(8) is True  # lapsed
    mine.release(7)


def test_shared_reads_serve_fresh_answers_and_refetch_stale_ones(tmp_path):
    now = [1000.0]
    fetched = []

    def fetch():
        fetched.append(now[0])
        return [{"id": len(fetched)}]

    reads = SharedOrderReads(tmp_path, "acct", fetch, 1.5, clock=lambda: now[0])
    other = SharedOrderReads(tmp_path, "acct", lambda: [{"id": -1}], 1.5, clock=lambda: now[0])
    assert reads() == [{"id": 1}]
    now[0] += 1.0
    assert other() == [{"id": 1}]  # another process reuses the fresh read
    now[0] += 1.0
    assert reads() == [{"id": 2}] and len(fetched) == 2


def test_shared_reads_keep_only_the_fields_an_order_is_read_by(tmp_path):
    raw = {"id": 1, "si": 2, "ct": 3, "ssh_password": "secret", "env": {"A": "b"}, "unknown": 1}
    reads = SharedOrderReads(tmp_path, "acct", lambda: [raw], 1.5)
    assert reads() == [{"id": 1, "si": 2, "ct": 3}]
    stored = next(tmp_path.glob("orders-*.json")).read_text()
    assert "secret" not in stored and "env" not in stored and "unknown" not in stored


def test_shared_reads_fetch_afresh_over_a_torn_or_foreign_file_or_one_from_the_future(tmp_path):
    now = [1000.0]
    reads = SharedOrderReads(tmp_path, "acct", lambda: [{"id": 1}], 1.5, clock=lambda: now[0])
    for content in ("{not json", '{"at": "soon", "orders": []}', '{"at": 999.5, "orders": {}}',
                    '{"at": 1000.5, "orders": [{"id": 9}]}'):
        reads.path.write_text(content)
        assert reads() == [{"id": 1}]
        assert json.loads(reads.path.read_text()) == {"at": 1000.0, "orders": [{"id": 1}]}


def test_shared_reads_serving_a_fresh_answer_leave_the_file_alone(tmp_path):
    reads = SharedOrderReads(tmp_path, "acct", lambda: [{"id": 1}], 1.5, clock=lambda: 1000.0)
    reads.path.write_text('{"at": 999.5, "orders": [{"id": 9}]}')
    assert reads() == [{"id": 9}]
    assert reads.path.read_text() == '{"at": 999.5, "orders": [{"id": 9}]}'


def _hold_account_lock(directory, image, queue, contender_waits):
    with order_lock(directory, "acct", image), account_lock(directory, "acct"):
        queue.put(time.monotonic())
        contender_waits.wait(timeout=10)
        time.sleep(0.1)
        queue.put(time.monotonic())


def test_the_account_lock_serialises_runs_of_other_images_and_nests_inside_the_image_lock(tmp_path):
    queue = PROCESSES.Queue()
    contender_waits = PROCESSES.Event()
    child = PROCESSES.Process(target=_hold_account_lock, args=(tmp_path, "img-a", queue, contender_waits))
    child.start()
    queue.get(timeout=10)
    contender_waits.set()
    with order_lock(tmp_path, "acct", "img-b"):  # another image: not held by the child
        with account_lock(tmp_path, "acct"):
            got_it = time.monotonic()
    last_held = queue.get(timeout=10)
    child.join()
    assert got_it >= last_held
    assert account_lock_path(tmp_path, "acct") not in {lock_path(tmp_path, "acct", "img-a"),
                                                       lock_path(tmp_path, "acct", "img-b")}
    assert account_lock_path(tmp_path, "acct") != account_lock_path(tmp_path, "other")
