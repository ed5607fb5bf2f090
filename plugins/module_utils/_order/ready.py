"""Waiting until the task's orders are ready (their SSH banner answers); a failed wait records the servers it
blames and fails the task naming what ended, what timed out, and what still costs money."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order import spot
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.lock import SharedOrderReads
from ansible_collections.clore.ai.plugins.module_utils._order.spot_review import ended_text
from ansible_collections.clore.ai.plugins.module_utils._order.wait import OrderEnded, wait_ready

# Waiting forks share my_orders reads this fresh, so that together they poll at most about once per this many s.
SHARED_READ_MAX_AGE = 1.5


def wait_for_orders(ctx: TaskContext, deadline: float) -> None:
    """Wait for the kept and new orders until `deadline` (the task's clock); the outcome gets what was read last."""
    outcome = ctx.outcome
    orders = outcome.kept + outcome.new_orders()
    lost = [e for e in outcome.outbid if not e["ended"] and e["id"] in {o["id"] for o in orders}]
    if lost:  # a bid that does not run would never get ready: say so now, not at wait_timeout
        ctx.fail(spot.lost_text(lost, ctx.request.terms))
    orders = [o for o in orders if o["id"] not in set(outcome.cancelled)]
    if not orders:
        return
    new_ids = {o["id"] for o in outcome.new_orders()}
    try:
        reads = SharedOrderReads(ctx.client.state_path, ctx.client.account, ctx.client.my_orders,
                                 SHARED_READ_MAX_AGE)
        # Start from what was just read (the create's confirmation, or the task's first read for kept orders): when
        # every endpoint is known, the banners are probed without reading my_orders again.
        ready = wait_ready(ctx.client, [o["id"] for o in orders], deadline,
                           need_ssh="22" in ctx.request.container.ports, read_orders=reads,
                           known={o["id"]: o for o in orders})
    except OrderEnded as err:
        outcome.add_ended(err.ended_ids)
        ctx.bad_servers.remember(err, orders, new_ids)
        ctx.fail(ended_text(ctx, err.reasons, err.ended_ids, orders))
    except CloreError as err:  # WaitTimeout, or the API failing while we poll
        ctx.bad_servers.remember(err, orders, new_ids)
        ctx.fail(str(err))
    outcome.refresh(dict(ready))
