"""The market watch of the clore.ai.market event source: which matching servers are offers now.

A poll reads the marketplace once (streamed, through the collection's client and its shared rate limiter), selects
the servers with the filters of clore_market_info (market.py) and priced as it prices them (pricing.py), then
MarketWatch decides which are offers: a server that starts to match (it appears, is freed, or its price falls to
or under max_price), and a matching server whose price falls further (by at least price_drop_percent when set).
Each server is offered once per price: nothing again while its price stays, or rises and comes back. A server that
leaves the market or is rented is forgotten, so that it is an offer again when it comes back free.
"""
from __future__ import annotations

import math
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers, check_ttl, skip_bad
from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.market import (
    MARKET_FILTER_SPEC,
    ON_DEMAND,
    MarketFilterError,
    MarketSelection,
    canonical_currency,
    price_per_day,
    summary_fields,
)
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    MarketRates,
    RateBook,
    check_usd_rates,
    complete_rates,
)

OFFER = "offer"
NEW, PRICE_DROP = "new", "price_drop"
# The source's own arguments, besides the connection and timing ones (event_source.COMMON_ARGS).
MARKET_ARGS = frozenset(MARKET_FILTER_SPEC) | {"price_drop_percent", "usd_rates", "bad_server_ttl"}


def market_filters(args: dict) -> dict:
    """The filters of clore_market_info from the source's arguments, checked (MarketFilterError names the filter).

    As in the module, available_only defaults to true and a number alone for max_price is its amount."""
    filters = {name: args.get(name) for name in MARKET_FILTER_SPEC}
    if filters["available_only"] is None:
        filters["available_only"] = True
    cap = filters["max_price"]
    if isinstance(cap, (int, float)) and not isinstance(cap, bool):
        cap = {"amount": cap}
    if isinstance(cap, dict):
        cap = {"currency": "USD", "type": ON_DEMAND, "per": "day"} | {k: v for k, v in cap.items() if v is not None}
    filters["max_price"] = cap
    MarketSelection(filters)  # validates every filter, as the module does before any call
    return filters


def drop_percent(value: Any) -> float | None:
    """price_drop_percent: None, or a number above 0 and below 100."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value < 100:
        raise CloreConfigError(f"price_drop_percent must be a number above 0 and below 100, got {value!r}",
                               option="price_drop_percent")
    return float(value)


def watched_price(server: dict, cap: dict | None) -> float | None:
    """The price per day an offer is judged on: the one max_price compares (its type and currency), else the
    on-demand price in US dollars in the cheapest currency the server may be paid in."""
    if cap:
        return price_per_day(server, cap.get("type") or ON_DEMAND, cap.get("currency") or "USD")
    return price_per_day(server, ON_DEMAND, "USD")


class MarketWatch:
    """The memory of one source: {server id: the price of its last offer}, and the offers of each poll."""

    def __init__(self, cap: dict | None = None, price_drop_percent: float | None = None) -> None:
        self.cap = cap
        self.price_drop_percent = price_drop_percent
        self.offered: dict[int, float | None] = {}

    def _is_drop(self, price: float | None, last: float | None) -> bool:
        if price is None or last is None:
            return False
        if self.price_drop_percent is None:
            return price < last
        return price <= last * (1 - self.price_drop_percent / 100) + 1e-12 * max(1.0, last)

    def offers(self, matching: list[dict], free_ids: set[int]) -> list[dict]:
        """The offer events of one poll. `matching`: the servers that pass every filter now; `free_ids`: every
        server of the market that is not rented (a server outside it is forgotten)."""
        for server_id in [i for i in self.offered if i not in free_ids]:
            del self.offered[server_id]
        events = []
        for server in matching:
            price = watched_price(server, self.cap)
            server_id = server["id"]
            if server_id not in self.offered:
                events.append(offer_event(server, price, NEW, None, self.cap))
                self.offered[server_id] = price
            elif self._is_drop(price, self.offered[server_id]):
                events.append(offer_event(server, price, PRICE_DROP, self.offered[server_id], self.cap))
                self.offered[server_id] = price
        return events


def offer_event(server: dict, price: float | None, reason: str, previous: float | None, cap: dict | None) -> dict:
    """{type: offer, server, price, currency, order_type, reason, previous}: the record as clore_market_info
    returns it, the price judged (per day), and the price of the last offer of this server when it fell."""
    currency = canonical_currency((cap or {}).get("currency") or "USD", allow_usd=True)
    return {
        "type": OFFER,
        "server": server,
        "price": price,
        "currency": currency,
        "order_type": (cap or {}).get("type") or ON_DEMAND,
        "reason": reason,
        "previous": None if previous is None else {"price": previous},
    }


class MarketPoll:
    """One source's poll: read the market, select, pass over recorded bad servers, and decide the offers."""

    def __init__(self, client: CloreClient, args: dict) -> None:
        self.client = client
        self.filters = market_filters(args)
        self.usd_rates = check_usd_rates(args.get("usd_rates"))
        try:
            self.bad_server_ttl = check_ttl(args.get("bad_server_ttl"))
        except ValueError as err:
            raise MarketFilterError(str(err)) from None
        self.watch = MarketWatch(self.filters["max_price"], drop_percent(args.get("price_drop_percent")))

    def read(self) -> tuple[list[dict], set[int]]:
        """(the matching servers, priced; the ids of every free server), as clore_market_info selects them: one
        marketplace call, and one spot_marketplace call only when a dollar comparison lacks a rate."""
        # In id order: a sort by dollar price would need coin rates (one more call) that no offer needs.
        selection = MarketSelection(self.filters, sort_by="id")
        state: dict[str, Any] = {}

        def restart() -> None:
            state["rates"], state["free"] = MarketRates(), set()
            selection.restart()

        def add(raw: Any) -> None:
            state["rates"].add(raw)
            summary = summary_fields(raw)
            if summary is not None and summary["rented"] is not True:
                state["free"].add(summary["id"])
            selection.add(raw)

        restart()
        self.client.marketplace_each(restart, add)
        book = RateBook(state["rates"].rates())
        if selection.rates_needed():
            server_id = selection.pending_server_id()
            complete_rates(book, selection.rates_needed(), self.usd_rates,
                           lambda: self.client.spot_marketplace(server_id))
        servers, _excluded = selection.result(book)
        if self.bad_server_ttl > 0:
            servers, _skipped = skip_bad(servers, BadServers(self.client.state_path, self.client.account)
                                         .active(self.bad_server_ttl))
        return servers, state["free"]

    def __call__(self) -> list[dict]:
        matching, free = self.read()
        return self.watch.offers(matching, free)
