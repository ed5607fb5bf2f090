"""Renting one server by id (server_id): free and within the price filters, or held by another renter on spot and
winnable within spot_max_price; otherwise refused, saying why, before anything is sent."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.market import first_failing_filter, price_per_day
from ansible_collections.clore.ai.plugins.module_utils._order import spot
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import listed_as, read_market
from ansible_collections.clore.ai.plugins.module_utils._order.own_servers import (
    OWN_SERVER_REASON,
    as_server_id,
    own_server_ids,
)
from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetGuard, Candidate, make_candidate, price_cap
from ansible_collections.clore.ai.plugins.module_utils._order.renting import account_capped, account_locked, create
from ansible_collections.clore.ai.plugins.module_utils._order.request import Terms

PRICE_FILTERS = ("max_price", "currency", "currencies")


def rent_server(ctx: TaskContext, server_id: int) -> None:
    """Rent `server_id` (or, in check mode, say it would)."""
    terms = ctx.request.terms
    # Only that server's row is kept, priced in each currency the order may pay in.
    market = read_market(ctx.client, row=listed_as(server_id), currencies=terms.currencies,
                         user_rates=terms.usd_rates, price_all=True)
    if as_server_id(server_id) in own_server_ids(market):
        raise CloreError(f"server_id: server {server_id} is {OWN_SERVER_REASON}: renting it would cost a fee for "
                         "nothing; nothing was rented")
    server = market.row
    if server is None:
        raise CloreError(f"server {server_id} is not in the market; nothing was rented")
    if server.get("rented") and server.get("online") is not False and terms.bids_up_to_cap:
        _outbid(ctx, server, market.rates)
        return
    if server.get("rented") or server.get("online") is False:
        state = "rented" if server.get("rented") else "offline"
        raise CloreError(f"server {server_id} is {state}; nothing was rented")
    price_filters = {k: ctx.request.filters[k] for k in PRICE_FILTERS if ctx.request.filters.get(k)}
    failed = first_failing_filter(server, price_filters) if price_filters else None
    if failed:
        raise CloreError(f"server {server_id} fails {failed}: {_filter_text(failed, server, terms)}; "
                         "nothing was rented")
    # The filter judged the server's cheapest price; make_candidate judges the currency this order pays in.
    candidate, refusal = make_candidate(server, terms, market.rates)
    if candidate is None:
        raise CloreError(f"server {server_id} {refusal}; nothing was rented")
    _rent_free(ctx, candidate, market.rates)


def _outbid(ctx: TaskContext, server: dict, rates: dict[str, float]) -> None:
    """A server another renter holds on spot: bid the least that wins it, within the cap."""
    candidate = spot.server_candidate(ctx.spot_markets, server, ctx.request.terms)
    budget = BudgetGuard(ctx.request.terms.budget, [], rates)
    budget.choose([candidate], 1)
    if ctx.check_mode:
        ctx.outcome.would_create = [candidate.summary(ctx.request.terms.type)]
        return
    create(ctx, [candidate], 1, budget)


def _rent_free(ctx: TaskContext, candidate: Candidate, rates: dict[str, float]) -> None:
    """A free server: within the task's budget and the account's cap, checked before any create."""
    budget = BudgetGuard(ctx.request.terms.budget, [], rates)
    budget.choose([candidate], 1)
    with account_locked(ctx):
        capped = account_capped(ctx, budget, [candidate], rates)
        if ctx.check_mode:
            ctx.outcome.would_create = [candidate.summary(ctx.request.terms.type)]
            return
        create(ctx, [candidate], 1, capped)


def _filter_text(failed: str, server: dict, terms: Terms) -> str:
    """What the server offers against the filter it fails (max_price or currency), for the refusal message."""
    if failed == "currency":
        return f"it does not accept {terms.currency}"
    if failed == "currencies":
        return f"it accepts none of {', '.join(terms.currencies)}"
    cap = price_cap(terms, {})
    cap_type = terms.max_price.get("type") or "on-demand"
    price = price_per_day(server, cap_type, cap.currency)
    if price is None:
        return f"it has no {cap_type} price in {cap.currency} to check against {cap.text}"
    # In USD the filter reads the cheapest of the currencies the order may pay in; in a coin, its price in that coin.
    if cap.currency != USD:
        return f"its {cap_type} price {price:.4f} {cap.currency}/day is above {cap.text}"
    coin = server.get("spot_cheapest_currency" if cap_type == "spot" else "cheapest_currency")
    return (f"its {cap_type} price {price:.4f} USD/day in {coin} is above {cap.text} ({coin} is the cheapest currency "
            "it may be paid in)")
