"""What clore_order returns about an order, and its --diff: flat, secret-free views."""
from __future__ import annotations

# The keys of each returned order, in the order people read them.
ORDER_FIELDS = (
    "id", "server_id", "image", "gpu_model", "gpu_count", "price", "price_per_day", "currency", "spot", "status",
    "ready", "ssh_host", "ssh_port", "ssh_user", "ssh_command", "http_url", "created_at",
)
DIFF_FIELDS = ("id", "server_id", "image", "gpu_model", "gpu_count", "price_per_day", "currency", "spot")


def order_view(order: dict) -> dict:
    """One order as clore_order returns it (a normalised order has no secret to begin with)."""
    view = {name: order.get(name) for name in ORDER_FIELDS if name != "price"}
    view["price"] = order.get("price_per_day")
    return {name: view.get(name) for name in ORDER_FIELDS}


def _diff_entry(order: dict) -> dict:
    return {name: order.get(name) for name in DIFF_FIELDS}


def fleet_diff(before: list[dict], after: list[dict], would_create: list[dict], would_reprice: list[dict],
               image: str | None = None) -> dict:
    """{before, after}: the identified orders before the task and after it (planned ones in check mode)."""
    repriced = {change["id"]: change["to"] for change in would_reprice}
    after_entries = []
    for order in after:
        entry = _diff_entry(order)
        if order["id"] in repriced:
            entry["price_per_day"] = repriced[order["id"]]
        after_entries.append(entry)
    for planned in would_create:
        after_entries.append({
            "id": None, "server_id": planned["server_id"], "image": image, "gpu_model": planned.get("gpu_model"),
            "gpu_count": planned.get("gpu_count"), "price_per_day": planned["price_per_day"],
            "currency": planned["currency"], "spot": planned["type"] == "spot",
        })
    return {"before": {"orders": [_diff_entry(o) for o in before]}, "after": {"orders": after_entries}}
