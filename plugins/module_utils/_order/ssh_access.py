"""How to reach the task's orders: the same known_hosts_file and ssh_common_args the clore.ai.clore inventory gives."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.known_hosts import (
    ensure_known_hosts_dir,
    known_hosts_dir,
    ssh_settings,
)
from ansible_collections.clore.ai.plugins.module_utils._order.request import OrderRequest


def with_ssh_settings(orders: list[dict], request: OrderRequest, state_path: Path, check_mode: bool,
                      warn: Callable[[str], None]) -> list[dict]:
    """Each order with known_hosts_file and ssh_common_args (host_key_checking, known_hosts_dir)."""
    policy = request.host_key_checking
    directory = None
    if policy == "per_order":
        directory = known_hosts_dir(request.known_hosts_dir, str(state_path))
        try:
            if not check_mode:
                ensure_known_hosts_dir(directory)
        except OSError as err:  # the orders exist: say so, never fail over it
            warn(f"known_hosts_dir {directory!r} cannot be created ({err.strerror}), so ssh cannot record the "
                 "orders' host keys: set known_hosts_dir / CLORE_KNOWN_HOSTS_DIR to a writable path")
    return [order | ssh_settings(order, directory, policy) for order in orders]
