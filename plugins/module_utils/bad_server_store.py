"""The controller's memory of servers that failed a rental: which server, why, and when.

A server whose container never answered SSH, whose order ended by itself minutes after it was rented, or whose GPUs
did not match the order, is recorded here, per account digest, in the state directory. Fleet choices
(clore_order) and market searches (clore_market_info) pass over servers recorded within `bad_server_ttl` hours;
clore_bad_servers lists, adds and clears records. One JSON file (records.py), shared by every process.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.records import locked_record

DEFAULT_TTL_HOURS = 24.0
# A record names the problem Clore is told about when the order is cancelled (`issue` holds at most 2048 chars).
REASON_MAX = 500
BAD_SERVER_TTL_SPEC = {"bad_server_ttl": {"type": "float", "default": DEFAULT_TTL_HOURS}}


class BadServers:
    """{server id: {server_id, reason, time, order_id}} for one account, in `directory`."""

    def __init__(self, directory: Path, account: str, clock=time.time):
        self.path = Path(directory) / f"bad-servers-{account}.json"
        self.clock = clock

    def record(self, server_id: int, reason: str, order_id: int | None = None) -> dict:
        """Remember `server_id` as bad now; the newest reason replaces an older one."""
        entry = {"server_id": int(server_id), "reason": reason[:REASON_MAX], "time": self.clock(),
                 "order_id": order_id}
        with self._locked() as records:
            records[str(int(server_id))] = entry
        return entry

    def clear(self, server_ids: Iterable[int] | None = None) -> list[int]:
        """Forget the given servers (all of them with None); the ids that were recorded."""
        with self._locked() as records:
            ids = list(records) if server_ids is None else [str(int(i)) for i in server_ids]
            return sorted(int(records.pop(key)["server_id"]) for key in ids if key in records)

    def entries(self, ttl_hours: float | None = None) -> list[dict]:
        """The records, oldest first; with `ttl_hours`, only those younger than it (0: none: the memory is off)."""
        with self._locked() as records:
            found = sorted(records.values(), key=lambda e: e["time"])
        if ttl_hours is None:
            return found
        return [dict(e, expires=e["time"] + ttl_hours * 3600) for e in found
                if ttl_hours > 0 and self.clock() - e["time"] < ttl_hours * 3600]

    def active(self, ttl_hours: float) -> dict[int, dict]:
        """{server id: record} of the servers to pass over now."""
        return {e["server_id"]: e for e in self.entries(ttl_hours)}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        with locked_record(self.path) as stored:
            records = {k: v for k, v in stored.items() if _valid(v)}
            yield records
            stored.clear()
            stored.update(records)


def _valid(entry) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("server_id"), int) \
        and isinstance(entry.get("time"), (int, float)) and isinstance(entry.get("reason"), str)


def check_ttl(ttl_hours: float | None) -> float:
    """bad_server_ttl as hours (0 turns the memory off); ValueError naming the option for a negative one."""
    ttl = DEFAULT_TTL_HOURS if ttl_hours is None else float(ttl_hours)
    if ttl < 0:
        raise ValueError(f"bad_server_ttl must be 0 (off) or more hours, got {ttl_hours}")
    return ttl


def skip_bad(servers: list[dict], bad: dict[int, dict]) -> tuple[list[dict], int]:
    """(servers not recorded as bad, how many were passed over)."""
    kept = [s for s in servers if s.get("id") not in bad]
    return kept, len(servers) - len(kept)
