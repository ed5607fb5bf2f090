"""A request's arrival is when the machine received it, however late a handler thread reads it."""
from __future__ import annotations

import io
import socket
import sys
import time

import pytest
from clore_sim import arrival

LATE = 0.4  # how long the reading side waits before it reads: a handler thread descheduled on a busy machine
SLACK = 0.05  # the kernel's stamp and time.time() read one clock; this is for rounding only


@pytest.fixture
def pair():
    """make(stamped) -> (client, server side, stamping on) of a fresh connection on 127.0.0.1; all closed after."""
    made: list[socket.socket] = []

    def make(stamped: bool) -> tuple[socket.socket, socket.socket, bool]:
        listener = socket.create_server(("127.0.0.1", 0))
        made.append(listener)
        enabled = arrival.enable(listener) if stamped else False
        if enabled:
            _wait_until_stamping(listener)
        client = socket.create_connection(listener.getsockname())
        made.append(client)
        server, _peer = listener.accept()
        made.append(server)
        return client, server, enabled

    yield make
    for sock in made:
        sock.close()


def _wait_until_stamping(listener: socket.socket) -> None:
    """The kernel turns stamping on a moment after the first socket asks (later on a busy machine): probe until a
    read brings a stamp."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.create_connection(listener.getsockname()) as probe:
            connection, _peer = listener.accept()
            with connection:
                probe.sendall(b"x")
                _data, ancillary, _flags, _address = connection.recvmsg(1, socket.CMSG_SPACE(16))
                if ancillary:
                    return
        time.sleep(0.01)
    pytest.fail("the kernel never stamped a read")


def _read_request(reader: arrival.StampedReader, buffered: io.BufferedReader) -> tuple[float, bytes]:
    reader.mark()
    line = buffered.readline()
    buffered.readline()  # the blank line that ends the headers
    return reader.arrival(), line


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive timestamps are read on Linux only")
def test_a_request_read_late_keeps_the_time_it_arrived(pair) -> None:
    client, server, enabled = pair(stamped=True)
    assert enabled
    reader = arrival.StampedReader(server)
    buffered = io.BufferedReader(reader)
    # The second request comes on the same kept-alive connection.
    for request in (b"GET /v1/wallets HTTP/1.1\r\n", b"GET /v1/my_orders HTTP/1.1\r\n"):
        before = time.time()
        client.sendall(request + b"\r\n")
        after = time.time()
        time.sleep(LATE)
        stamp, line = _read_request(reader, buffered)
        assert line == request
        # Within the send, not LATE later when it was read.
        assert before - SLACK <= stamp <= after + SLACK, (stamp - before, after - before)


def test_without_kernel_stamps_the_read_stands_in(pair) -> None:
    client, server, _enabled = pair(stamped=False)
    reader = arrival.StampedReader(server)
    buffered = io.BufferedReader(reader)
    sent = time.time()
    client.sendall(b"GET /v1/wallets HTTP/1.1\r\n\r\n")
    time.sleep(LATE)
    stamp, _line = _read_request(reader, buffered)
    assert stamp >= sent + LATE


def test_a_request_that_came_with_the_previous_one_arrived_with_it(pair) -> None:
    client, server, _enabled = pair(stamped=True)
    reader = arrival.StampedReader(server)
    buffered = io.BufferedReader(reader)
    client.sendall(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")  # pipelined: one read brings both
    first, line_a = _read_request(reader, buffered)
    time.sleep(0.1)
    second, line_b = _read_request(reader, buffered)
    assert (line_a, line_b) == (b"GET /a HTTP/1.1\r\n", b"GET /b HTTP/1.1\r\n")
    assert second == first
