"""The task's side of the spot auction: review its bids, report the orders outbid, find the rivals a fleet may
outbid, and say why a spot order ended (spot.py reads the markets and chooses; here the outcome is told)."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.images import same_image
from ansible_collections.clore.ai.plugins.module_utils._order import spot
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.plan import NoRivals, RivalSource
from ansible_collections.clore.ai.plugins.module_utils._order.wait import ENDED, end_reason, order_states


def review_spot(ctx: TaskContext, orders: list[dict]) -> list[dict]:
    """The orders still in play: a bid that does not run is raised within the cap (spot_rebid), and with
    spot_max_price one that cannot win is cancelled (it holds no server), so that a fleet replaces it."""
    terms, outcome = ctx.request.terms, ctx.outcome
    if not terms.spot or not orders:
        return orders
    found = spot.review(ctx.spot_markets, orders, terms, ctx.client, ctx.check_mode)
    outcome.spot_info.update(found.info)
    outcome.outbid.extend(found.outbid)
    if ctx.check_mode:
        outcome.would_reprice.extend(found.rebids)
    else:
        outcome.repriced.extend(r["id"] for r in found.rebids)
    lost = sorted(o["id"] for o in found.lost)
    if not lost or not terms.bids_up_to_cap:
        return orders
    ctx.cancel_or_plan(lost, issue=None)
    for entry in found.outbid:
        entry["cancelled"] = entry["id"] in lost
    return [o for o in orders if o["id"] not in lost]


def report_ended_outbid(ctx: TaskContext, current: list[dict]) -> None:
    """Spot orders of this task that ended and whose server runs a rival bid go to `outbid`. Told after this run's
    creates, from the markets this run has read (a server it has just won back: the rival it outbid) or reads now,
    where its own new bids are no rival's."""
    request = ctx.request
    if not request.terms.spot or request.mode == "order_id":
        return
    ended = [order for state, order in order_states(ctx.client.my_orders(return_completed=True)).values()
             if state == ENDED and same_image(order.get("image"), request.image)
             and (request.mode != "server_id" or order["server_id"] == request.server_id)]
    known = {entry["id"] for entry in ctx.outcome.outbid}
    ours = ctx.known_ids | {o["id"] for o in ctx.outcome.new_orders()}
    found = spot.ended_outbid(ctx.spot_markets, ended, request.terms, {o["server_id"] for o in current},
                              request.terms.spot_candidates, ours)
    ctx.outcome.outbid.extend(entry for entry in found if entry["id"] not in known)


def spot_rivals(ctx: TaskContext, servers: list[dict]) -> RivalSource:
    """Servers others rent on spot (`held`) that spot_max_price can win, read only as the fleet needs them."""
    terms = ctx.request.terms
    if not terms.bids_up_to_cap:
        return NoRivals()
    ctx.outcome.rivals = spot.RivalCandidates(ctx.spot_markets, servers, terms, terms.spot_candidates)
    return ctx.outcome.rivals


def ended_text(ctx: TaskContext, reasons: dict[int, str], ended_ids: list[int], orders: list[dict],
               when: str = spot.WHILE_WAITING) -> str:
    """What ended and why, with `outbid` as the reason of each spot order listed as ended (`ended_ids`) whose
    server now runs a rival bid."""
    reasons = dict(reasons)
    if ctx.request.terms.spot:
        by_id = {o["id"]: o for o in orders}
        for order_id in ended_ids:
            order = by_id.get(order_id)
            if order is None or not order.get("spot"):
                continue
            entry = spot.outbid_now(ctx.spot_markets, order, ctx.request.terms)
            if entry is not None:
                reasons[order_id] = entry.pop("reason")
                ctx.outcome.outbid.append(entry)
    return spot.ended_text(reasons, when)


def fail_if_ended_at_once(ctx: TaskContext, orders: list[dict]) -> None:
    """Orders that ended before my_orders ever listed them as active (a spot bid a rival outbid within a second):
    fail now, as the wait would, saying why; they no longer cost money."""
    ended = [o for o in orders if o.get("expired")]
    if not ended:
        return
    ctx.outcome.add_ended([o["id"] for o in ended])
    ctx.fail(ended_text(ctx, {o["id"]: end_reason(o) for o in ended}, [o["id"] for o in ended], ended,
                        spot.AT_ONCE))
