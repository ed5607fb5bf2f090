"""clore_order's read of the marketplace, streamed as clore_market_info reads it: each row is judged as it is decoded
and dropped unless it can be a candidate, so that a large listing (50,000 servers: 160 MB decoded whole) is never
held.

What a read keeps: the coin rates (the market's own, completed when a dollar comparison needs it by one
spot_marketplace call and then the user's usd_rates: pricing.complete_rates), the ids the answer's `my_servers`
lists, and
- with `filters` (a fleet): the free servers passing them, sorted, with the count of rows each filter excluded (as
  select_servers gives them); with `held` as well, the servers passing them that others hold (rented, not offline),
  sorted the same way: the ones spot_max_price may outbid;
- with `row` (a predicate on the raw row): the first row it picks, normalised (one server by id).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.market import (
    MarketSelection,
    normalize_server,
    price_server,
    summary_fields,
    unpriced_currencies,
)
from ansible_collections.clore.ai.plugins.module_utils.pricing import MarketRates, RateBook, complete_rates

AVAILABLE_ONLY = "available_only"


@dataclass
class MarketRead:
    rates: dict[str, float]
    my_servers: list
    book: RateBook = field(default_factory=RateBook)
    free: list[dict] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    held: list[dict] = field(default_factory=list)
    row: dict | None = None


def listed_as(server_id: Any) -> Callable[[Any], bool]:
    """The row whose `id` reads as `server_id` (as the user wrote it: 12 and "12" alike)."""
    wanted = str(server_id)
    return lambda raw: isinstance(raw, dict) and str(raw.get("id")) == wanted


def with_id(server_id: int) -> Callable[[Any], bool]:
    """The row whose normalised id is `server_id`."""
    return lambda raw: (summary := summary_fields(raw)) is not None and summary["id"] == server_id


class _Reader:
    """The restart()/add() pair client.marketplace_each feeds; restart() forgets a failed attempt's rows."""

    def __init__(self, filters: dict | None, sort_by: str | None, descending: bool, held: bool,
                 row: Callable[[Any], bool] | None, price_all: bool = False) -> None:
        self._filters, self._sort_by, self._descending = filters, sort_by, descending
        self._price_all = price_all
        self._held = held
        self._row = row
        self.restart()  # also validates the filters and the sort before any call (MarketFilterError)

    def restart(self) -> None:
        self.rates = MarketRates()
        self.raw_row: Any = None
        self.free = self.held = None
        if self._filters is not None:
            self.free = MarketSelection(dict(self._filters, available_only=True), self._sort_by, self._descending,
                                        price_all=self._price_all)
            if self._held:
                self.held = MarketSelection(dict(self._filters, available_only=False), self._sort_by,
                                            self._descending, price_all=self._price_all)

    def add(self, raw: Any) -> None:
        self.rates.add(raw)
        if self._row is not None and self.raw_row is None and self._row(raw):
            self.raw_row = raw
        if self.free is None:
            return
        failed = self.free.add(raw)
        if failed == AVAILABLE_ONLY and self.held is not None:
            # Only what others hold can be outbid: a free row is a candidate above, an offline one never.
            summary = summary_fields(raw)
            if summary["rented"] and summary["online"] is not False:
                self.held.add(raw)


def read_market(client, *, filters: dict | None = None, sort_by: str | None = "price", descending: bool = False,
                held: bool = False, row: Callable[[Any], bool] | None = None, currencies: list[str] | None = None,
                user_rates: dict[str, float] | None = None, price_all: bool = False) -> MarketRead:
    """One streamed marketplace read keeping only what the caller can use (see the module's docstring).

    `currencies` narrows the cheapest currency of the `row` server (the filters' own `currencies` do it for a
    fleet); `price_all` asks for every candidate's dollar price (to choose the cheapest currency)."""
    reader = _Reader(filters, sort_by, descending, held, row, price_all)
    rest = client.marketplace_each(reader.restart, reader.add)
    book = RateBook(reader.rates.rates())
    found = MarketRead(book.as_dict(), rest.get("my_servers") or [], book)
    selections = [s for s in (reader.free, reader.held) if s is not None]
    needed = set().union(*(s.rates_needed() for s in selections)) if selections else set()
    server_id = next((s.pending_server_id() for s in selections if s.pending_server_id() is not None), None)
    if reader.raw_row is not None:
        found.row = normalize_server(reader.raw_row, currencies)
        if found.row is not None and price_all:
            needed |= unpriced_currencies(found.row, currencies)
            server_id = found.row["id"] if server_id is None else server_id
    if needed:
        complete_rates(book, needed, user_rates, lambda: client.spot_marketplace(server_id))
        found.rates = book.as_dict()
    if reader.free is not None:
        found.free, found.excluded = reader.free.result(book)
    if reader.held is not None:
        found.held = reader.held.result(book)[0]
    if found.row is not None:
        price_server(found.row, book, currencies)
    return found
