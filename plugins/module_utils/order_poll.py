"""One poll of the clore.ai.orders event source: read what OrderWatch compares, through the collection's client.

Calls per poll: my_orders (ended ones included); one spot_marketplace per active spot order (spot_markets); wallets
when wallet_low is set or an order ended whose end the wallet may explain; one spot_marketplace for the coin rates
when an order in a coin has no dollar price of its own and no spot market of this poll gave one (at most every
RATES_MAX_AGE seconds, but every poll for a spend_over in US dollars). All of them go through the shared rate
limiter, so they count in the same per-key limit as every playbook of the controller.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient
from ansible_collections.clore.ai.plugins.module_utils.currencies import USD, USD_COIN, convert
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.order_watch import (
    OrderWatch,
    Snapshot,
    SpotView,
    check_thresholds,
    end_reason,
)
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.market import rates_of
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    SPOT_MARKET_RATES,
    RateBook,
    check_usd_rates,
    complete_rates,
    require_rates,
)
from ansible_collections.clore.ai.plugins.module_utils.reaping import Lifetimes, add_money_and_age, service_now
from ansible_collections.clore.ai.plugins.module_utils.wallets import normalize_wallet

# Seconds the coin rates of one spot_marketplace call price orders before they are read again.
RATES_MAX_AGE = 600.0


def spot_view(market: dict, order_id: int) -> SpotView:
    """Our order's place in its server's spot market (a spot_marketplace answer, read defensively)."""
    offers = [o for o in (market.get("offers") if isinstance(market.get("offers"), list) else [])
              if isinstance(o, dict)]
    mine = next((o for o in offers if o.get("offer_id") == order_id), None)
    top = next((o for o in offers if o.get("active")), None)
    bid = _number(top.get("bid")) if top else None
    currency = top.get("currency") if top else None
    return SpotView(
        running=bool(mine and mine.get("active")),
        listed=mine is not None,
        top_bid=bid,
        top_currency=currency if isinstance(currency, str) else None,
        top_mine=None if top is None else (top.get("offer_id") == order_id or bool(top.get("my"))),
        top_usd=None if bid is None or not isinstance(currency, str) else convert(bid, currency, USD, rates_of(market)),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class OrderPoll:
    """One source's poll: my orders, their spot markets and (when needed) my wallets, into OrderWatch's events."""

    def __init__(self, client: CloreClient, args: dict, warn: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.thresholds = check_thresholds(args)
        self.usd_rates = check_usd_rates(args.get("usd_rates"))
        spot_markets = args.get("spot_markets", True)
        if not isinstance(spot_markets, bool):
            raise CloreConfigError(f"spot_markets must be true or false, got {spot_markets!r}", option="spot_markets")
        self.spot_markets = spot_markets
        self.watch = OrderWatch(self.thresholds)
        self._rates: dict = {}  # the coin rates of the last spot_marketplace call made for them, and when
        self._rates_read_at = -RATES_MAX_AGE
        self.warn = warn or (lambda message: None)

    def _orders(self) -> tuple[dict[int, dict], dict[int, dict], float]:
        raw_orders = self.client.my_orders(return_completed=True)
        now = service_now(self.client)
        active, ended = {}, {}
        for raw in raw_orders:
            try:
                order = normalize_order(raw, now)
            except ValueError as err:
                self.warn(f"Skipping a malformed {err}")
                continue
            (ended if order["expired"] else active)[order["id"]] = order
        return active, ended, now

    def _spot(self, active: dict[int, dict], book: RateBook, now: float) -> dict[int, SpotView]:
        views = {}
        if not self.spot_markets:
            return views
        for order in active.values():
            if order.get("spot"):
                market = self.client.spot_marketplace(order["server_id"])
                book.add(market.get("currency_rates_in_usd"), SPOT_MARKET_RATES)
                views[order["id"]] = spot_view(market, order["id"])
        if views:
            self._rates, self._rates_read_at = dict(book.as_dict()), now
        return views

    def _price(self, orders: dict[int, dict], book: RateBook, now: float) -> dict[int, dict]:
        """Each order with its age, money in US dollars and lifetime, as clore_order_info returns it.

        A coin no order prices itself takes the rate of this poll's spot markets, else of one spot_marketplace call
        made at most every RATES_MAX_AGE seconds (every poll for a spend_over in US dollars), then usd_rates."""
        needed = {o["currency"] for o in orders.values()
                  if o.get("currency") not in (None, USD_COIN) and o.get("usd_source") is None}
        spend = self.thresholds.spend_over
        must = spend is not None and spend["currency"] == USD
        if book.missing(needed) and not must and now - self._rates_read_at < RATES_MAX_AGE:
            book.add(self._rates, SPOT_MARKET_RATES)
        if book.missing(needed):
            server_id = next(o["server_id"] for o in orders.values() if o.get("currency") in needed)
            complete_rates(book, needed, self.usd_rates, lambda: self._read_rates(server_id, now))
        if must:
            require_rates(book, needed, "spend_over in USD")
        rates = book.as_dict()
        due = Lifetimes(self.client.state_path, self.client.account).due_times()
        return {i: add_money_and_age(o, rates, now, due.get(i)) for i, o in orders.items()}

    def _read_rates(self, server_id: int, now: float) -> dict:
        market = self.client.spot_marketplace(server_id)
        rates = market.get("currency_rates_in_usd")
        self._rates, self._rates_read_at = (dict(rates) if isinstance(rates, dict) else {}), now
        return market

    def _wallets(self, ends: bool) -> dict[str, dict] | None:
        if not (self.thresholds.wallet_low or ends):
            return None
        try:
            wallets = [w for w in map(normalize_wallet, self.client.wallets()) if w is not None]
        except CloreError:
            if self.thresholds.wallet_low:
                raise
            return None  # only an end's reason needed them: it stays unknown
        return {w["currency"]: w for w in wallets}

    def snapshot(self) -> Snapshot:
        active, ended, now = self._orders()
        book = RateBook()
        spot = self._spot(active, book, now)
        active = self._price(active, book, now)
        snapshot = Snapshot(active=active, ended=ended, now=now, spot=spot)
        ending = self.watch.ending(snapshot)
        # Only the ends told now are priced: the ended orders listed may be the account's whole history.
        ended.update(self._price({i: ended[i] for i in ending if i in ended}, book, now))
        for order_id in ending:  # the spot market tells whether an ended spot order was outbid
            order = ended.get(order_id) or (self.watch.active or {}).get(order_id) or {}
            if order.get("spot") and self.spot_markets and order_id not in self.watch.outbid_ids:
                try:
                    spot[order_id] = spot_view(self.client.spot_marketplace(order["server_id"]), order_id)
                except CloreError:
                    pass  # the reason stays unknown; the end is still told
        snapshot.wallets = self._wallets(any(self._end_needs_wallets(i, snapshot) for i in ending))
        return snapshot

    def _end_needs_wallets(self, order_id: int, snapshot: Snapshot) -> bool:
        """Whether telling why this order ended needs the balances: not when it expired or was outbid (a call less
        before the event is told: a playbook that restores a fleet starts a second sooner)."""
        order = snapshot.ended.get(order_id) or (self.watch.active or {}).get(order_id)
        if order is None:
            return True
        spot = snapshot.spot.get(order_id) or self.watch.spot.get(order_id)
        reason, _detail = end_reason(order, snapshot.now, order_id in self.watch.outbid_ids, spot, None)
        return reason is None

    def __call__(self) -> list[dict]:
        return self.watch.events(self.snapshot())
