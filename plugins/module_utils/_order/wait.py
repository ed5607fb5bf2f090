"""Readiness: an order is ready when it is listed, its SSH endpoint is known and that endpoint answers with a banner.

The API lists an order (and even its host and port) minutes before sshd in the container accepts connections, so
only a TCP connection that answers `SSH-...` counts. Polling `my_orders` goes through the client, hence through the
controller-wide rate limiter; the banner probe is plain TCP and costs no API call.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.orders import normalize_order

STAGE_LISTED = "listed in my_orders"
STAGE_ENDPOINT = "SSH endpoint known (pub_cluster and the public port of container port 22)"
STAGE_BANNER = "SSH answering with its banner"
STAGE_READY = "ready"
BANNER_PREFIX = b"SSH-"
POLL_INTERVAL = 1.0
PROBE_TIMEOUT = 5.0
# Between banner probes alone (no API call): short, sshd usually answers within seconds of its port appearing.
PROBE_INTERVAL = 0.5


def ssh_banner(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> str | None:
    """The first line a TCP server at host:port sends, when it starts with `SSH-`; None otherwise."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 256:
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    if not data.startswith(BANNER_PREFIX):
        return None
    return data.split(b"\n", 1)[0].decode("ascii", "replace").strip()


class WaitTimeout(CloreError):
    """Not every order got ready before the deadline; `stages` says how far each one got."""

    def __init__(self, message: str, stages: dict[int, str]):
        super().__init__(message)
        self.stages = stages


class OrderEnded(CloreError):
    """An order left my_orders while we waited for it (cancelled, outbid, expired)."""

    def __init__(self, message: str, order_ids: list[int]):
        super().__init__(message)
        self.order_ids = order_ids


def wait_ready(
    client,
    order_ids: Iterable[int],
    deadline: float,
    *,
    need_ssh: bool = True,
    read_orders: Callable[[], list] | None = None,
    poll_interval: float = POLL_INTERVAL,
    probe: Callable[[str, int], str | None] = ssh_banner,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[int, dict]:
    """Poll until every order is ready or `deadline` (a `clock()` value) passes; the ready orders, normalised.

    With need_ssh false (no port 22 asked for) an order is ready once it is listed. `read_orders` replaces
    client.my_orders (to share reads between processes).
    Raises WaitTimeout naming the stage each pending order reached, or OrderEnded.
    """
    pending = set(order_ids)
    ready: dict[int, dict] = {}
    stages = {order_id: "not yet " + STAGE_LISTED for order_id in pending}
    known: dict[int, dict] = {}
    while True:
        # my_orders is read only while some order still lacks its endpoint: the banner probe needs no API call.
        if any(not _has_endpoint(known.get(order_id), need_ssh) for order_id in pending):
            listed = _active_by_id((read_orders or client.my_orders)())
            ended = sorted(order_id for order_id in pending if order_id in known and order_id not in listed)
            if ended:
                raise OrderEnded(f"order {', '.join(map(str, ended))} ended while waiting for it to get ready", ended)
            known.update({order_id: listed[order_id] for order_id in pending if order_id in listed})
        for order_id in sorted(pending):
            order = known.get(order_id)
            if order is None:
                continue
            stages[order_id] = _stage(order, need_ssh, probe)
            if stages[order_id] == STAGE_READY:
                ready[order_id] = order
        pending -= set(ready)
        if not pending:
            return ready
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(_timeout_message(stages, pending), {i: stages[i] for i in pending})
        reads_api = any(not _has_endpoint(known.get(order_id), need_ssh) for order_id in pending)
        sleep(min(poll_interval if reads_api else min(poll_interval, PROBE_INTERVAL), remaining))


def _has_endpoint(order: dict | None, need_ssh: bool) -> bool:
    if order is None:
        return False
    return not need_ssh or bool(order.get("ssh_host") and order.get("ssh_port"))


def _stage(order: dict, need_ssh: bool, probe: Callable[[str, int], str | None]) -> str:
    """How far one listed order got: the first unmet stage, or STAGE_READY."""
    if not need_ssh:
        return STAGE_READY
    if not order.get("ssh_host") or not order.get("ssh_port"):
        return "listed, waiting for: " + STAGE_ENDPOINT
    if probe(order["ssh_host"], order["ssh_port"]) is None:
        return f"SSH endpoint {order['ssh_host']}:{order['ssh_port']} known, waiting for: {STAGE_BANNER}"
    return STAGE_READY


def _active_by_id(raw_orders: list[dict]) -> dict[int, dict]:
    found = {}
    for raw in raw_orders:
        try:
            order = normalize_order(raw)
        except ValueError:
            continue
        if not order["expired"]:
            found[order["id"]] = order
    return found


def _timeout_message(stages: dict[int, str], pending: set[int]) -> str:
    parts = [f"order {order_id}: {stages[order_id]}" for order_id in sorted(pending)]
    return "timed out waiting for the orders to get ready (" + "; ".join(parts) + ")"
