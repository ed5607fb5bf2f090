"""The task's existing orders: which it keeps, which differ from it (warned about, or rented again with recreate),
and the fixed spot bids it changes in place (spot_price)."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.images import same_image
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.rebid import bid_differs, set_bid
from ansible_collections.clore.ai.plugins.module_utils._order.request import OrderRequest


def reconcile_existing(ctx: TaskContext, current: list[dict]) -> tuple[list[dict], list[dict]]:
    """(orders to keep, orders to cancel and rent again); spot bids are adjusted on the kept ones."""
    keep, recreate = [], []
    for order in current:
        found = differences(ctx.request, order)
        if found and ctx.request.recreate:
            recreate.append(order)
            continue
        if found:
            ctx.warn(f"order {order['id']} differs from the task ({'; '.join(found)}) and cannot be changed in "
                     "place: set recreate: true to cancel it and rent again")
        keep.append(order)
        adjust_bid(ctx, order)
    return keep, recreate


def differences(request: OrderRequest, order: dict) -> list[str]:
    """What an existing order has that the task does not ask for: another image, type or currency."""
    found = []
    image, terms = request.image, request.terms
    if image and not same_image(order.get("image"), image):
        found.append(f"image is {order.get('image')}, the task asks for {image}")
    # With order_id, type defaults to on-demand: only a spot_price says which type the user means.
    type_meant = request.mode != "order_id" or terms.spot_price is not None
    if type_meant and bool(order.get("spot")) != terms.spot:
        found.append(f"type is {'spot' if order.get('spot') else 'on-demand'}, the task asks for {terms.type}")
    if terms.currency and order.get("currency") and order["currency"] != terms.currency:
        found.append(f"currency is {order['currency']}, the task asks for {terms.currency}")
    return found


def adjust_bid(ctx: TaskContext, order: dict) -> None:
    """A spot order whose bid is not spot_price gets it (or, in check mode, would)."""
    spot_price = ctx.request.terms.spot_price
    if spot_price is None or not order.get("spot") or not bid_differs(order, spot_price):
        return
    change = {"id": order["id"], "from": order.get("price_per_day"), "to": spot_price,
              "currency": order.get("currency")}
    if ctx.check_mode:
        ctx.outcome.would_reprice.append(change)
        return
    set_bid(ctx.client, order, spot_price)
    ctx.outcome.repriced.append(order["id"])
    order["price_per_day"] = spot_price
