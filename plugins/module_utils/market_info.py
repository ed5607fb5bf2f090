"""clore_market_info's task: search the marketplace, pass recorded bad servers over, add each server's spot market.

The listing is read row by row (never held decoded whole); dollar comparisons lacking a rate cost at most one more
call. Every option is checked before any API call.
"""
from __future__ import annotations

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers, check_ttl, skip_bad
from ansible_collections.clore.ai.plugins.module_utils.market import (
    MARKET_FILTER_SPEC,
    MarketFilterError,
    MarketSelection,
    sort_field,
    spot_market_view,
    validate_filters,
)
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    MarketRates,
    RateBook,
    check_usd_rates,
    complete_rates,
)


def check_options(params: dict) -> None:
    """Every option that could be wrong, before any API call (MarketFilterError names the option)."""
    validate_filters({name: params.get(name) for name in MARKET_FILTER_SPEC})
    sort_field(params["sort_by"])
    if params["limit"] is not None and params["limit"] < 0:
        raise MarketFilterError(f"limit: {params['limit']} must not be negative")
    if params["spot_market"] and not params["server_ids"]:
        raise MarketFilterError("spot_market: needs server_ids (one spot_marketplace call per server)")
    check_usd_rates(params.get("usd_rates"))
    try:
        check_ttl(params["bad_server_ttl"])
    except ValueError as err:
        raise MarketFilterError(str(err)) from None


def search(client, params: dict, bad: dict) -> tuple[list[dict], dict, MarketSelection]:
    """(servers, excluded, selection): the marketplace filtered and sorted, priced at the best rates known.

    With servers to pass over (`bad`), the limit applies after them, so that `limit` servers still come back.
    """
    filters = {name: params.get(name) for name in MARKET_FILTER_SPEC}
    selection = MarketSelection(filters, params["sort_by"], params["descending"], None if bad else params["limit"])
    rates = [MarketRates()]

    def restart() -> None:
        rates[0] = MarketRates()
        selection.restart()

    def add(raw: Any) -> None:
        rates[0].add(raw)
        selection.add(raw)

    # Row by row: the listing is never held decoded whole (a large market would take hundreds of MB).
    client.marketplace_each(restart, add)
    book = RateBook(rates[0].rates())
    if selection.rates_needed():  # at most one more call, only when a dollar comparison lacks a rate
        server_id = selection.pending_server_id()
        complete_rates(book, selection.rates_needed(), check_usd_rates(params.get("usd_rates")),
                       lambda: client.spot_marketplace(server_id))
    servers, excluded = selection.result(book)
    return servers, excluded, selection


def run_market_info(module, client) -> dict:
    """clore_market_info's run(module, client) for common.run_module."""
    params = module.params
    check_options(params)
    ttl = params["bad_server_ttl"]
    bad = BadServers(client.state_path, client.account).active(ttl) if ttl > 0 else {}
    servers, excluded, selection = search(client, params, bad)
    matched = selection.matched
    servers, skipped = skip_bad(servers, bad)
    if skipped:
        excluded["bad_server"] = skipped
        matched -= skipped
    if bad and params["limit"] is not None:
        servers = servers[:params["limit"]]
    if params["spot_market"]:
        for server in servers:
            server["spot_market"] = spot_market_view(client.spot_marketplace(server["id"]))
    return {
        "changed": False,
        "servers": servers,
        "count": len(servers),
        "matched": matched,
        "total": selection.total,
        "excluded": excluded,
        "bad_servers_skipped": skipped,
    }
