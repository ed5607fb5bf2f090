"""lifetime_hours: a due time for what a task rents, recorded on the controller for the reaper (playbooks/reap.yml).

Orders carry no expiry of their own. The due time is the order's creation time (the service's clock) plus the
lifetime, recorded once per order: running the task again does not push it back. The reaper cancels an order whose
due time has passed even if the playbook that rented it never ran its release step.
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.reaping import Lifetimes, service_now
from ansible_collections.clore.ai.plugins.module_utils._order.request import OrderRequest


def record_lifetime(client, request: OrderRequest, orders: list[dict], check_mode: bool) -> None:
    """Give the task's orders that have none the lifetime of `lifetime_hours` (nothing without it or in check mode)."""
    hours = request.lifetime_hours
    if hours is None or check_mode or not request.present or not orders:
        return
    Lifetimes(client.state_path, client.account).set(orders, hours, request.image, service_now(client))
