"""Readiness: an order is ready when it is listed, its SSH endpoint is known and that endpoint answers with a banner.

The API lists an order (and even its host and port) minutes before sshd in the container accepts connections, so
only a TCP connection that answers `SSH-...` counts. Polling `my_orders` goes through the client, hence through the
controller-wide rate limiter; the banner probe is plain TCP and costs no API call.

The wait ends by its deadline: the banners of a fleet are probed at once (one thread each), and no probe waits past
the time left. While banners are awaited, my_orders is still read every few seconds, so that an order that ends
(outbid, expired, cancelled elsewhere) is reported at once instead of at the deadline.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order

STAGE_LISTED = "listed in my_orders"
STAGE_ENDPOINT = "SSH endpoint known (pub_cluster and the public port of container port 22)"
STAGE_BANNER = "SSH answering with its banner"
STAGE_READY = "ready"
BANNER_PREFIX = b"SSH-"
POLL_INTERVAL = 1.0
PROBE_TIMEOUT = 5.0
# A probe made when (almost) no time is left still gets this long: a deadline alone never declares a port silent.
MIN_PROBE_TIMEOUT = 1.0
# Between banner probes alone (no API call): short, sshd usually answers within seconds of its port appearing.
PROBE_INTERVAL = 0.5
# While only banners are awaited, my_orders is read this often, to notice an order that ended.
WATCH_INTERVAL = 3.0
# Probes run in threads, at most this many at once (a fleet larger than this is probed in batches).
MAX_PARALLEL_PROBES = 32

ACTIVE, ENDED, UNKNOWN = "active", "ended", "unknown"


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
    """Orders left my_orders while we waited for them (cancelled, outbid, expired).

    `order_ids` are all of them, `ended_ids` those my_orders lists as expired (the others could not be found), and
    `reasons` says what is known of each.
    """

    def __init__(self, message: str, order_ids: list[int], ended_ids: list[int], reasons: dict[int, str]):
        super().__init__(message)
        self.order_ids = order_ids
        self.ended_ids = ended_ids
        self.reasons = reasons


def wait_ready(
    client,
    order_ids: Iterable[int],
    deadline: float,
    *,
    need_ssh: bool = True,
    read_orders: Callable[[], list] | None = None,
    known: dict[int, dict] | None = None,
    poll_interval: float = POLL_INTERVAL,
    watch_interval: float = WATCH_INTERVAL,
    probe: Callable[[str, int, float], str | None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[int, dict]:
    """Poll until every order is ready or `deadline` (a `clock()` value) passes; the ready orders, normalised.

    With need_ssh false (no port 22 asked for) an order is ready once it is listed. `read_orders` replaces
    client.my_orders (to share reads between processes). `known` holds orders (normalised) just read by the caller,
    for example by a create's confirmation: the wait starts from them instead of reading my_orders again.
    `probe(host, port, timeout)` defaults to ssh_banner; each probe's timeout is clipped to the time left.
    Raises WaitTimeout naming the stage each pending order reached, or OrderEnded with each ended order's reason.
    """
    read = read_orders or client.my_orders
    probe = probe or ssh_banner
    pending = set(order_ids)
    ready: dict[int, dict] = {}
    stages = {order_id: "not yet " + STAGE_LISTED for order_id in pending}
    known = {order_id: order for order_id, order in (known or {}).items() if order_id in pending}
    last_read = clock() if known else None
    while True:
        missing_endpoint = any(not _has_endpoint(known.get(order_id), need_ssh) for order_id in pending)
        if missing_endpoint or last_read is None or clock() - last_read >= watch_interval:
            listed = _active_by_id(read())
            last_read = clock()
            gone = sorted(order_id for order_id in pending if order_id in known and order_id not in listed)
            if gone:
                listed.update(_confirm_ended(client, gone))  # raises OrderEnded unless a listing glitch
            known.update({order_id: listed[order_id] for order_id in pending if order_id in listed})
        stages.update(_stages({i: known[i] for i in pending if i in known}, need_ssh, probe, deadline, clock))
        ready.update({order_id: known[order_id] for order_id in pending if stages[order_id] == STAGE_READY})
        pending -= set(ready)
        if not pending:
            return ready
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(_timeout_message(stages, pending), {i: stages[i] for i in pending})
        reads_api = any(not _has_endpoint(known.get(order_id), need_ssh) for order_id in pending)
        sleep(min(poll_interval if reads_api else min(poll_interval, PROBE_INTERVAL), remaining))


def order_states(raw_orders: list) -> dict[int, tuple[str, dict]]:
    """Order id -> (ACTIVE or ENDED, the normalised order), from a my_orders answer read with return_completed."""
    states: dict[int, tuple[str, dict]] = {}
    for raw in raw_orders:
        try:
            order = normalize_order(raw)
        except ValueError:
            continue
        # An id listed both ways (it should not be) counts as active: money is assumed at stake.
        if states.get(order["id"], ("",))[0] != ACTIVE:
            states[order["id"]] = (ENDED if order["expired"] else ACTIVE, order)
    return states


def end_reason(order: dict) -> str:
    """What my_orders tells about an ended order (the API gives no reason: name what ends an order of its kind)."""
    causes = "outbid, cancelled, out of balance or past its rental length" if order.get("spot") \
        else "cancelled, out of balance or past its rental length"
    kind = "spot order" if order.get("spot") else "order"
    return f"my_orders lists this {kind} as expired ({causes})"


def _confirm_ended(client, gone: list[int]) -> dict[int, dict]:
    """Orders that left the active listing, read again with the ended ones: raise OrderEnded naming each reason.

    Returns the orders that turn out to be active after all (a listing that missed them once), to keep waiting.
    """
    try:
        states = order_states(client.my_orders(return_completed=True))
    except CloreError as err:
        reasons = {order_id: f"it left the active orders (its end could not be confirmed: {err})" for order_id in gone}
        raise OrderEnded(_ended_message(reasons), gone, [], reasons) from None
    still_active = {order_id: states[order_id][1] for order_id in gone
                    if states.get(order_id, ("",))[0] == ACTIVE}
    reasons = {}
    for order_id in gone:
        if order_id in still_active:
            continue
        if order_id in states:
            reasons[order_id] = end_reason(states[order_id][1])
        else:
            reasons[order_id] = "it is no longer listed in my_orders, not even among ended orders"
    if reasons:
        ended = sorted(order_id for order_id in reasons if order_id in states)
        raise OrderEnded(_ended_message(reasons), sorted(reasons), ended, reasons)
    return still_active


def _ended_message(reasons: dict[int, str]) -> str:
    parts = [f"order {order_id} ended while waiting for it to get ready: {reason}"
             for order_id, reason in sorted(reasons.items())]
    return "; ".join(parts)


def _has_endpoint(order: dict | None, need_ssh: bool) -> bool:
    if order is None:
        return False
    return not need_ssh or bool(order.get("ssh_host") and order.get("ssh_port"))


def _stages(orders: dict[int, dict], need_ssh: bool, probe, deadline: float, clock) -> dict[int, str]:
    """How far each listed order got: the first unmet stage, or STAGE_READY. Banners are probed in parallel."""
    stages = {}
    endpoints = {}
    for order_id, order in orders.items():
        if not need_ssh:
            stages[order_id] = STAGE_READY
        elif not _has_endpoint(order, need_ssh):
            stages[order_id] = "listed, waiting for: " + STAGE_ENDPOINT
        else:
            endpoints[order_id] = (order["ssh_host"], order["ssh_port"])

    def probe_one(endpoint: tuple[str, int]) -> str | None:
        # Clipped when the probe starts, not when the round does: a batch that queued still ends by the deadline.
        timeout = max(min(PROBE_TIMEOUT, deadline - clock()), MIN_PROBE_TIMEOUT)
        return probe(endpoint[0], endpoint[1], timeout)

    ids = sorted(endpoints)
    if len(ids) == 1:
        banners = [probe_one(endpoints[ids[0]])]
    elif ids:
        with ThreadPoolExecutor(max_workers=min(len(ids), MAX_PARALLEL_PROBES)) as pool:
            banners = list(pool.map(probe_one, [endpoints[i] for i in ids]))
    else:
        banners = []
    for order_id, banner in zip(ids, banners):
        host, port = endpoints[order_id]
        stages[order_id] = STAGE_READY if banner is not None else \
            f"SSH endpoint {host}:{port} known, waiting for: {STAGE_BANNER}"
    return stages


def _active_by_id(raw_orders: list[dict]) -> dict[int, dict]:
    return {order_id: order for order_id, (state, order) in order_states(raw_orders).items() if state == ACTIVE}


def _timeout_message(stages: dict[int, str], pending: set[int]) -> str:
    parts = [f"order {order_id}: {stages[order_id]}" for order_id in sorted(pending)]
    return "timed out waiting for the orders to get ready (" + "; ".join(parts) + ")"
