"""Exactly-once renting of one server: create, then find the new order in my_orders; never create twice.

create_order answers without an order id, so the new order is found in my_orders by its server (`si`) among ids not
seen before, created (`ct`) no earlier than the newest `ct` seen before the create; one with the same image (as a
Docker reference) is preferred, but after an accepted create an order listed under a rewritten image is still found.
That floor is Clore's own time, so recognition never depends on the controller's clock agreeing with Clore's. When
the outcome of a create is unclear (timeout, dropped connection, HTTP 5xx, code 1) the order is looked for, for a
bounded time, before anything else; a create is repeated only once the order is proven absent, and the server is never given up for
another one while its outcome is unknown.

Each create is recorded in the state dir before it is queued, marked each time it leaves the shared rate limiter for
the wire (see inflight.py), and the record cleared once the order is found or proven absent, so that a run killed in
between leaves its successor enough to find the order. While a create is unresolved the creator says so
(`in_flight`), and every order it found is in `made` before anything else is written, so that any later failure can
still name what may cost money.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ansible_collections.clore.ai.plugins.module_utils.client import DEFAULT_CREATE_INTERVAL, DEFAULT_RETRY_TIMEOUT
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.request import Container, Terms
from ansible_collections.clore.ai.plugins.module_utils.images import hub_spelling, same_image
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order

# Clore's clock may step back a little between its machines: an order this much older than the floor still matches.
CT_TOLERANCE = 5.0
CONFIRM_POLL = 1.0
# A successful create may take a few seconds to be listed.
CONFIRM_TIMEOUT = 60.0
NEXT_RUN_LOOKS = "the next run with this key and image looks for it before renting anything"
# Beyond the client's retry deadline and one create interval, how late a create may still leave (a slow machine).
SEND_SLACK = 5.0
_NONE = object()


@dataclass
class Created:
    """One order this run brought into being: `adopted` when found after an unclear create."""

    order: dict
    adopted: bool


@dataclass
class InFlight:
    """The create being sent: its server and image, and whether it has left for the wire yet."""

    server_id: int
    image: str | None
    sent: bool = False


class OutcomeUnknown(CloreError):
    """The create may have rented the server, yet its order was not found: never fail over to another server."""


class NotListed(OutcomeUnknown):
    """create_order said yes, yet the order never showed up in my_orders within the bound."""


def create_body(container: Container, terms: Terms, server_id: int, currency: str, bid: float | None = None) -> dict:
    """The create_order body for one server, from the task's request (secrets included: never log it).

    `bid`: the spot bid chosen for this server (with spot_max_price); spot_price otherwise."""
    body: dict = {
        "renting_server": server_id,
        "type": terms.type,
        "currency": currency,
        "image": hub_spelling(container.image),
        "ports": dict(container.ports),
    }
    if terms.spot:
        body["spotprice"] = bid if bid is not None else terms.spot_price
    if container.env:
        body["env"] = dict(container.env)
    body.update(container.as_is_fields())
    return body


class ExactlyOnceCreator:
    """Creates orders for one client and finds each one in my_orders; remembers every order id it has seen.

    `clore_time`: the newest `ct` the caller has seen (Clore's clock is at least that); `journal`: where creates in
    flight are recorded (inflight.InflightCreates), or None. The controller's own clock is never consulted: Clore's
    and ours may disagree by any amount.
    """

    def __init__(
        self,
        client,
        known_ids: set[int],
        *,
        clore_time: float | None = None,
        journal=None,
        reconcile_timeout: float = 60.0,
        confirm_timeout: float = CONFIRM_TIMEOUT,
        poll_interval: float = CONFIRM_POLL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.known_ids = set(known_ids)
        self.clore_time = clore_time
        self.journal = journal
        self.reconcile_timeout = reconcile_timeout
        self.confirm_timeout = confirm_timeout
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep
        self.in_flight: InFlight | None = None  # set from before the record is written until the outcome is known
        self.made: list[Created] = []  # every order found, the moment it is found

    def create(self, body: dict) -> Created:
        """Rent body's server exactly once.

        CloreApiError (not ambiguous) when Clore refuses the create: nothing was rented, another server may be
        tried. OutcomeUnknown when the order may exist but was not found: never try another server then.
        """
        server_id = body["renting_server"]
        image = hub_spelling(body["image"])
        floor = self.clore_time  # read before the create: the new order's ct is no earlier
        self.in_flight = InFlight(server_id, image)
        record = self._record(server_id, image, floor)
        repeated_after_absent = False
        while True:
            try:
                with self._marking_departures(record):
                    self.client.create_order(body)
            except CloreApiError as err:
                if not err.ambiguous:
                    if repeated_after_absent and err.reason == "server-already-rented":
                        # Our first, unclear create may have rented it after all and be listed late: look again.
                        found = self._find(server_id, image, floor, self.reconcile_timeout)
                        if found is not None:
                            return self._remember(found, True, record)
                        raise OutcomeUnknown(
                            f"create_order for server {server_id} had an unclear outcome, no order was listed within "
                            f"{self.reconcile_timeout:.0f} s, and the repeat was refused as server-already-rented: "
                            "the server may be rented by this run (listed late) and cost money, so no other server "
                            f"was tried; {NEXT_RUN_LOOKS}"
                        ) from None
                    self._clear(record)  # refused: nothing was rented
                    self.in_flight = None
                    raise
                found = self._find(server_id, image, floor, self.reconcile_timeout)
                if found is not None:
                    return self._remember(found, True, record)
                if repeated_after_absent:
                    self._clear(record)
                    self.in_flight = None
                    raise CloreError(
                        f"create_order for server {server_id} failed twice with an unclear outcome ({err}); "
                        f"no new order on that server was listed within {self.reconcile_timeout:.0f} s of either "
                        "attempt, so nothing was rented"
                    ) from None
                # Proven absent: one more try is safe.
                repeated_after_absent = True
                continue
            # Accepted: a new order on that server is ours even when listed under another spelling of the image.
            # A spot bid can be outbid and end before it is ever listed as active: it is looked for among the
            # ended orders too. Any other order that was never listed gets one look there at the end.
            spot_bid = "spotprice" in body
            found = self._find(server_id, image, floor, self.confirm_timeout, any_image=True, ended_too=spot_bid)
            if found is None and not spot_bid:
                found = self._find(server_id, image, floor, 0.0, any_image=True, ended_too=True)
            if found is None:
                raise NotListed(
                    f"create_order accepted server {server_id} but the order was not listed in my_orders within "
                    f"{self.confirm_timeout:.0f} s; it probably exists and costs money: check your orders "
                    f"({NEXT_RUN_LOOKS})"
                )
            return self._remember(found, False, record)

    def _record(self, server_id: int, image: str | None, floor: float | None):
        if self.journal is None:
            return None
        # The client gives up retrying (the limiter's waits included) after retry_timeout, one create interval at
        # least: no attempt of this create can leave later than that.
        window = (float(getattr(self.client, "retry_timeout", DEFAULT_RETRY_TIMEOUT))
                  + float(getattr(self.client, "create_interval", DEFAULT_CREATE_INTERVAL)) + SEND_SLACK)
        return self.journal.record(server_id, image, floor, window)

    @contextlib.contextmanager
    def _marking_departures(self, record) -> Iterator[None]:
        """While the block runs, mark the record sent each time a call leaves the client's shared limiter.

        The client asks its limiter before every attempt (the first and each retry after a 429) and sends at once
        when it is let go: that is the moment the create may reach the service. A client without a limiter sends
        at once."""
        limiter = getattr(self.client, "limiter", None)
        acquire = getattr(limiter, "acquire", None)
        own = getattr(limiter, "__dict__", None)
        if acquire is None or own is None:
            self._mark_sent(record)
            yield
            return

        def acquire_then_mark(*args, **kwargs):
            waited = acquire(*args, **kwargs)
            self._mark_sent(record)
            return waited

        before = own.get("acquire", _NONE)
        limiter.acquire = acquire_then_mark
        try:
            yield
        finally:  # the limiter as it was
            if before is _NONE:
                del limiter.acquire
            else:
                limiter.acquire = before

    def _mark_sent(self, record) -> None:
        if record is not None:
            self.journal.mark_sent(record)
        if self.in_flight is not None:
            self.in_flight.sent = True

    def _clear(self, record) -> None:
        if record is not None:
            self.journal.clear(record)

    def _remember(self, order: dict, adopted: bool, record) -> Created:
        # Known before the record is cleared: a failure to write it must not lose the order.
        created = Created(order, adopted)
        self.made.append(created)
        self.known_ids.add(order["id"])
        self.in_flight = None
        self._clear(record)
        return created

    def _find(self, server_id: int, image: str | None, floor: float | None, timeout: float,
              any_image: bool = False, ended_too: bool = False) -> dict | None:
        """Poll my_orders until a new order on server_id with this image appears, for at most `timeout` s.

        any_image (after an accepted create): a new order on that server with another image is taken when none
        has this one, since Clore may list the image under another spelling. After an unclear create it is not:
        an order of another image may be another task's, and this one then counts as absent.
        ended_too: read the ended orders as well and take an order that already ended (the newest, if several)."""
        deadline = self.clock() + timeout
        while True:
            try:
                raw_orders = self.client.my_orders(return_completed=True) if ended_too else self.client.my_orders()
            except CloreApiError as err:
                # Never a refusal of the create: the order may exist, so no other server may be tried.
                raise OutcomeUnknown(
                    f"create_order for server {server_id} was sent, then reading my_orders failed ({err}): the order "
                    f"may exist and cost money; {NEXT_RUN_LOOKS}"
                ) from None
            orders = [order for order in map(_read, raw_orders) if order is not None]
            new = [order for order in orders if order["id"] not in self.known_ids
                   and is_order_of_create(order, server_id, None, floor, include_ended=ended_too)]
            same = [order for order in new if image is None or same_image(order["image"], image)]
            if same or (new and any_image):
                # Ids grow: the newest is the one this create made, not an earlier order there that ended.
                return max(same or new, key=lambda order: order["id"])
            self._see(orders)
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            self.sleep(min(self.poll_interval, remaining))

    def _see(self, orders: list[dict]) -> None:
        """Clore's clock is at least the newest ct listed."""
        newest = newest_ct(orders)
        if newest is not None and (self.clore_time is None or newest > self.clore_time):
            self.clore_time = newest


def newest_ct(orders: list[dict]) -> float | None:
    """The newest creation time among normalised orders: a time Clore's clock has reached."""
    times = [o["created_at"] for o in orders if o.get("created_at") is not None]
    return float(max(times)) if times else None


def is_order_of_create(order: dict, server_id: int, image: str | None, floor: float | None, *,
                       include_ended: bool = False) -> bool:
    """Whether a normalised order can be the one a create for (server, image) made, sent when Clore's clock had
    reached `floor` (None: unknown). The caller excludes the ids it knew before the create."""
    if order["server_id"] != server_id or (order["expired"] and not include_ended):
        return False
    if image is not None and not same_image(order["image"], image):
        return False
    created_at = order.get("created_at")
    return floor is None or created_at is None or created_at >= floor - CT_TOLERANCE


def _read(raw: dict) -> dict | None:
    try:
        return normalize_order(raw)
    except ValueError:
        return None
