"""Readiness by SSH banner: the TCP probe against real sockets, and the polling stages on a simulated clock."""
from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.wait import (
    OrderEnded,
    WaitTimeout,
    ssh_banner,
    wait_ready,
)

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
    ready = wait_ready(fake, ids, 60, probe=lambda h, p: next(answers), clock=clock.monotonic, sleep=clock.sleep)
    assert sorted(ready) == sorted(ids)
    assert fake.calls.count(("my_orders",)) == 1


def test_timeout_names_the_stage_of_each_pending_order():
    fake, ids = fleet_of("no-endpoint", "up")
    clock = Clock()
    with pytest.raises(WaitTimeout) as caught:
        wait_ready(fake, ids, 10, probe=lambda h, p: None, clock=clock.monotonic, sleep=clock.sleep)
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

    with pytest.raises(OrderEnded, match=f"order {ids[0]} ended"):
        wait_ready(fake, ids, 30, probe=lambda h, p: None, clock=clock.monotonic, sleep=end_it)


def test_without_ssh_listed_is_ready():
    fake, ids = fleet_of("no-endpoint")
    assert list(wait_ready(fake, ids, 0, need_ssh=False, probe=lambda h, p: None)) == ids
