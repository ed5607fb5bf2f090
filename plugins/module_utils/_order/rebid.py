"""Changing a spot order's bid, with Clore's refusals of a lowering turned into a message a person can act on."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError

PRICE_TOLERANCE = 1e-9


class BidRefused(CloreError):
    """Clore refused to lower a bid; the message says by how much or when it may be lowered."""

    def __init__(self, message: str, api_error: CloreApiError):
        super().__init__(message)
        self.api_error = api_error


def bid_differs(order: dict, spot_price: float) -> bool:
    current = order.get("price_per_day")
    return current is None or abs(float(current) - float(spot_price)) > PRICE_TOLERANCE * max(1.0, abs(spot_price))


def set_bid(client, order: dict, spot_price: float) -> None:
    """set_spot_price; a refused lowering raises BidRefused saying when or how far it may go."""
    try:
        client.set_spot_price(order["id"], spot_price)
    except CloreApiError as err:
        hint = _lowering_hint(err, order, spot_price)
        if hint is None:
            raise
        raise BidRefused(f"{hint} ({err})", err) from None


def _lowering_hint(err: CloreApiError, order: dict, spot_price: float) -> str | None:
    extra = err.extra or {}
    current = order.get("price_per_day")
    currency = order.get("currency") or ""
    if err.reason == "exceeded_max_step":
        step = extra.get("max_step")
        step_text = f"at most {step} {currency}/day at a time" if step is not None else "in smaller steps"
        return (f"order {order['id']}: lowering the bid from {current} to {spot_price} {currency}/day is too big a "
                f"step; Clore lowers a bid {step_text}")
    if err.reason == "can_lower_every_600_seconds":
        wait = extra.get("time_to_lowering")
        wait_text = f"in {wait} s" if wait is not None else "once 600 s have passed since the last lowering"
        return (f"order {order['id']}: a bid can be lowered once every 600 s; the next lowering to {spot_price} "
                f"{currency}/day is possible {wait_text}")
    return None
