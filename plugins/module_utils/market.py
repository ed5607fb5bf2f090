"""The market: normalise the `marketplace` listing, filter it, sort it, say why servers were left out, and read one
server's spot market.

The public names of this file are a contract shared by clore_market_info, clore_order and the inventory plugin;
normalisation lives in _market/normalize.py, the filters in _market/filters.py and the reading of a spot market in
_market/spot.py (private to this façade).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils._market.filters import (
    FILTER_ORDER,
    MARKET_FILTER_SPEC,
    SPEC_FILTERS,
    MarketFilterError,
    accepted_currency,
    failing_check,
    first_failing_filter,
    parse_version,
    prepare_filters,
    validate_filters,
    wanted_currencies,
)
from ansible_collections.clore.ai.plugins.module_utils.currencies import (
    CURRENCY_PREFERENCE,
    KNOWN_CURRENCIES,
    canonical_currency,
)
from ansible_collections.clore.ai.plugins.module_utils._market.normalize import (
    ON_DEMAND,
    SPOT,
    complete_server,
    normalize_server,
    price_per_day,
    price_server,
    summary_fields,
    unpriced_currencies,
)
from ansible_collections.clore.ai.plugins.module_utils._market.spot import (
    DEFAULT_BID_STEP,
    Rival,
    bid_needed,
    default_step,
    host_minimum,
    offers_of,
    rates_of,
    round_up,
    spot_market_summary,
    spot_market_view,
    top_rival,
)
from ansible_collections.clore.ai.plugins.module_utils.pricing import MarketRates, RateBook, require_rates

__all__ = [
    "DEFAULT_BID_STEP",
    "Rival",
    "bid_needed",
    "default_step",
    "host_minimum",
    "offers_of",
    "rates_of",
    "round_up",
    "top_rival",
    "CURRENCY_PREFERENCE",
    "FILTER_ORDER",
    "INVALID_ROW",
    "KNOWN_CURRENCIES",
    "MARKET_FILTER_SPEC",
    "ON_DEMAND",
    "SORT_ALIASES",
    "SORTABLE_FIELDS",
    "SPEC_FILTERS",
    "SPOT",
    "MarketFilterError",
    "MarketSelection",
    "accepted_currency",
    "canonical_currency",
    "first_failing_filter",
    "normalize_server",
    "parse_version",
    "prepare_filters",
    "price_per_day",
    "price_server",
    "select_servers",
    "sort_field",
    "spot_market_summary",
    "spot_market_view",
    "summary_fields",
    "unpriced_currencies",
    "validate_filters",
    "wanted_currencies",
]

# The `excluded` key counting rows dropped because they carry no usable id.
INVALID_ROW = "invalid_row"
# Filters that read only SUMMARY_FIELDS; they come first in FILTER_ORDER, so a server failing one of them can be
# counted without normalising the whole row (most of a large market, for a typical search).
_SUMMARY_FILTERS = frozenset({"server_ids", "available_only", "gpu", "gpu_count_min", "gpu_count_max"})

# Short sort names for the common orders; any scalar normalised field is accepted as well.
SORT_ALIASES: dict[str, str] = {
    "price": "usd_per_day",
    "cheapest_price": "cheapest_usd_per_day",
    "price_per_hour": "usd_per_hour",
    "price_per_gpu": "usd_per_gpu_hour",
    "spot_price": "spot_usd_per_day",
    "spot_price_per_gpu": "spot_usd_per_gpu_hour",
    "gpu_ram": "gpu_ram_gb",
    "ram": "ram_gb",
}
SORTABLE_FIELDS: tuple[str, ...] = (
    "id", "owner", "gpu_model", "gpu_count", "gpu_ram_gb", "ram_gb", "cpu", "cpu_cores", "cpu_threads", "disk",
    "disk_gb", "disk_speed", "net_up", "net_down", "country", "cuda_version", "reliability", "rating",
    "rating_count", "rented", "online", "mrl_hours", "usd_per_day", "usd_per_hour", "usd_per_gpu_hour",
    "spot_usd_per_day", "spot_usd_per_hour", "spot_usd_per_gpu_hour", "cheapest_usd_per_day",
    "cheapest_usd_per_hour", "cheapest_usd_per_gpu_hour",
)
# Sort fields in US dollars: sorting by one needs every matching server priced in dollars.
USD_SORT_FIELDS = frozenset(f for f in SORTABLE_FIELDS if "usd" in f)


def sort_field(sort_by: str | None) -> str:
    """The normalised field a sort name stands for; MarketFilterError for an unknown name."""
    name = sort_by or "price"
    field = SORT_ALIASES.get(name, name)
    if field not in SORTABLE_FIELDS:
        choices = ", ".join(sorted(set(SORT_ALIASES) | set(SORTABLE_FIELDS)))
        raise MarketFilterError(f"sort_by: {name!r} is not a sort key; use one of {choices}")
    return field


def _sort_value(field: str, value: Any) -> Any:
    if field == "cuda_version":
        return parse_version(value) or ()
    if isinstance(value, str):
        return value.lower()
    return value


def sort_servers(servers: list[dict], sort_by: str | None = "price", descending: bool = False) -> list[dict]:
    """Servers ordered by a sort key; servers without a value come last in either direction, ties by id."""
    field = sort_field(sort_by)
    known = [s for s in servers if s.get(field) is not None]
    unknown = [s for s in servers if s.get(field) is None]
    known.sort(key=lambda s: s["id"])
    known.sort(key=lambda s: _sort_value(field, s[field]), reverse=descending)
    unknown.sort(key=lambda s: s["id"])
    return known + unknown


def _usd_order_types(field: str, cap_type: str | None, paid: str | bool) -> set[str]:
    """The order types whose dollar prices a selection compares: the sort field's, a USD cap's (`cap_type`; None
    without one) and the type an order will pay for (`paid`; False when no order is priced)."""
    types = set()
    if field in USD_SORT_FIELDS:
        types.add(SPOT if field.startswith("spot_") else ON_DEMAND)
    if cap_type is not None:
        types.add(SPOT if cap_type == SPOT else ON_DEMAND)
    if paid:
        types.add(SPOT if paid == SPOT else ON_DEMAND)
    return types


# With a limit, MarketSelection keeps at most this many matching servers (or twice the limit) between trims.
_KEEP_AT_MOST = 1024


class MarketSelection:
    """select_servers fed one raw row at a time, for a listing decoded row by row: each raw row is dropped as soon as
    it is counted or normalised, so that only the matching servers are held (with a limit, only the best of them:
    sorting is a total order, so the first `limit` of a sorted part stay the first of the whole).

    A comparison in US dollars (max_price in USD, a sort by a dollar field, or `price_all`) of a server whose row
    does not price every currency it may be paid in waits for the coin rates (`result(book)`): such servers are held
    as `pending` until the whole answer has been read, then priced, judged and counted like the others.

    Validates the filters, sort and limit at construction (MarketFilterError); add() every row, then result().
    """

    def __init__(self, filters: dict, sort_by: str | None = "price", descending: bool = False,
                 limit: int | None = None, price_all: bool = False, order_type: str = ON_DEMAND) -> None:
        prepared = prepare_filters(filters)
        field = sort_field(sort_by)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise MarketFilterError(f"limit: {limit!r} is not a non-negative integer")
        self.sort_by = sort_by
        self.descending = descending
        self.limit = limit
        self.currencies = wanted_currencies(filters)
        self._trim_at = None if limit is None else max(2 * limit, _KEEP_AT_MOST)
        self._names = [name for name, _check in prepared]
        head_length = 0
        while head_length < len(prepared) and prepared[head_length][0] in _SUMMARY_FILTERS:
            head_length += 1
        self._head = prepared[:head_length]
        cap = (filters or {}).get("max_price") or {}
        usd_cap = "max_price" in self._names and canonical_currency(cap.get("currency") or "USD", allow_usd=True) == "USD"
        # What needs dollar prices, for the failure that names it.
        needs = ((f"sort_by {sort_by or 'price'}", field in USD_SORT_FIELDS), ("max_price in USD", usd_cap),
                 ("choosing the cheapest currency", price_all))
        self.usd_needs = [text for text, needed in needs if needed]
        self._usd_types = _usd_order_types(field, cap.get("type") if usd_cap else None, price_all and order_type)
        deferred = {"max_price"} if usd_cap else set()
        self._tail = [(n, c) for n, c in prepared[head_length:] if n not in deferred]
        self._deferred = [(n, c) for n, c in prepared[head_length:] if n in deferred]
        self.restart()

    def restart(self) -> None:
        """Forget every row added so far."""
        self.total = 0
        self.invalid = 0
        self.matched = 0
        self.excluded = {name: 0 for name in self._names}
        self.matching: list[dict] = []
        self.pending: list[dict] = []

    def add(self, raw: Any) -> str | None:
        """Count one raw row: under the first filter it fails, as invalid, or as a match (kept normalised).

        Returns what the row was counted under: the filter's name, INVALID_ROW, or None for a match (or a server
        held until the rates are known)."""
        self.total += 1
        summary = summary_fields(raw)
        if summary is None:
            self.invalid += 1
            return INVALID_ROW
        failed = failing_check(summary, self._head)
        if failed is None:
            server = complete_server(raw, summary, self.currencies)
            failed = failing_check(server, self._tail)
            if failed is None:
                if self.usd_needs and unpriced_currencies(server, self.currencies, self._usd_types):
                    self.pending.append(server)
                    return None
                failed = failing_check(server, self._deferred)
                if failed is None:
                    self._keep(server)
                    return None
        self.excluded[failed] += 1
        return failed

    def _keep(self, server: dict) -> None:
        self.matched += 1
        self.matching.append(server)
        if self._trim_at is not None and len(self.matching) >= self._trim_at:
            self.matching = sort_servers(self.matching, self.sort_by, self.descending)[:self.limit]

    def rates_needed(self) -> set[str]:
        """The currencies some held server needs a coin rate for."""
        needed: set[str] = set()
        for server in self.pending:
            needed |= unpriced_currencies(server, self.currencies, self._usd_types)
        return needed

    def pending_server_id(self) -> int | None:
        """A held server's id, for the one spot_marketplace call that may bring the rates."""
        return self.pending[0]["id"] if self.pending else None

    def result(self, book: RateBook | None = None) -> tuple[list[dict], dict[str, int]]:
        """(matching normalised servers sorted and limited, {filter: servers it excluded}), as select_servers.

        `book` prices what the rows did not (NoUsdRate when a dollar comparison cannot be made); every server
        returned is priced with it."""
        if self.pending:
            require_rates(book or RateBook(), self.rates_needed(), " and ".join(self.usd_needs))
            for server in self.pending:
                price_server(server, book, self.currencies)
                failed = failing_check(server, self._deferred)
                if failed is None:
                    self._keep(server)
                else:
                    self.excluded[failed] += 1
            self.pending = []
        if book is not None:
            for server in self.matching:
                if unpriced_currencies(server, self.currencies):
                    price_server(server, book, self.currencies)
        excluded = dict(self.excluded)
        if self.invalid:
            excluded[INVALID_ROW] = self.invalid
        ordered = sort_servers(self.matching, self.sort_by, self.descending)
        return (ordered if self.limit is None else ordered[:self.limit]), excluded


def select_servers(
    raw_servers: Iterable[Any] | None,
    filters: dict,
    sort_by: str | None = "price",
    descending: bool = False,
    limit: int | None = None,
) -> tuple[list[dict], dict[str, int]]:
    """(matching normalised servers sorted and limited, {filter: servers it excluded}).

    Each server is counted under the first filter it fails, in FILTER_ORDER; every active filter has a count (0
    included) and INVALID_ROW counts rows without a usable id. Dollar prices the rows do not give come from the
    rows' own coin rates. Raises MarketFilterError for bad filters or sort, NoUsdRate when a dollar comparison
    finds no rate.
    """
    selection = MarketSelection(filters, sort_by, descending, limit)
    rates = MarketRates()
    for raw in raw_servers or ():
        rates.add(raw)
        selection.add(raw)
    return selection.result(RateBook(rates.rates()))
