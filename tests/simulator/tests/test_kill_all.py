"""clore_sim.ssh.kill_all: stopping an order's processes never reaches another order's (parallel simulators)."""
from __future__ import annotations

import subprocess

import pytest
from clore_sim import ssh


def test_kill_all_spares_a_namespace_number_reused_after_the_order_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    order_process = subprocess.Popen(["sleep", "60"])  # ends on SIGTERM, within the grace
    other_order = subprocess.Popen(["sleep", "60"])
    found = []

    def victims(pid: int, namespace: str | None) -> set[int]:
        # First the order's processes; after the grace, the namespace number names another order's new namespace.
        found.append(pid)
        return {order_process.pid} if len(found) == 1 else {other_order.pid}

    monkeypatch.setattr(ssh, "_victims", victims)
    try:
        ssh.kill_all(order_process.pid, "mnt:[4026532999]", grace=10)
        assert order_process.wait(timeout=10) == -15
        with pytest.raises(subprocess.TimeoutExpired):  # still running a second later: not killed
            other_order.wait(timeout=1)
    finally:
        for process in (order_process, other_order):
            process.kill()
            process.wait()
