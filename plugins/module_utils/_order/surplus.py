"""After renting, more fleet members than count: another run rented the same fleet at the same time (another
controller, or one whose state dir was lost). The newest beyond count are released (surplus: release) or kept and
named (surplus: keep); every run that sees it picks the same newest ones, so they agree."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.identity import members, read_orders
from ansible_collections.clore.ai.plugins.module_utils._order.summary import ids_text


def settle_surplus(ctx: TaskContext) -> None:
    outcome = ctx.outcome
    if ctx.check_mode or not outcome.new_orders():
        return
    pairs, _warnings = read_orders(ctx.client.my_orders())
    gone = set(outcome.cancelled) | set(outcome.ended)
    found = [o for o in members(ctx.request, pairs) if o["id"] not in gone]
    count, keep_surplus = ctx.request.fleet.count, ctx.request.fleet.surplus == "keep"
    outcome.surplus = [o["id"] for o in found[count:]]  # members() is oldest first: ids grow
    if not outcome.surplus:
        return
    # The other run's orders that stay are this fleet's too: the result names them with the kept ones.
    ours = {o["id"] for o in outcome.kept + outcome.new_orders()}
    stay = found if keep_surplus else found[:count]
    outcome.kept += [o for o in stay if o["id"] not in ours]
    ids = ids_text(outcome.surplus)
    if keep_surplus:
        ctx.warn(f"{len(found)} active orders match this fleet, count is {count}: another run rented it at the "
                 f"same time; order(s) {ids} beyond count are kept (surplus: keep) and cost money until cancelled")
        return
    ctx.cancel(outcome.surplus, issue=None)
    outcome.released = list(outcome.surplus)
    ctx.warn(f"{len(found)} active orders matched this fleet, count is {count}: another run rented it at the "
             f"same time; released the newest, order(s) {ids} (surplus: release)")
