"""The order watch of the clore.ai.orders event source: my orders between two polls, as events (pure functions).

A poll (order_poll.py) reads my orders, the spot markets of my spot orders and, when asked, my wallets into a
Snapshot; OrderWatch compares it with the one before and says what happened:
  - order_created (a new active order), order_ready (its SSH endpoint appeared), order_ended (with `reason`; an
    order missing from the listing is told ended only when it is missing from the next one too);
  - order_outbid (a standing spot order whose server runs another renter's bid), spot_top_bid_changed (the bid that
    runs on a spot order's server is another one, or another amount);
  - spend_over, ending_soon (once per order), wallet_low (once until the balance is back at the threshold).
The first poll is the baseline: orders that exist then are not created, orders ended then not ended; the
conditions (outbid, spend, time left, balance) are told at the first poll too.

The API gives no reason for an end; it is judged from evidence, best first: `expired` when the rental length has
passed, `outbid` when a spot order was seen outbid or its server now runs another renter's bid, `balance` when the
wallet of the order's currency is empty, `cancelled` when all of these were checked and none holds; null when some
evidence is missing (`reason_detail` says which).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import KNOWN_CURRENCIES, USD, canonical_currency
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.reaping import spend_above

ORDER_CREATED = "order_created"
ORDER_READY = "order_ready"
ORDER_ENDED = "order_ended"
ORDER_OUTBID = "order_outbid"
SPOT_TOP_BID_CHANGED = "spot_top_bid_changed"
SPEND_OVER = "spend_over"
ENDING_SOON = "ending_soon"
WALLET_LOW = "wallet_low"
EVENT_TYPES = (ORDER_CREATED, ORDER_READY, ORDER_ENDED, ORDER_OUTBID, SPOT_TOP_BID_CHANGED, SPEND_OVER, ENDING_SOON,
               WALLET_LOW)
CANCELLED, EXPIRED, OUTBID, BALANCE = "cancelled", "expired", "outbid", "balance"
# The source's own arguments, besides the connection and timing ones (event_source.COMMON_ARGS).
ORDERS_ARGS = frozenset({"spend_over", "ending_soon_hours", "wallet_low", "spot_markets", "usd_rates"})
# An order this close to the end of its rental length when it ended has expired (the API's clocks are seconds).
_EXPIRY_SLACK_SECONDS = 120


@dataclass
class SpotView:
    """What a spot order's server market says: whether our bid runs, and the bid that does."""

    running: bool
    listed: bool  # our offer is in the market
    top_bid: float | None
    top_currency: str | None
    top_mine: bool | None
    top_usd: float | None = None

    def top(self) -> tuple[Any, ...]:
        return (self.top_bid, self.top_currency, self.top_mine)

    def as_dict(self) -> dict:
        return {"running": self.running, "listed": self.listed, "top_bid": self.top_bid,
                "top_currency": self.top_currency, "top_mine": self.top_mine, "top_usd": self.top_usd}

    @property
    def outbid(self) -> bool:
        """Another renter's bid runs on the server and ours does not."""
        return not self.running and self.top_bid is not None and self.top_mine is False


@dataclass
class Snapshot:
    """One poll: active orders and the orders listed as ended (each by id, the flat record of clore_order_info),
    the spot view of each active spot order read, the wallets by currency (None when not read), the service's time."""

    active: dict[int, dict]
    ended: dict[int, dict]
    now: float
    spot: dict[int, SpotView] = field(default_factory=dict)
    wallets: dict[str, dict] | None = None


@dataclass
class Thresholds:
    """The source's condition arguments, checked: spend_over {amount, currency}, ending_soon in seconds,
    wallet_low {coin: balance}."""

    spend_over: dict | None = None
    ending_soon_seconds: float | None = None
    wallet_low: dict[str, float] = field(default_factory=dict)


def _positive(value: Any, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        rule = "0 or more" if allow_zero else "above 0"
        raise CloreConfigError(f"{name} must be a number {rule}, got {value!r}", option=name.split(".")[0])
    return float(value)


def check_thresholds(args: dict) -> Thresholds:
    """The condition arguments, before any API call (CloreConfigError naming the argument and the rule).

    spend_over: a number (US dollars) or {amount, currency} (USD or a coin); ending_soon_hours: hours above 0;
    wallet_low: {coin: balance} (coins or their aliases)."""
    result = Thresholds()
    spend = args.get("spend_over")
    if spend is not None:
        if not isinstance(spend, dict):
            spend = {"amount": spend}
        unknown = set(spend) - {"amount", "currency"}
        if unknown:
            raise CloreConfigError(f"spend_over: unknown keys {', '.join(sorted(map(str, unknown)))}; "
                                   "use amount and currency", option="spend_over")
        currency = canonical_currency(spend.get("currency") or USD, allow_usd=True)
        if currency is None:
            raise CloreConfigError(f"spend_over.currency: {spend.get('currency')!r} is not USD or a coin "
                                   f"({', '.join(KNOWN_CURRENCIES)})", option="spend_over")
        result.spend_over = {"amount": _positive(spend.get("amount"), "spend_over.amount", True),
                             "currency": currency}
    hours = args.get("ending_soon_hours")
    if hours is not None:
        result.ending_soon_seconds = _positive(hours, "ending_soon_hours") * 3600
    low = args.get("wallet_low")
    if low is not None:
        if not isinstance(low, dict) or not low:
            raise CloreConfigError("wallet_low must be a mapping of a coin to a balance, such as "
                                   "{CLORE-Blockchain: 500}", option="wallet_low")
        for name, amount in low.items():
            coin = canonical_currency(name)
            if coin is None:
                raise CloreConfigError(f"wallet_low: {name!r} is not a coin; use {', '.join(KNOWN_CURRENCIES)}",
                                       option="wallet_low")
            result.wallet_low[coin] = _positive(amount, f"wallet_low.{coin}", True)
    return result


def _expired(order: dict, now: float) -> bool:
    created, length = order.get("created_at"), order.get("mrl_seconds")
    return created is not None and length is not None and now >= created + length - _EXPIRY_SLACK_SECONDS


def end_reason(order: dict, now: float, seen_outbid: bool, spot: SpotView | None,
               wallets: dict[str, dict] | None) -> tuple[str | None, str]:
    """(reason, how it was judged) for an order that ended by `now`: expired, outbid, balance, cancelled or None."""
    if _expired(order, now):
        return EXPIRED, "its rental length has passed"
    if order.get("spot"):
        if seen_outbid:
            return OUTBID, "it was seen outbid before it ended"
        if spot is not None and spot.top_bid is not None and spot.top_mine is False:
            return OUTBID, f"its server runs another renter's bid of {spot.top_bid:g} {spot.top_currency}/day"
    if wallets is None:
        return None, "the wallets could not be read"
    wallet = wallets.get(order.get("currency") or "")
    balance = wallet.get("balance") if wallet else None
    if balance is not None and balance <= 0:
        return BALANCE, f"the {order.get('currency')} wallet is empty ({balance:g})"
    if order.get("spot") and spot is None:
        return None, "the spot market of its server could not be read"
    if balance is None:
        return None, f"no balance is known for {order.get('currency')}"
    return CANCELLED, "not past its rental length, not outbid, and its wallet is not empty"


class OrderWatch:
    """The memory of one source between polls, and the events of each poll (events(snapshot))."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.active: dict[int, dict] | None = None  # None until the baseline
        self.missing: set[int] = set()  # active before, missing from the last listing (not told ended yet)
        self.ended_ids: set[int] = set()
        self.spot: dict[int, SpotView] = {}
        self.outbid_ids: set[int] = set()
        self.spend_told: set[int] = set()
        self.ending_told: set[int] = set()
        self.low_wallets: set[str] = set()

    def ending(self, snapshot: Snapshot) -> list[int]:
        """The ids of the orders whose end this poll tells: those active at the last poll that are listed as ended
        now, or missing from the listing for the second poll in a row (a listing may miss an order once: telling an
        end that did not happen could rent a replacement), and those listed as ended that began and ended between
        two polls (never seen, not in the baseline). Empty at the baseline."""
        if self.active is None:
            return []
        gone = [i for i in self.active if i not in snapshot.active]
        told = [i for i in gone if i in snapshot.ended or i in self.missing]
        return told + [i for i in snapshot.ended if i not in self.ended_ids and i not in self.active]

    def events(self, snapshot: Snapshot) -> list[dict]:
        baseline = self.active is None
        events: list[dict] = []
        missing: set[int] = set()
        if not baseline:
            ending = self.ending(snapshot)
            events += self._ended(snapshot, ending)
            missing = {i for i in self.active if i not in snapshot.active and i not in ending}
        for order_id, order in snapshot.active.items():
            before = None if baseline else self.active.get(order_id)
            if not baseline and before is None:
                events.append({"type": ORDER_CREATED, "order": order})
            if not baseline and order.get("ready") and not (before or {}).get("ready"):
                events.append({"type": ORDER_READY, "order": order,
                               "previous": None if before is None else {"ready": False}})
            events += self._spot_events(order, snapshot.spot.get(order_id), baseline)
            events += self._conditions(order)
        events += self._wallets(snapshot.wallets)
        # An order missing once is kept as it was last seen, to be told ended only if it is missing again.
        kept = {i: self.active[i] for i in missing}
        self.missing = missing
        self.active = dict(snapshot.active) | kept
        self.ended_ids |= set(snapshot.ended)
        for memory in (self.spend_told, self.ending_told, self.outbid_ids):
            memory &= set(self.active)
        self.spot = {i: v for i, v in {**self.spot, **snapshot.spot}.items() if i in self.active}
        return events

    def _ended(self, snapshot: Snapshot, ending: list[int]) -> list[dict]:
        events = []
        for order_id in ending:
            last = self.active.get(order_id)
            order = snapshot.ended.get(order_id) or last
            spot = snapshot.spot.get(order_id) or self.spot.get(order_id)
            reason, detail = end_reason(order, snapshot.now, order_id in self.outbid_ids, spot, snapshot.wallets)
            events.append({"type": ORDER_ENDED, "order": order, "reason": reason, "reason_detail": detail,
                           "listed": order_id in snapshot.ended,
                           "previous": None if last is None else {"ended": False}})
        return events

    def _spot_events(self, order: dict, view: SpotView | None, baseline: bool) -> list[dict]:
        if view is None:
            return []
        events = []
        order_id = order["id"]
        before = self.spot.get(order_id)
        if view.outbid and order_id not in self.outbid_ids:
            self.outbid_ids.add(order_id)
            events.append({"type": ORDER_OUTBID, "order": order, "spot": view.as_dict(),
                           "reason": f"server {order['server_id']} runs another renter's bid of "
                                     f"{view.top_bid:g} {view.top_currency}/day"})
        elif view.running:
            self.outbid_ids.discard(order_id)  # a raised bid runs again: a later outbid is told again
        if not baseline and before is not None and before.top() != view.top():
            events.append({"type": SPOT_TOP_BID_CHANGED, "order": order, "spot": view.as_dict(),
                           "previous": before.as_dict()})
        return events

    def _conditions(self, order: dict) -> list[dict]:
        events = []
        order_id = order["id"]
        spend = self.thresholds.spend_over
        if spend is not None and order_id not in self.spend_told and spend_above(order, spend, {}):
            self.spend_told.add(order_id)
            events.append({"type": SPEND_OVER, "order": order, "threshold": dict(spend)})
        soon = self.thresholds.ending_soon_seconds
        left = order.get("time_left_seconds")
        if soon is not None and order_id not in self.ending_told and left is not None and left < soon:
            self.ending_told.add(order_id)
            events.append({"type": ENDING_SOON, "order": order, "hours_left": round(left / 3600, 4),
                           "threshold_hours": soon / 3600})
        return events

    def _wallets(self, wallets: dict[str, dict] | None) -> list[dict]:
        events = []
        if wallets is None:
            return events
        for coin, threshold in self.thresholds.wallet_low.items():
            wallet = wallets.get(coin)
            balance = wallet.get("balance") if wallet else None
            if balance is None:
                continue
            if balance < threshold and coin not in self.low_wallets:
                self.low_wallets.add(coin)
                events.append({"type": WALLET_LOW, "wallet": wallet, "threshold": threshold})
            elif balance >= threshold:
                self.low_wallets.discard(coin)
        return events
