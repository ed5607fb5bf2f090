"""Public ports for orders. Several simulators may run on one machine at once (parallel tests): each port an order
holds is also locked in a lock file shared by every clore-sim on the machine, so no two orders get the same port."""
from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading
from pathlib import Path

LOCK_DIR = Path(tempfile.gettempdir()) / "clore-sim-ports"


class PortBook:
    def __init__(self, listen: str, port_range: tuple[int, int]) -> None:
        self.listen = listen
        self.low, self.high = port_range
        self._held: dict[int, int] = {}  # port -> fd of its lock file
        self._lock = threading.Lock()
        # Start the search at a random place so that simulators started together rarely race for one port.
        self._next = random.randint(self.low, self.high)

    def allocate(self, used: set[int]) -> int:
        """A port nobody uses: not by our orders, not locked by another simulator, and bindable now."""
        with self._lock:
            span = self.high - self.low + 1
            for step in range(span):
                port = self.low + (self._next - self.low + step) % span
                if port in used or port in self._held:
                    continue
                if self._claim(port):
                    self._next = port + 1
                    return port
        raise RuntimeError(f"no free port left in {self.low}-{self.high}")

    def hold(self, port: int) -> bool:
        """Claim a port an order already has (after a restart); False when someone else holds it now."""
        with self._lock:
            return port in self._held or self._claim(port, probe=False)

    def release(self, *ports: int) -> None:
        for port in ports:
            with self._lock:
                fd = self._held.pop(port, None)
            if fd is not None:
                os.close(fd)

    def _claim(self, port: int, probe: bool = True) -> bool:
        LOCK_DIR.mkdir(mode=0o1777, exist_ok=True)
        fd = os.open(LOCK_DIR / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        if probe:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((self.listen, port))
                except OSError:
                    os.close(fd)
                    return False
        self._held[port] = fd
        return True
