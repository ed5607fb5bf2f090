"""Cancelling orders without blind repeats: an unclear cancel is checked in my_orders before it is sent again."""
from __future__ import annotations

import time
from collections.abc import Callable

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order

VERIFY_TIMEOUT = 30.0
VERIFY_POLL = 1.0


class CancelFailed(CloreError):
    """An order could not be cancelled; `cancelled` lists those that were, before it."""

    def __init__(self, message: str, cancelled: list[int]):
        super().__init__(message)
        self.cancelled = cancelled


def cancel_orders(
    client,
    order_ids: list[int],
    issue: str | None = None,
    *,
    verify_timeout: float = VERIFY_TIMEOUT,
    poll_interval: float = VERIFY_POLL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[int]:
    """Cancel each order once; the ids cancelled (all of them, or CancelFailed naming the first that failed)."""
    done: list[int] = []
    for order_id in order_ids:
        try:
            _cancel_one(client, order_id, issue, verify_timeout, poll_interval, clock, sleep)
        except CloreError as err:
            raise CancelFailed(f"could not cancel order {order_id}: {err}", done) from None
        done.append(order_id)
    return done


def _cancel_one(client, order_id, issue, verify_timeout, poll_interval, clock, sleep) -> None:
    for attempt in (1, 2):
        try:
            client.cancel_order(order_id, issue)
            return
        except CloreApiError as err:
            # Clear refusal: maybe it ended on its own meanwhile; otherwise the refusal stands.
            timeout = verify_timeout if err.ambiguous else 0.0
            if not _still_active(client, order_id, timeout, poll_interval, clock, sleep):
                return
            if not err.ambiguous or attempt == 2:
                raise
            # Proven still active after an unclear cancel: sending it once more is safe.


def _still_active(client, order_id, timeout, poll_interval, clock, sleep) -> bool:
    """Whether order_id stays among my active orders for `timeout` s (checked at least once)."""
    deadline = clock() + timeout
    while True:
        if not any(_active_id(raw) == order_id for raw in client.my_orders()):
            return False
        remaining = deadline - clock()
        if remaining <= 0:
            return True
        sleep(min(poll_interval, remaining))


def check_order_known(client, order_id: int, *, missing_ok: bool, issue: str | None, warn) -> None:
    """state absent by order_id, with no such active order: an id the key never had (active or ended) is most likely
    mistyped, and cancelling nothing would hide it. CloreConfigError naming order_id, unless missing_ok."""
    if any(_order_id(raw) == order_id for raw in client.my_orders(return_completed=True)):
        return  # ended already: absent as asked
    if not missing_ok:
        raise CloreConfigError(
            f"order_id {order_id} is not an order of this API key, active or ended: check the id "
            "(missing_ok: true accepts an id that may never have existed)",
            option="order_id",
        )
    if issue:
        warn(f"issue was not sent: order {order_id} is not an order of this API key (missing_ok)")


def _order_id(raw) -> int | None:
    """The id of a listed order, read leniently: an ended order need not be complete to prove the id existed."""
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _active_id(raw: dict) -> int | None:
    try:
        order = normalize_order(raw)
    except ValueError:
        return None
    return None if order["expired"] else order["id"]
