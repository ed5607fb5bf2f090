"""clore_order's use of the bad-server memory: pass recorded servers over, record the servers that fail.

A server is recorded when the container never answered with an SSH banner within the wait, or when an on-demand
order this run rented ended by itself while the task waited for it (a spot order that ends may just be outbid: not
the server's fault). The reason recorded is also the `issue` sent to Clore if such an order is cancelled.
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers, skip_bad
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.wait import STAGE_BANNER, OrderEnded, WaitTimeout

EXCLUDED_KEY = "bad_server"


class BadServerMemory:
    """The task's view of the record: `skipped` counts the servers passed over, `reasons` {order id: reason}."""

    def __init__(self, client, ttl_hours: float):
        self.client = client
        self.ttl = ttl_hours
        self.skipped = 0
        self.reasons: dict[int, str] = {}

    @property
    def records(self) -> BadServers:
        return BadServers(self.client.state_path, self.client.account)

    def skip(self, servers: list[dict], excluded: dict[str, int]) -> list[dict]:
        """The servers not recorded as bad within the ttl (all of them when bad_server_ttl is 0).

        Those passed over are counted in `excluded` (the filters' exclusions) under EXCLUDED_KEY.
        """
        if self.ttl <= 0:
            return servers
        kept, skipped = skip_bad(servers, self.records.active(self.ttl))
        self.skipped += skipped
        if skipped:
            excluded[EXCLUDED_KEY] = excluded.get(EXCLUDED_KEY, 0) + skipped
        return kept

    def remember(self, err: CloreError, orders: list[dict], new_ids: set[int]) -> None:
        """Record the servers of the orders `err` (a failed wait) blames on the server."""
        by_id = {o["id"]: o for o in orders}
        found: dict[int, str] = {}
        if isinstance(err, WaitTimeout):
            for order_id, stage in err.stages.items():
                if STAGE_BANNER in stage:
                    found[order_id] = f"no SSH banner within the wait ({stage})"
        elif isinstance(err, OrderEnded):
            for order_id in err.ended_ids:
                order = by_id.get(order_id)
                if order_id in new_ids and order is not None and not order.get("spot"):
                    found[order_id] = "the order ended by itself minutes after it was rented"
        for order_id, reason in found.items():
            order = by_id.get(order_id)
            if order is None:
                continue
            self.reasons[order_id] = f"server {order['server_id']}: {reason}"
            if self.ttl > 0:
                self.records.record(order["server_id"], reason, order_id)

    def issue(self, order_ids: list[int]) -> str | None:
        """The problem report to send with the cancel of these orders; None when none of them failed."""
        reasons = [self.reasons[i] for i in order_ids if i in self.reasons]
        return "; ".join(reasons)[:2048] if reasons else None

    def issue_for(self, orders: list[dict]) -> str | None:
        """The problem report for cancelling `orders`: the recorded reasons of their servers (None without any)."""
        if self.ttl <= 0 or not orders:
            return None
        bad = self.records.active(self.ttl)
        reasons = [f"server {o['server_id']}: {bad[o['server_id']]['reason']}" for o in orders if o["server_id"] in bad]
        return "; ".join(reasons)[:2048] if reasons else None
