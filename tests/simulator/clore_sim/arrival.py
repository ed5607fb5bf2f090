"""When a request reached this machine: the kernel's receive timestamp of its first bytes, not the moment a handler
thread got round to reading it.

A real API stamps a request at its edge, as the bytes come in. clore-sim's handler threads share two cores with
everything a busy controller runs; stamping in the thread would add the thread's own scheduling delay to the gap
between two requests and serve a 429 the real service would not. On Linux the listening socket asks for
SO_TIMESTAMPNS (inherited by each accepted connection) and the connection is read with recvmsg, so every read brings
the time the kernel received the data. Elsewhere, or when the kernel gives no stamp, the time of the read stands in.
Times are wall-clock (time.time()), the kernel's stamp as it is: converting it to time.monotonic() would take two
clock readings in a row, and a thread descheduled between them (clore-sim's threads share one GIL on a busy machine)
would move the arrival by as long as it waited.
"""
from __future__ import annotations

import io
import platform
import socket
import struct
import sys
import time

# SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) is 35 in the generic Linux socket ABI; Python's socket module does not name it.
# Architectures with their own numbering (alpha, mips, parisc, sparc) fall back to the time of the read.
_SO_TIMESTAMPNS = 35
_GENERIC_ABI = {"x86_64", "i686", "aarch64", "armv7l", "armv8l", "riscv64", "ppc64le", "s390x"}
_TIMESPEC = struct.Struct("qq")
_ANCILLARY_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)


def enable(listener: socket.socket) -> bool:
    """Ask the kernel to stamp what `listener`'s connections receive; False where it cannot."""
    if sys.platform != "linux" or platform.machine() not in _GENERIC_ABI:
        return False
    try:
        listener.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


class StampedReader(io.RawIOBase):
    """The connection's reading side, remembering when the kernel received what each read returned."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self._connection = connection
        self._first_since_mark: float | None = None
        self._last: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size, ancillary, _flags, _address = self._connection.recvmsg_into([buffer], _ANCILLARY_SPACE)
        stamp = _kernel_stamp(ancillary)
        if size:
            stamp = time.time() if stamp is None else stamp
            self._last = stamp
            if self._first_since_mark is None:
                self._first_since_mark = stamp
        return size

    def mark(self) -> None:
        """A new request starts here."""
        self._first_since_mark = None

    def arrival(self) -> float:
        """time.time() of the request begun at the last mark: the first read since, or (for bytes that came with
        an earlier read, behind the previous request) that read; now when nothing was read at all."""
        return self._first_since_mark or self._last or time.time()


def _kernel_stamp(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return seconds + nanoseconds / 1e9
    return None
