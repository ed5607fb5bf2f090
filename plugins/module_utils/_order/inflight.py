"""Creates in flight: a record of every create_order sent whose order has not been found yet, kept across processes.

A process that dies between sending create_order and finding its order (killed, crashed, the controller lost) would
leave an order that no result names, and a quick re-run that does not see it listed yet would rent again. So each
create is recorded in the state dir *before* it is sent (server, image, the controller's time, the newest Clore time
seen, the account digest; never a secret) and the record is cleared once the order is found or proven absent. The
next clore_order run for the same key and image reconciles every record left over before it decides anything: it
waits for the order to be listed and adopts it, or, once the record is older than the bound, drops it saying that
nothing was rented.

One JSON file per account (the digest of API URL and key, so two keys never mix), a durable records.locked_record:
replaced atomically under an fcntl lock held on a separate lock file.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.create import CONFIRM_POLL, is_order_of_create
from ansible_collections.clore.ai.plugins.module_utils.images import same_image
from ansible_collections.clore.ai.plugins.module_utils.orders import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.records import locked_record

# Beyond reconcile_timeout, how much longer a record's order may take to be listed before the record is dropped.
LISTING_MARGIN = 30.0


@dataclass
class InflightRecord:
    """One create_order that was about to be sent; `clore_floor` is the newest `ct` seen before it (or None)."""

    server_id: int
    image: str | None
    sent_at: float
    clore_floor: float | None
    account: str
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def from_json(cls, data: object) -> InflightRecord | None:
        """A record read back from the file; None for anything malformed (it is skipped, never fatal)."""
        if not isinstance(data, dict):
            return None
        try:
            floor = data.get("clore_floor")
            return cls(server_id=int(data["server_id"]), image=data.get("image"), sent_at=float(data["sent_at"]),
                       clore_floor=float(floor) if floor is not None else None, account=str(data["account"]),
                       token=str(data["token"]), pid=int(data.get("pid", 0)))
        except (KeyError, TypeError, ValueError):
            return None


class InflightCreates:
    """The in-flight records of one account in `directory`."""

    def __init__(self, directory: Path, account: str, clock: Callable[[], float] = time.time):
        self.directory = Path(directory)
        self.account = account
        self.path = self.directory / f"inflight-{account}.json"
        self.clock = clock

    def record(self, server_id: int, image: str | None, clore_floor: float | None) -> InflightRecord:
        """Write the record of a create about to be sent; it is on disk when this returns."""
        entry = InflightRecord(server_id, image, self.clock(), clore_floor, self.account)
        with self._locked() as records:
            records.append(entry)
        return entry

    def clear(self, record: InflightRecord) -> None:
        with self._locked() as records:
            records[:] = [r for r in records if r.token != record.token]

    def pending(self, image: str | None) -> list[InflightRecord]:
        """The records left for this image, oldest first."""
        with self._locked() as records:
            return sorted((r for r in records if same_image(r.image, image)), key=lambda r: r.sent_at)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[InflightRecord]]:
        """This account's records under the lock; the file is replaced (durably) only when the block changed them."""
        with locked_record(self.path, durable=True) as stored:
            rows = stored.get("records")
            parsed = (InflightRecord.from_json(row) for row in (rows if isinstance(rows, list) else []))
            records = [r for r in parsed if r is not None and r.account == self.account]
            before = [asdict(r) for r in records]
            yield records
            after = [asdict(r) for r in records if r.account == self.account]
            if after != before:
                stored.clear()
                stored["records"] = after


@dataclass
class Reconciled:
    """What reconciling the records left by earlier runs found: active orders to adopt, and what to tell the user."""

    adopted: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reconcile_inflight(
    client,
    journal: InflightCreates,
    image: str | None,
    reconcile_timeout: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_interval: float = CONFIRM_POLL,
) -> Reconciled:
    """Find the order of every create left in flight for this image, waiting for late listings within the bound.

    Called under the order lock of (account, image), so no live process is sending a create for this image.
    """
    records = journal.pending(image)
    outcome = Reconciled()
    taken: set[int] = set()
    bound = reconcile_timeout + LISTING_MARGIN
    while records:
        orders = _read_all(client)
        for record in list(records):
            order = next((o for o in orders if o["id"] not in taken and _matches(o, record)), None)
            if order is not None:
                taken.add(order["id"])
                journal.clear(record)
                records.remove(record)
                if order["expired"]:
                    outcome.warnings.append(
                        f"order {order['id']} on server {record.server_id}, rented by an earlier run that stopped "
                        "before finding it, has already ended"
                    )
                else:
                    outcome.adopted.append(order)
                continue
            if clock() - record.sent_at >= bound:
                journal.clear(record)
                records.remove(record)
                outcome.warnings.append(
                    f"an earlier run sent create_order for server {record.server_id} (image {record.image}) and "
                    f"stopped before finding the order; no such order was listed within {bound:.0f} s of it, so "
                    "nothing was rented by that create: its record was dropped"
                )
        if records:
            wait = min(r.sent_at + bound for r in records) - clock()
            sleep(max(0.0, min(poll_interval, wait)))
    return outcome


def _matches(order: dict, record: InflightRecord) -> bool:
    # An ended order is told apart from an older one of the same server only by Clore's time: without a floor,
    # only active orders can be the record's.
    if order["expired"] and record.clore_floor is None:
        return False
    return is_order_of_create(order, record.server_id, record.image, record.clore_floor, include_ended=True)


def _read_all(client) -> list[dict]:
    try:
        raw_orders = client.my_orders(return_completed=True)
    except CloreApiError as err:
        raise CloreError(
            f"an earlier run left a create_order in flight, and reading my_orders to find its order failed ({err}); "
            "nothing was rented by this run. Run again: the order is looked for before anything is created"
        ) from None
    orders = []
    for raw in raw_orders:
        try:
            orders.append(normalize_order(raw))
        except ValueError:
            continue
    return sorted(orders, key=lambda o: o["id"])
