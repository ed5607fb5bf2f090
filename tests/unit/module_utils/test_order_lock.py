"""Coordination between clore_order processes: the per-image lock, server claims and shared readiness reads."""
from __future__ import annotations

import multiprocessing
import os
import time

from ansible_collections.clore.ai.plugins.module_utils.order_lock import (
    CLAIM_TTL,
    ServerClaims,
    SharedOrderReads,
    lock_path,
    order_lock,
)


def _hold_lock(directory, queue):
    with order_lock(directory, "http://x/v1", "key", "img"):
        queue.put(time.monotonic())
        time.sleep(0.5)
    queue.put(time.monotonic())


def test_the_lock_serialises_processes_with_the_same_key_and_image(tmp_path):
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_hold_lock, args=(tmp_path, queue))
    child.start()
    queue.get(timeout=10)
    with order_lock(tmp_path, "http://x/v1", "key", "img"):
        got_it = time.monotonic()
    released = queue.get(timeout=10)
    child.join()
    assert got_it >= released
    assert lock_path(tmp_path, "u", "key", "a") != lock_path(tmp_path, "u", "key", "b")
    assert "key" not in lock_path(tmp_path, "u", "key", "a").name


def _claim(directory, server_id, queue):
    queue.put(ServerClaims(directory, "u", "k").claim(server_id))
    time.sleep(1.0)


def test_a_live_claim_of_another_process_is_respected_a_dead_one_is_not(tmp_path):
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_claim, args=(tmp_path, 7, queue))
    child.start()
    assert queue.get(timeout=10) is True
    mine = ServerClaims(tmp_path, "u", "k")
    assert mine.claim(7) is False
    assert mine.claim(8) is True
    child.join()
    assert mine.claim(7) is True  # its holder is gone
    later = ServerClaims(tmp_path, "u", "k", clock=lambda: time.time() + CLAIM_TTL + 1)
    later.pid = os.getpid() + 1_000_000
    assert later.claim(8) is True  # lapsed
    mine.release(7)


def test_shared_reads_serve_fresh_answers_and_refetch_stale_ones(tmp_path):
    now = [1000.0]
    fetched = []

    def fetch():
        fetched.append(now[0])
        return [{"id": len(fetched)}]

    reads = SharedOrderReads(tmp_path, "u", "k", fetch, 1.5, clock=lambda: now[0])
    other = SharedOrderReads(tmp_path, "u", "k", lambda: [{"id": -1}], 1.5, clock=lambda: now[0])
    assert reads() == [{"id": 1}]
    now[0] += 1.0
    assert other() == [{"id": 1}]  # another process reuses the fresh read
    now[0] += 1.0
    assert reads() == [{"id": 2}] and len(fetched) == 2
