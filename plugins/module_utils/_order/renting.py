"""Renting what was chosen: under the account's lock and cap, exactly once per server, failing over to the next
candidate; every order found goes into the outcome, even when what follows fails."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.account_cap import CappedBudget, account_cap
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.create import (
    NEXT_RUN_LOOKS,
    ExactlyOnceCreator,
    create_body,
)
from ansible_collections.clore.ai.plugins.module_utils._order.failover import rent_with_failover
from ansible_collections.clore.ai.plugins.module_utils._order.identity import read_orders
from ansible_collections.clore.ai.plugins.module_utils._order.inflight import InflightCreates
from ansible_collections.clore.ai.plugins.module_utils._order.lock import ServerClaims, account_lock
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import read_market, with_id
from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetGuard, Candidate
from ansible_collections.clore.ai.plugins.module_utils._order.spot_review import fail_if_ended_at_once


@contextlib.contextmanager
def account_locked(ctx: TaskContext) -> Iterator[None]:
    """With account_budget, the key's lock from the cap's check until the creates are found in my_orders, over a
    fresh read of the key's active orders: runs of other images (whose locks differ) rent one after the other and
    each counts what the one before rented. Taken inside the image's lock, never the other way round, so that no
    two runs wait for each other. Without account_budget (or in check mode) nothing is taken or read."""
    if ctx.request.terms.account_budget is None or ctx.check_mode:
        yield
        return
    with account_lock(ctx.client.state_path, ctx.client.account):
        pairs, _warnings = read_orders(ctx.client.my_orders())  # warned about at the task's first read
        ctx.active_orders = [order for _raw, order in pairs]
        ctx.known_ids |= {order["id"] for order in ctx.active_orders}
        yield


def account_capped(ctx: TaskContext, budget: BudgetGuard, chosen: list[Candidate],
                   rates: dict[str, float]) -> CappedBudget:
    """account_budget: refuse (before any POST, check mode too) when `chosen` would pass it; else the guard
    fail-over holds each server to, the task's budget and the account cap together."""
    gone = set(ctx.outcome.cancelled) | set(ctx.outcome.would_cancel)
    cap = account_cap(ctx.request.terms.account_budget, ctx.active_orders, gone, rates)
    cap.check(chosen)
    return CappedBudget(budget, cap)


def create(ctx: TaskContext, candidates: Iterable[Candidate], missing: int, budget, *, partial: bool = False) -> None:
    """Rent `missing` from `candidates` with fail-over; fewer fails the task, unless `partial` (allow_partial) and
    fail-over simply ran out of servers (an unclear create or a hard refusal still fails)."""
    journal = InflightCreates(ctx.client.state_path, ctx.client.account)
    ctx.creator = ExactlyOnceCreator(ctx.client, ctx.known_ids, clore_time=ctx.clore_time, journal=journal,
                                     reconcile_timeout=float(ctx.request.reconcile_timeout))
    claims = ServerClaims(ctx.client.state_path, ctx.client.account)
    tried: dict[int, Candidate] = {}  # what each create was sent with: the currency chosen, and why
    outcome = rent_with_failover(
        ctx.creator, candidates, missing, lambda c: _body(ctx, c, tried),
        budget, ctx.request.max_attempts, lambda server_id: _still_free(ctx, server_id), claims.claim,
        claims.release,
    )
    for created in outcome.created:
        ctx.outcome.add_new(created.order, created.adopted)
        chosen = tried.get(created.order.get("server_id"))
        if chosen is not None:
            ctx.outcome.choose_currency(created.order["id"], chosen)
    ctx.take_made()
    ctx.outcome.skipped.extend(outcome.skipped)
    fail_if_ended_at_once(ctx, [created.order for created in outcome.created])
    if len(outcome.created) < missing and (outcome.error is not None or not partial):
        raise CloreError(f"rented {len(outcome.created)} of {missing}: {outcome.stopped}")


def in_flight_note(ctx: TaskContext, message: str = "") -> str:
    """The end of a failure message about the create whose order is not known yet, if one was sent (and `message`
    does not say so already)."""
    in_flight = ctx.creator.in_flight if ctx.creator is not None else None
    if in_flight is None or not in_flight.sent or NEXT_RUN_LOOKS in message:
        return ""
    return (f"; create_order for server {in_flight.server_id} (image {in_flight.image}) was sent and its order is "
            f"not found yet: it may exist and cost money; {NEXT_RUN_LOOKS}")


def create_sent(ctx: TaskContext) -> bool:
    """Whether this run sent a create_order (found or still in flight)."""
    in_flight = ctx.creator.in_flight if ctx.creator is not None else None
    return bool(ctx.outcome.new_orders()) or (in_flight is not None and in_flight.sent)


def _body(ctx: TaskContext, candidate: Candidate, tried: dict[int, Candidate]) -> dict:
    """The create_order body for `candidate`. The plan never pays in a coin outside `currencies`; a create in one the
    user did not allow must not happen anyway, so it is refused here, before it is sent."""
    allowed = ctx.request.terms.currencies
    if allowed and candidate.currency not in allowed:
        raise CloreError(f"server {candidate.server_id} would be paid in {candidate.currency}, which currencies "
                         f"({', '.join(allowed)}) does not allow; that create was not sent")
    tried[candidate.server_id] = candidate
    return create_body(ctx.request.container, ctx.request.terms, candidate.server_id, candidate.currency,
                       candidate.price)


def _still_free(ctx: TaskContext, server_id: int) -> bool:
    # A fresh look (the listing we chose from is stale by now), keeping only that server's row.
    server = read_market(ctx.client, row=with_id(server_id)).row
    return server is not None and not server.get("rented") and server.get("online") is not False
