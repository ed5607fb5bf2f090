"""Which of my active orders a clore_order task means: by order id, by server id, or a fleet.

Orders carry no name or label. A fleet's members are my active orders whose image is the task's image (as Docker
references: `ubuntu` and `docker.io/library/ubuntu:latest` are one image) and whose server specs pass the task's
hardware filters (market.SPEC_FILTERS), so that a second run finds what the first rented.
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.market import (
    SPEC_FILTERS,
    first_failing_filter,
    normalize_server,
)
from ansible_collections.clore.ai.plugins.module_utils.images import same_image
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils._order.request import OrderRequest


def read_orders(raw_orders: list) -> tuple[list[tuple[dict, dict]], list[str]]:
    """(raw, normalised) pairs of the active orders, and a warning for each order that could not be read."""
    pairs, warnings = [], []
    for raw in raw_orders or []:
        try:
            order = normalize_order(raw)
        except ValueError as err:
            warnings.append(f"skipped an order that could not be read: {err}")
            continue
        if not order["expired"]:
            pairs.append((raw, order))
    return pairs, warnings


def spec_filters(filters: dict) -> dict:
    """The task's filters that depend only on hardware, the ones an existing order can be held to."""
    return {name: filters[name] for name in SPEC_FILTERS if filters.get(name) not in (None, [], {})}


def matches_specs(raw_order: dict, filters: dict) -> bool:
    """Whether an order's server specs pass every hardware filter."""
    if not filters:
        return True
    server = normalize_server(
        {"id": raw_order.get("si", raw_order.get("server_id")), "specs": raw_order.get("specs") or {},
         "gpu_array": raw_order.get("gpu_array")}
    )
    return server is not None and first_failing_filter(server, filters, only=SPEC_FILTERS) is None


def members(request: OrderRequest, pairs: list[tuple[dict, dict]]) -> list[dict]:
    """The normalised active orders the task identifies, oldest first."""
    if request.mode == "order_id":
        found = [order for _raw, order in pairs if order["id"] == request.order_id]
    elif request.mode == "server_id":
        found = [order for _raw, order in pairs if order["server_id"] == request.server_id]
    else:
        filters = spec_filters(request.filters)
        found = [
            order for raw, order in pairs
            if same_image(order["image"], request.image) and matches_specs(raw, filters)
        ]
    return sorted(found, key=lambda o: o["id"])
