"""Readiness by SSH banner: the TCP probe against real sockets, and the polling stages on a simulated clock."""
from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.wait import (
    MIN_PROBE_TIMEOUT,
    PROBE_TIMEOUT,
    OrderEnded,
    WaitTimeout,
    ssh_banner,
    wait_ready,
)
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order

from order_fakes import Clock, FakeClore, server


def serve_once(greeting: bytes) -> int:
    """A one-connection TCP server on 127.0.0.1 that sends `greeting`; its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer():
        conn, _addr = listener.accept()
        with conn:
            conn.sendall(greeting)
        listener.close()

    threading.Thread(target=answer, daemon=True).start()
    return listener.getsockname()[1]


def test_banner_of_an_ssh_server_is_read():
    assert ssh_banner("127.0.0.1", serve_once(b"SSH-2.0-OpenSSH_9.6\r\n")) == "SSH-2.0-OpenSSH_9.6"


def test_other_servers_and_closed_ports_are_not_ready():
    assert ssh_banner("127.0.0.1", serve_once(b"HTTP/1.1 400 Bad Request\r\n")) is None
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert ssh_banner("127.0.0.1", port, timeout=1.0) is None


def fleet_of(*states: str) -> tuple[FakeClore, list[int]]:
    fake = FakeClore([server(i, 1.0) for i in range(1, len(states) + 1)])
    ids = []
    for i, state in enumerate(states, start=1):
        order = fake.add_order(i, "img")
        if state == "no-endpoint":
            order["pub_cluster"], order["tcp_ports"] = [], []
        ids.append(order["id"])
    return fake, ids


def test_ready_when_every_banner_answers_and_reads_stop_once_endpoints_are_known():
    fake, ids = fleet_of("up", "up")
    answers = iter([None, "SSH-2.0-x", "SSH-2.0-x", "SSH-2.0-x"])
    clock = Clock()
    ready = wait_ready(fake, ids, 60, probe=lambda h, p, t: next(answers), clock=clock.monotonic, sleep=clock.sleep)
    assert sorted(ready) == sorted(ids)
    assert fake.calls.count(("my_orders",)) == 1


def test_timeout_names_the_stage_of_each_pending_order():
    fake, ids = fleet_of("no-endpoint", "up")
    clock = Clock()
    with pytest.raises(WaitTimeout) as caught:
        wait_ready(fake, ids, 10, probe=lambda h, p, t: None, clock=clock.monotonic, sleep=clock.sleep)
    message = str(caught.value)
    assert f"order {ids[0]}: listed, waiting for: SSH endpoint known" in message
    assert f"order {ids[1]}: SSH endpoint 127.0.0.1:40000 known, waiting for: SSH answering" in message
    assert clock.mono == pytest.approx(10)


def test_unlisted_order_times_out_as_not_listed():
    fake, _ids = fleet_of()
    clock = Clock()
    with pytest.raises(WaitTimeout, match="order 77: not yet listed in my_orders"):
        wait_ready(fake, [77], 3, clock=clock.monotonic, sleep=clock.sleep)


def test_an_order_that_ends_while_waiting_is_reported():
    fake, ids = fleet_of("no-endpoint")
    clock = Clock()

    def end_it(seconds):
        clock.sleep(seconds)
        fake.orders[0]["expired"] = True

    with pytest.raises(OrderEnded, match=f"order {ids[0]} ended while waiting for it to get ready: my_orders lists "
                                         "this order as expired") as caught:
        wait_ready(fake, ids, 30, probe=lambda h, p, t: None, clock=clock.monotonic, sleep=end_it)
    assert caught.value.ended_ids == ids


def test_without_ssh_listed_is_ready():
    fake, ids = fleet_of("no-endpoint")
    assert list(wait_ready(fake, ids, 0, need_ssh=False, probe=lambda h, p, t: None)) == ids


def known_orders(fake, ids: list[int]) -> dict[int, dict]:
    """The orders as a caller (the create's confirmation) has just read them."""
    return {o["id"]: normalize_order(o) for o in fake.my_orders() if o["id"] in ids}


def test_wait_starts_from_the_orders_the_caller_just_read():
    fake, ids = fleet_of("up", "up")
    known = known_orders(fake, ids)
    fake.calls.clear()
    clock = Clock()
    ready = wait_ready(fake, ids, 60, known=known, probe=lambda h, p, t: "SSH-2.0-x", clock=clock.monotonic,
                       sleep=clock.sleep)
    assert sorted(ready) == sorted(ids)
    assert fake.calls == []  # every endpoint was known: only the banners were probed


def test_a_fleet_is_probed_at_once_not_one_order_after_another():
    fake, ids = fleet_of("up", "up", "up")
    # Every probe of a round waits for the others: probes made one after another would break the barrier.
    together = threading.Barrier(len(ids), timeout=30)

    def probe(host, port, timeout=PROBE_TIMEOUT):
        together.wait()
        return "SSH-2.0-x"

    assert sorted(wait_ready(fake, ids, 60, probe=probe)) == sorted(ids)


def test_no_probe_waits_past_the_deadline():
    fake, ids = fleet_of("up")
    clock = Clock()
    timeouts = []

    def silent(host, port, timeout=PROBE_TIMEOUT):  # a port that accepts and never sends a banner
        timeouts.append(timeout)
        clock.sleep(timeout)

    with pytest.raises(WaitTimeout, match="waiting for: SSH answering with its banner"):
        wait_ready(fake, ids, 12, probe=silent, clock=clock.monotonic, sleep=clock.sleep)
    assert max(timeouts) <= PROBE_TIMEOUT
    assert timeouts[-1] < PROBE_TIMEOUT  # the last probe got only the time that was left
    assert clock.mono <= 12 + MIN_PROBE_TIMEOUT


def test_an_order_that_ends_while_its_banner_is_awaited_is_reported_at_once():
    fake, ids = fleet_of("up", "up")
    fake.orders[0]["spot"] = True
    clock = Clock()
    probes = []

    def silent(host, port, timeout=PROBE_TIMEOUT):
        probes.append(port)
        if len(probes) == 2:
            fake.orders[0]["expired"] = True  # outbid
        return None

    with pytest.raises(OrderEnded) as caught:
        wait_ready(fake, ids, 600, probe=silent, clock=clock.monotonic, sleep=clock.sleep)
    assert str(caught.value) == (
        f"order {ids[0]} ended while waiting for it to get ready: my_orders lists this spot order as expired "
        "(outbid, cancelled, out of balance or past its rental length)")
    assert caught.value.order_ids == caught.value.ended_ids == [ids[0]]
    assert clock.mono < 600 / 10  # noticed by the next watch of my_orders, not at the deadline


def test_an_order_gone_from_every_listing_is_reported_as_not_found():
    fake, ids = fleet_of("no-endpoint")
    clock = Clock()

    def remove_it(seconds):
        clock.sleep(seconds)
        fake.orders.clear()

    with pytest.raises(OrderEnded, match="no longer listed in my_orders, not even among ended orders") as caught:
        wait_ready(fake, ids, 30, probe=lambda h, p, t: None, clock=clock.monotonic, sleep=remove_it)
    assert caught.value.order_ids == ids and caught.value.ended_ids == []


def test_a_stale_shared_read_without_the_order_does_not_end_it():
    fake, ids = fleet_of("no-endpoint")
    known = known_orders(fake, ids)
    reads = iter([[]])  # another process's read, made before this order was listed

    def shared_read():
        return next(reads, None) or fake.my_orders()

    fake.orders[0]["pub_cluster"], fake.orders[0]["tcp_ports"] = ["127.0.0.1"], ["22:40000"]
    clock = Clock()
    ready = wait_ready(fake, ids, 30, known=known, read_orders=shared_read, probe=lambda h, p, t: "SSH-2.0-x",
                       clock=clock.monotonic, sleep=clock.sleep)
    assert list(ready) == ids
