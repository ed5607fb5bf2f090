"""Creates in flight: a record of every create_order sent whose order has not been found yet, kept across processes.

A process that dies between sending create_order and finding its order (killed, crashed, the controller lost) would
leave an order that no result names, and a quick re-run that does not see it listed yet would rent again. So each
create is recorded in the state dir *before* it is queued (server, image, the controller's time, the newest Clore time
seen, who writes it, the latest moment it can still be sent; never a secret), marked each time the request leaves the
shared rate limiter for the wire, and cleared once the order is found or proven absent. The next clore_order run for
the same key and image reconciles every record left over before it decides anything: it waits for the order to be
listed and adopts it, or drops the record only once nothing can have been rented by it:
  - never marked sent, and its writer is gone (same boot, no such process): the create never left, drop it at once;
  - marked sent, and its writer is gone: no order listed within the bound after its *last* sending;
  - otherwise (the writer still runs, or it ran on another boot or machine, where a mark may have been lost): no order
    listed within the bound after the latest moment the create could have left (the client's retry deadline, which
    covers the limiter's waits and every 429 retry).
A create queued behind the limiter for a long while is therefore never dropped just because its record is old.

One JSON file per account (the digest of API URL and key, so two keys never mix), a durable records.locked_record:
replaced atomically under an fcntl lock held on a separate lock file. The sent mark is a file of its own per record,
whose modification time is the last sending: touching it costs one system call, nothing written or synced, between
the limiter and the wire (where any delay would bring two calls closer than the service allows).
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
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.records import locked_record

# Beyond reconcile_timeout, how much longer a record's order may take to be listed before the record is dropped.
LISTING_MARGIN = 30.0
# A record written before its latest sending time was kept (an older collection): the client's default retry
# deadline plus one create interval.
LEGACY_SEND_WINDOW = 125.0

# Who wrote a record, as far as this process can tell.
GONE = "gone"  # no such process on this boot: whatever it had not marked sent was never sent
RUNNING = "running"
UNKNOWN = "unknown"  # another boot or another machine: the process is gone, but its last mark may be lost


@dataclass
class InflightRecord:
    """One create_order about to be sent; `clore_floor` is the newest `ct` seen before it (or None).

    `queued_at`: when it was recorded; `send_by`: the latest moment it can still leave (the client gives up after);
    `boot` and `started` tell the writer `pid` apart from a later process that reuses its number."""

    server_id: int
    image: str | None
    queued_at: float
    clore_floor: float | None
    account: str
    send_by: float = 0.0
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    pid: int = field(default_factory=os.getpid)
    boot: str | None = None
    started: str | None = None

    @classmethod
    def from_json(cls, data: object) -> InflightRecord | None:
        """A record read back from the file; None for anything malformed (it is skipped, never fatal)."""
        if not isinstance(data, dict):
            return None
        try:
            floor = data.get("clore_floor")
            queued = float(data["queued_at"] if "queued_at" in data else data["sent_at"])
            send_by = data.get("send_by")
            return cls(server_id=int(data["server_id"]), image=data.get("image"), queued_at=queued,
                       clore_floor=float(floor) if floor is not None else None, account=str(data["account"]),
                       send_by=float(send_by) if send_by is not None else queued + LEGACY_SEND_WINDOW,
                       token=str(data["token"]), pid=int(data.get("pid", 0)),
                       boot=_text_or_none(data.get("boot")), started=_text_or_none(data.get("started")))
        except (KeyError, TypeError, ValueError):
            return None


class InflightCreates:
    """The in-flight records of one account in `directory`."""

    def __init__(self, directory: Path, account: str, clock: Callable[[], float] = time.time):
        self.directory = Path(directory)
        self.account = account
        self.path = self.directory / f"inflight-{account}.json"
        self.clock = clock

    def record(self, server_id: int, image: str | None, clore_floor: float | None,
               send_window: float = LEGACY_SEND_WINDOW) -> InflightRecord:
        """Write the record of a create about to be queued (it may leave up to `send_window` s from now); it is on
        disk when this returns."""
        now = self.clock()
        entry = InflightRecord(server_id, image, now, clore_floor, self.account, send_by=now + send_window,
                               boot=boot_id(), started=process_start(os.getpid()))
        with self._locked() as records:
            records.append(entry)
        return entry

    def mark_sent(self, record: InflightRecord) -> None:
        """The create is leaving for the wire now: the mark's time becomes this moment (one touch, no write)."""
        now = self.clock()
        path = self._mark_path(record)
        try:
            os.utime(path, (now, now))
        except FileNotFoundError:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.utime(path, (now, now))

    def sent_at(self, record: InflightRecord) -> float | None:
        """When the create last left for the wire, or None if it never did (as far as the mark tells)."""
        try:
            return self._mark_path(record).stat().st_mtime
        except FileNotFoundError:
            return None

    def clear(self, record: InflightRecord) -> None:
        with self._locked() as records:
            records[:] = [r for r in records if r.token != record.token]
        with contextlib.suppress(FileNotFoundError):
            self._mark_path(record).unlink()

    def pending(self, image: str | None) -> list[InflightRecord]:
        """The records left for this image, oldest first."""
        with self._locked() as records:
            return sorted((r for r in records if same_image(r.image, image)), key=lambda r: r.queued_at)

    def _mark_path(self, record: InflightRecord) -> Path:
        return self.directory / f"inflight-{self.account}-{record.token}.sent"

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


def boot_id() -> str | None:
    """This machine's boot id (Linux), or None where there is none to read."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def process_start(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (Linux), or None: it tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def writer_state(record: InflightRecord) -> str:
    """GONE, RUNNING or UNKNOWN: whether the process that wrote `record` may still send its create."""
    if record.boot is None or record.boot != boot_id():
        return UNKNOWN
    if record.pid == os.getpid() and record.started == process_start(os.getpid()):
        return GONE  # this very process, which reconciles before it sends anything
    started = process_start(record.pid)
    if started is None or (record.started is not None and started != record.started):
        return GONE
    return RUNNING


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


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
    state_of: Callable[[InflightRecord], str] = writer_state,
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
            since = _last_possible_send(journal, record, state_of(record))
            if since is None:
                journal.clear(record)
                records.remove(record)
                outcome.warnings.append(
                    f"an earlier run recorded a create_order for server {record.server_id} (image {record.image}) "
                    "and stopped before sending it (it was still waiting for the rate limiter), so nothing was "
                    "rented by it: its record was dropped"
                )
            elif clock() - since >= bound:
                journal.clear(record)
                records.remove(record)
                outcome.warnings.append(
                    f"an earlier run sent create_order for server {record.server_id} (image {record.image}) and "
                    f"stopped before finding the order; no such order was listed within {bound:.0f} s of its last "
                    "sending, so nothing was rented by that create: its record was dropped"
                )
        if records:
            wait = min(_last_possible_send(journal, r, state_of(r)) or 0.0 for r in records) + bound - clock()
            sleep(max(0.0, min(poll_interval, wait)))
    return outcome


def _last_possible_send(journal: InflightCreates, record: InflightRecord, writer: str) -> float | None:
    """The latest moment the record's create can have left for the wire; None when it certainly never left."""
    sent = journal.sent_at(record)
    if writer == GONE:
        # A mark is touched before every sending and survives the process (not a crash of the machine: the boot
        # would differ): a writer gone without a mark never sent anything.
        return sent
    # The writer may still send (running), or its last mark may be lost (another boot or machine): the client's
    # retry deadline is the latest any attempt can leave.
    return max(record.send_by, sent or 0.0)


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
