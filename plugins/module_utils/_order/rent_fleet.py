"""Renting a fleet's missing members: read the market once, turn the servers into candidates (saying why each one
left out was), choose within the budget, then rent with fail-over; the shortfall says how far short and why."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.pricing import market_rates
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.failover import OVER_BUDGET
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import MarketRead, read_market
from ansible_collections.clore.ai.plugins.module_utils._order.own_servers import (
    OWN_SERVER,
    OWN_SERVER_REASON,
    own_server_ids,
)
from ansible_collections.clore.ai.plugins.module_utils._order.plan import (
    BudgetGuard,
    Candidate,
    FleetCandidates,
    FleetPlan,
    make_candidate,
)
from ansible_collections.clore.ai.plugins.module_utils._order.renting import account_capped, account_locked, create
from ansible_collections.clore.ai.plugins.module_utils._order.spot_review import spot_rivals


def rates_if_needed(ctx: TaskContext, keep: list[dict]) -> dict[str, float]:
    """The market's dollar rates when the fleet plan must compare kept orders paid in different coins."""
    fleet = ctx.request.fleet
    surplus = fleet.exact and len(keep) > fleet.count
    mixed = len({o.get("currency") for o in keep}) > 1
    # A surplus leaves nothing to rent: the rates are all this read keeps.
    return read_market(ctx.client).rates if surplus and mixed else market_rates([])


def rent_fleet(ctx: TaskContext, plan: FleetPlan) -> None:
    """Rent plan.missing servers (or, in check mode, say which it would)."""
    if plan.missing <= 0:
        return
    request, outcome = ctx.request, ctx.outcome
    market = _fleet_market(ctx)
    outcome.excluded = dict(market.excluded)
    servers = ctx.bad_servers.skip(market.free, outcome.excluded)
    rates = market.rates
    found = FleetCandidates(_candidates(ctx, servers, market, rates), spot_rivals(ctx, market.held))
    planned = found.planned(plan.missing)
    budget = BudgetGuard(request.terms.budget, plan.keep, rates)
    partial = request.fleet.allow_partial
    chosen = budget.within(planned, plan.missing) if partial else budget.choose(planned, plan.missing)
    outcome.note_shortfall(plan.missing, len(chosen), [OVER_BUDGET] * (min(len(planned), plan.missing) - len(chosen)))
    with account_locked(ctx):
        budget = account_capped(ctx, budget, chosen, rates)
        if len(planned) < plan.missing and not partial:
            which = "free or winnable within spot_max_price" if request.terms.bids_up_to_cap else "free"
            raise CloreError(
                f"only {len(planned)} {which} servers match, {plan.missing} needed; nothing was rented "
                f"(allow_partial: true rents what matches). Servers excluded per filter: "
                f"{_excluded_text(outcome.excluded)}"
            )
        if ctx.check_mode:
            outcome.would_create = [c.summary(request.terms.type) for c in chosen]
            return
        skipped_before, rented_before = len(outcome.skipped), len(outcome.new_orders())
        try:
            create(ctx, found, plan.missing, budget, partial=partial)
        finally:  # also when fail-over stops: the result says how far short the fleet is, and why
            outcome.note_shortfall(plan.missing, len(outcome.new_orders()) - rented_before,
                                   [entry["reason"] for entry in outcome.skipped[skipped_before:]])


def _fleet_market(ctx: TaskContext) -> MarketRead:
    """The fleet's market, read once and streamed: the free servers passing the filters, and with spot_max_price
    the ones others hold; every other row is dropped as it is decoded."""
    request = ctx.request
    held = request.terms.bids_up_to_cap and request.terms.spot_candidates > 0
    return read_market(ctx.client, filters=dict(request.filters), sort_by=request.fleet.sort_by,
                       descending=request.fleet.descending, held=held, user_rates=request.terms.usd_rates,
                       price_all=True)


def _candidates(ctx: TaskContext, servers: list[dict], market: MarketRead, rates: dict[str, float]
                ) -> list[Candidate]:
    """The servers this order can be placed on; each one left out is counted in `excluded` (and, when a filter
    passed it but the order would not pay its price, named in skipped_servers)."""
    outcome = ctx.outcome
    own = own_server_ids(market)
    candidates = []
    for server in servers:
        if server["id"] in own:  # renting your own server costs a fee and earns nothing
            outcome.excluded[OWN_SERVER] = outcome.excluded.get(OWN_SERVER, 0) + 1
            outcome.skipped.append({"server_id": server["id"], "price_per_day": None, "currency": None,
                                    "reason": OWN_SERVER_REASON})
            continue
        candidate, refusal = make_candidate(server, ctx.request.terms, rates)
        if candidate is not None:
            candidates.append(candidate)
            continue
        key = refusal.filter or refusal.text
        outcome.excluded[key] = outcome.excluded.get(key, 0) + 1
        if refusal.filter:  # a price the filter passed but this order would not pay: say which and why
            outcome.skipped.append(refusal.skip(server["id"]))
    return candidates


def _excluded_text(excluded: dict[str, int]) -> str:
    shown = [f"{name}: {n}" for name, n in excluded.items() if n]
    return ", ".join(shown) if shown else "none (the market has too few servers)"
