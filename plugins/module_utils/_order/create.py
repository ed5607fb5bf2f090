"""Exactly-once renting of one server: create, then find the new order in my_orders; never create twice.

create_order answers without an order id, so the new order is found in my_orders by its server (`si`), its image and
its creation time (`ct` no earlier than the attempt, less a clock-skew allowance), among ids not seen before. When the
outcome of a create is unclear (timeout, dropped connection, HTTP 5xx, code 1) the order is looked for, for a bounded
time, before anything else; a create is repeated only once the order is proven absent.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.args import env_strings, normalize_image, ports_for_order
from ansible_collections.clore.ai.plugins.module_utils.orders import normalize_order

# Clore's clock and ours may disagree a little; an order created this much "before" the attempt still matches.
CLOCK_SKEW = 120.0
CONFIRM_POLL = 1.0
# A successful create may take a few seconds to be listed.
CONFIRM_TIMEOUT = 60.0


@dataclass
class Created:
    """One order this run brought into being: `adopted` when found after an unclear create."""

    order: dict
    adopted: bool


class NotListed(CloreError):
    """create_order said yes, yet the order never showed up in my_orders within the bound."""


def create_body(params: dict, server_id: int, currency: str) -> dict:
    """The create_order body for one server, from clore_order's parameters (secrets included: never log it)."""
    body: dict = {
        "renting_server": server_id,
        "type": params["type"],
        "currency": currency,
        "image": normalize_image(params["image"]),
        "ports": ports_for_order(params.get("ports")),
    }
    if params["type"] == "spot":
        body["spotprice"] = params["spot_price"]
    if params.get("env"):
        body["env"] = env_strings(params["env"])
    for name in ("ssh_key", "ssh_password", "jupyter_token", "command", "required_price", "autossh_entrypoint"):
        if params.get(name) is not None:
            body[name] = params[name]
    return body


class ExactlyOnceCreator:
    """Creates orders for one client and finds each one in my_orders; remembers every order id it has seen."""

    def __init__(
        self,
        client,
        known_ids: set[int],
        *,
        reconcile_timeout: float = 60.0,
        confirm_timeout: float = CONFIRM_TIMEOUT,
        poll_interval: float = CONFIRM_POLL,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.known_ids = set(known_ids)
        self.reconcile_timeout = reconcile_timeout
        self.confirm_timeout = confirm_timeout
        self.poll_interval = poll_interval
        self.wall_clock = wall_clock
        self.clock = clock
        self.sleep = sleep

    def create(self, body: dict) -> Created:
        """Rent body's server exactly once. CloreApiError (not ambiguous) when Clore refuses: nothing was rented."""
        server_id = body["renting_server"]
        image = normalize_image(body["image"])
        repeated_after_absent = False
        while True:
            attempt_time = self.wall_clock()
            try:
                self.client.create_order(body)
            except CloreApiError as err:
                if not err.ambiguous:
                    if repeated_after_absent and err.reason == "server-already-rented":
                        # Our first, unclear create may have rented it after all and be listed late: look again.
                        found = self._find(server_id, image, attempt_time - self.reconcile_timeout - CLOCK_SKEW,
                                           self.reconcile_timeout)
                        if found is not None:
                            return self._remember(found, adopted=True)
                    raise
                found = self._find(server_id, image, attempt_time, self.reconcile_timeout)
                if found is not None:
                    return self._remember(found, adopted=True)
                if repeated_after_absent:
                    raise CloreError(
                        f"create_order for server {server_id} failed twice with an unclear outcome ({err}); "
                        f"no new order on that server was listed within {self.reconcile_timeout:.0f} s of either "
                        "attempt, so nothing was rented"
                    ) from None
                # Proven absent: one more try is safe.
                repeated_after_absent = True
                continue
            found = self._find(server_id, image, attempt_time, self.confirm_timeout)
            if found is None:
                raise NotListed(
                    f"create_order accepted server {server_id} but the order was not listed in my_orders within "
                    f"{self.confirm_timeout:.0f} s; it probably exists and costs money: check your orders before "
                    "running again"
                )
            return self._remember(found, adopted=False)

    def _remember(self, order: dict, adopted: bool) -> Created:
        self.known_ids.add(order["id"])
        return Created(order, adopted)

    def _find(self, server_id: int, image: str | None, attempt_time: float, timeout: float) -> dict | None:
        """Poll my_orders until a new order on server_id with this image appears, for at most `timeout` s."""
        deadline = self.clock() + timeout
        while True:
            for raw in self.client.my_orders():
                order = _read(raw)
                if order is not None and self._is_new_match(order, server_id, image, attempt_time):
                    return order
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            self.sleep(min(self.poll_interval, remaining))

    def _is_new_match(self, order: dict, server_id: int, image: str | None, attempt_time: float) -> bool:
        if order["id"] in self.known_ids or order["server_id"] != server_id or order["expired"]:
            return False
        if image is not None and normalize_image(order["image"]) != image:
            return False
        created_at = order.get("created_at")
        return created_at is None or created_at >= attempt_time - CLOCK_SKEW


def _read(raw: dict) -> dict | None:
    try:
        return normalize_order(raw)
    except ValueError:
        return None
