"""The fleet plan: which orders to keep, which to cancel, which servers to rent, and whether it fits the budget.

Pure functions over normalised orders and servers: no API call here, so check mode plans exactly what a real run does.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD, USD_COIN, convert
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.bid_choice import free_server_bid
from ansible_collections.clore.ai.plugins.module_utils._order.request import Terms
from ansible_collections.clore.ai.plugins.module_utils.market import (
    CURRENCY_PREFERENCE,
    ON_DEMAND,
    canonical_currency,
    prepare_filters,
    price_per_day,
)

PRICE_EPSILON = 1e-9


@dataclass
class Candidate:
    """A free server we could rent, with the currency and per-day price this order would pay.

    `usd_per_day` and `usd_source` are that price in US dollars and where the figure came from (pricing.py);
    `currency_reason` says why this currency was chosen."""

    server_id: int
    currency: str
    price: float
    gpu_model: str | None = None
    gpu_count: int | None = None
    usd_per_day: float | None = None
    usd_source: str | None = None
    currency_reason: str | None = None

    def summary(self, order_type: str) -> dict:
        return {
            "server_id": self.server_id,
            "currency": self.currency,
            "price_per_day": self.price,
            "type": order_type,
            "gpu_model": self.gpu_model,
            "gpu_count": self.gpu_count,
            "usd_per_day": self.usd_per_day,
            "usd_source": self.usd_source,
            "currency_reason": self.currency_reason,
        }


@dataclass
class FleetPlan:
    keep: list[dict]
    cancel: list[dict]
    missing: int
    candidates: list[Candidate] = field(default_factory=list)


class BudgetExceeded(CloreError):
    """The fleet would cost more per day than its budget."""


@dataclass
class Refusal:
    """Why an order cannot be placed on a server; `filter` names the filter it fails ("max_price"), if any.

    For a max_price refusal, `currency` and `price` (per day, in that currency) are the cheapest offer the cap refused.
    """

    text: str
    filter: str | None = None
    currency: str | None = None
    price: float | None = None

    def __str__(self) -> str:
        return self.text

    def skip(self, server_id: int) -> dict:
        """The entry for the task's `skipped_servers` list."""
        return {"server_id": server_id, "price_per_day": self.price, "currency": self.currency, "reason": self.text}


class PriceCap:
    """max_price applied to the price an order would really pay, in the coin it would pay in.

    In USD, the price model's dollar figure for that coin (pricing.py) is judged; in a coin, the price is converted
    to it with the rates. Either is judged by the market filter's own max_price check (its reading of per day / hour
    / gpu_hour, and its slack) on a view of the server priced so. max_price.type does not change what is judged here:
    the order's own price (on-demand, or the spot bid).
    """

    def __init__(self, cap: dict, rates: dict[str, float]):
        self.currency = canonical_currency(cap.get("currency") or USD, allow_usd=True) or USD
        self.rates = rates
        self.text = f"max_price {float(cap['amount']):g} {self.currency}/{cap.get('per') or 'day'}"
        self._check = dict(prepare_filters({"max_price": dict(cap, type=ON_DEMAND)}, only=("max_price",)))["max_price"]

    def in_cap_currency(self, price: float, currency: str, usd: float | None = None) -> float | None:
        """The per-day price in the cap's currency (`usd`: the model's dollar figure for it); None when unknown."""
        if self.currency == USD and usd is not None:
            return usd
        return convert(price, currency, self.currency, self.rates)

    def admits(self, server: dict, price: float, currency: str, usd: float | None = None) -> bool:
        value = self.in_cap_currency(price, currency, usd)
        if value is None:
            return False
        view = {"gpu_count": server.get("gpu_count"), "usd_per_day": value, "prices": {ON_DEMAND: {self.currency: value}}}
        return self._check(view)

    def refusal(self, offers: list[tuple], what: str) -> Refusal:
        """The max_price refusal for offers [(currency, per-day price[, US dollars])] that are all above the cap (or
        unconvertible). `what` leads the text: "cheapest" (several currencies tried), "price" or "bid" (one)."""
        converted = [(value, currency, price) for currency, price, *usd in offers
                     if (value := self.in_cap_currency(price, currency, usd[0] if usd else None)) is not None]
        if not converted:
            currency, price = offers[0][:2]
            return Refusal(f"fails max_price: no exchange rate from {currency} to {self.currency} to check "
                           f"{price:g} {currency}/day against {self.text}", "max_price", currency, price)
        value, currency, price = min(converted)
        in_coin = "" if value == price else f" ({price:g} {currency}/day)"
        offer = f"{what} {value:.4f} {self.currency}/day in {currency}{in_coin}"
        if what == "cheapest":
            text = f"fails max_price: no accepted currency within {self.text}: {offer}"
        else:
            text = f"fails max_price: {offer} is above {self.text}"
        return Refusal(text, "max_price", currency, price)


def price_cap(terms: Terms, rates: dict[str, float]) -> PriceCap | None:
    """The task's max_price as a PriceCap; None without one."""
    return PriceCap(terms.max_price, rates) if terms.max_price else None


def _order_price(server: dict, order_type: str, currency: str, bid: float | None) -> float | None:
    """Per day in `currency`: the spot bid, or the server's on-demand price in that coin."""
    if order_type == "spot":
        return None if bid is None else float(bid)
    return price_per_day(server, order_type, currency)


def _usd(server: dict, order_type: str, currency: str, price: float | None,
         rates: dict[str, float] | None = None) -> float | None:
    """The order's price in US dollars: the price model's figure for an on-demand price; a spot bid at the coin's
    rate (None without `rates`: a cap then converts it itself)."""
    if price is None:
        return None
    if order_type != "spot":
        return (server.get("usd_per_day_by_currency") or {}).get(currency)
    if currency == USD_COIN:
        return price
    return convert(price, currency, USD, rates) if rates else None


def _as_list(wanted: str | list[str] | None) -> list[str] | None:
    if wanted is None or isinstance(wanted, list):
        return wanted or None
    return [wanted]


def choose_currency(server: dict, order_type: str, wanted: str | list[str] | None, cap: PriceCap | None = None,
                    bid: float | None = None) -> tuple[str | None, Refusal | None]:
    """(currency to pay the server in, None) or (None, why not); see choose_offer."""
    offer, refusal = choose_offer(server, order_type, wanted, cap, bid)
    return (offer.currency if offer else None), refusal


@dataclass
class Offer:
    """The currency an order pays in, its per-day price there, that price in US dollars, and why it was chosen."""

    currency: str
    price: float | None
    usd: float | None
    usd_source: str | None
    reason: str


def choose_offer(server: dict, order_type: str, wanted: str | list[str] | None, cap: PriceCap | None = None,
                 bid: float | None = None) -> tuple[Offer | None, Refusal | None]:
    """(the offer this order takes, None) or (None, why not).

    The order may pay in the currencies the server accepts, narrowed to `wanted` (the task's `currencies`; a
    single coin is a list of one). It pays in the cheapest of them in US dollars within `cap` (the spot `bid` counts
    as a price in each coin); currencies without a dollar price come after the priced ones, in CURRENCY_PREFERENCE
    order, and ties keep that order too.
    """
    allowed = server.get("allowed_currencies") or []
    wanted_list = _as_list(wanted)
    considered = [c for c in allowed if wanted_list is None or c in wanted_list]
    if not considered:
        return None, Refusal(f"does not accept {' or '.join(wanted_list or ['any known currency'])}")
    rank = {coin: i for i, coin in enumerate(CURRENCY_PREFERENCE)}
    sources = server.get("usd_source_by_currency" if order_type != "spot" else "spot_usd_source_by_currency") or {}
    offers = []
    for currency in considered:
        price = _order_price(server, order_type, currency, bid)
        if price is None and order_type != "spot":
            continue  # no price to pay in this coin
        usd = _usd(server, order_type, currency, price)
        offers.append((usd is None, usd or 0.0, rank.get(currency, len(rank)), currency, price, usd))
    offers.sort()
    if not offers:
        return None, Refusal("accepts no known currency with a price" if wanted_list is None
                             else f"has no {order_type} price in {' or '.join(considered)}")
    refused = []
    for _unpriced, _value, _rank, currency, price, usd in offers:
        if cap is None or (price is not None and cap.admits(server, price, currency, usd)):
            return Offer(currency, price, usd, sources.get(currency) if usd is not None else None,
                         _reason(currency, offers, cap, wanted_list)), None
        refused.append((currency, price, usd))
    if len(considered) == 1 and wanted_list is not None:
        return None, cap.refusal(refused, "bid" if order_type == "spot" else "price")
    return None, cap.refusal(refused, "cheapest")


def _reason(currency: str, offers: list[tuple], cap: PriceCap | None, wanted: list[str] | None) -> str:
    """Why the order pays in `currency`, with the dollar price of each currency it could pay in."""
    if len(offers) == 1:
        only = "the only currency allowed" if wanted else "the only currency the server accepts"
        return f"{currency}: {only} with a price"
    shown = ", ".join(f"{c} {'?' if usd is None else f'{usd:.4f}'}" for *_k, c, _p, usd in offers)
    within = f" within {cap.text}" if cap is not None else ""
    return f"{currency}: the cheapest in US dollars per day{within} (USD/day: {shown})"


def make_candidate(server: dict, terms: Terms,
                   rates: dict[str, float] | None = None) -> tuple[Candidate | None, Refusal | None]:
    """(candidate, None) when this order can be placed on `server`, else (None, the reason it cannot).

    The currency is the cheapest in US dollars of those allowed (choose_offer); with max_price, one whose price for
    this order is within it. `rates` convert prices to a cap in a coin, and a price that cannot be converted is never
    taken as within the cap.
    """
    order_type = terms.type
    bid = spot_bid(server, terms) if terms.spot else None
    offer, refusal = choose_offer(server, order_type, terms.wanted, price_cap(terms, rates or {}), bid)
    if offer is None:
        return None, refusal
    currency = offer.currency
    if order_type == "spot":
        minimum = price_per_day(server, "spot", currency)
        if bid is None:  # spot_max_price: the host's minimum is the bid on a free server
            return None, Refusal(f"the host's minimum spot price {minimum} {currency}/day is above spot_max_price "
                                 f"{terms.spot_max_price:g}" if minimum is not None
                                 else f"has no spot price in {currency}", currency=currency, price=minimum)
        if minimum is not None and bid + PRICE_EPSILON < minimum:
            return None, Refusal(f"spot_price {terms.spot_price} is below the host's minimum {minimum} {currency}/day")
        price = float(bid)
    else:
        price = price_per_day(server, "on-demand", currency)
        if price is None:
            return None, Refusal(f"has no on-demand price in {currency}")
    usd = _usd(server, order_type, currency, price, rates)
    source = offer.usd_source if order_type != "spot" else _rate_source(currency, rates)
    return Candidate(server["id"], currency, price, server.get("gpu_model"), server.get("gpu_count"),
                     usd, source if usd is not None else None, offer.reason), None


def _rate_source(currency: str, rates: dict[str, float] | None) -> str | None:
    """The usd_source of a bid converted at `rates` (a RateBook's, whose sources are not kept in a plain dict)."""
    if currency == USD_COIN:
        return "usd_coin"
    return getattr(rates, "sources", {}).get(currency, "market_rates") if rates else None


def spot_bid(server: dict, terms: Terms) -> float | None:
    """The bid on a free server: spot_price, or with spot_max_price the host's minimum when within it (else None)."""
    if terms.spot_price is not None:
        return float(terms.spot_price)
    minimum = price_per_day(server, "spot", terms.currency) if terms.currency else None
    return free_server_bid(minimum, float(terms.spot_max_price))


def order_price(order: dict) -> tuple[float, str] | None:
    """(per-day price, currency) of an existing order; None when the API did not say."""
    if order.get("price_per_day") is None or not order.get("currency"):
        return None
    return float(order["price_per_day"]), order["currency"]


def plan_fleet(members: list[dict], count: int, exact: bool, rates: dict[str, float]) -> FleetPlan:
    """Keep up to `count` members; with `exact`, cancel the surplus, most expensive (in USD) first."""
    if len(members) <= count or not exact:
        return FleetPlan(keep=list(members), cancel=[], missing=max(0, count - len(members)))

    def usd(order: dict) -> float:
        priced = order_price(order)
        value = convert(priced[0], priced[1], USD, rates) if priced else None
        # An order whose price we cannot read sorts as the most expensive: cancelling it is the cautious choice.
        return float("inf") if value is None else value

    by_cost = sorted(members, key=lambda o: (-usd(o), -o["id"]))
    surplus = len(members) - count
    return FleetPlan(keep=sorted(by_cost[surplus:], key=lambda o: o["id"]), cancel=by_cost[:surplus], missing=0)


class BudgetGuard:
    """The fleet's running per-day cost against `budget` ({amount, currency}), converted with market rates."""

    def __init__(self, budget: dict | None, kept: list[dict], rates: dict[str, float]):
        self.amount = None if budget is None else float(budget["amount"])
        self.currency = USD if budget is None else budget.get("currency") or USD
        self.rates = rates
        self.total = 0.0
        for order in kept:
            priced = order_price(order)
            if priced is not None:
                self.total += self._in_budget_currency(priced[0], priced[1], f"order {order['id']}")

    def _in_budget_currency(self, price: float, currency: str, what: str) -> float:
        value = convert(price, currency, self.currency, self.rates)
        if value is None:
            raise BudgetExceeded(f"cannot check the budget: no exchange rate from {currency} to {self.currency} for {what}")
        return value

    def cost(self, candidate: Candidate) -> float:
        if self.amount is None:
            return 0.0
        return self._in_budget_currency(candidate.price, candidate.currency, f"server {candidate.server_id}")

    def fits(self, candidate: Candidate) -> bool:
        return self.amount is None or self.total + self.cost(candidate) <= self.amount + PRICE_EPSILON

    def add(self, candidate: Candidate) -> None:
        self.total += self.cost(candidate)

    def within(self, candidates: list[Candidate], missing: int) -> list[Candidate]:
        """The first `missing` candidates, in order, that keep the fleet within budget (fewer when too few fit)."""
        if missing <= 0:
            return []
        if self.amount is None:
            return candidates[:missing]
        chosen, total = [], self.total
        for candidate in candidates:
            cost = self.cost(candidate)
            if total + cost <= self.amount + PRICE_EPSILON:
                chosen.append(candidate)
                total += cost
                if len(chosen) == missing:
                    break
        return chosen

    def choose(self, candidates: list[Candidate], missing: int) -> list[Candidate]:
        """The first `missing` candidates, in order, that keep the fleet within budget; BudgetExceeded if too few."""
        chosen = self.within(candidates, missing)
        if len(chosen) >= missing or len(candidates) < missing:
            return chosen  # enough, or too few servers at all: the caller says so, with the filters' exclusions
        cheapest = sorted(self.cost(c) for c in candidates)[:missing]
        after = self.total + sum(cheapest)
        raise BudgetExceeded(
            f"budget exceeded: renting {missing} more would bring the fleet to {after:.4f} {self.currency}/day "
            f"at the cheapest matching servers (kept orders: {self.total:.4f}), over the budget of "
            f"{self.amount:.4f} by {after - self.amount:.4f} {self.currency}/day"
        )


class RivalSource(Protocol):
    """Servers others hold on spot that the cap can win, read only as far as asked (spot.RivalCandidates)."""

    def take(self, wanted: int) -> list[Candidate]: ...

    def __iter__(self) -> Iterator[Candidate]: ...


class NoRivals:
    """The rival source of a task that does not bid up to a cap: nothing to outbid."""

    def take(self, wanted: int) -> list[Candidate]:
        return []

    def __iter__(self) -> Iterator[Candidate]:
        return iter(())


@dataclass
class FleetCandidates:
    """The servers a fleet may rent, in the order docs/spot.md promises: the free ones first (at their price, or the
    host's minimum bid), then the servers others hold on spot that the cap can win, cheapest minimum first.

    Rivals count whenever the free ones are too few (planned) or fail (fail-over reads on into them).
    """

    free: list[Candidate]
    rivals: RivalSource = field(default_factory=NoRivals)

    def planned(self, missing: int) -> list[Candidate]:
        """What the run plans to rent from (check mode shows the first `missing`): the free ones, and rivals only
        when the free ones fall short of `missing` - as many as that, and one spare read ahead so that the budget
        can choose past a rival it does not fit."""
        short = missing - len(self.free)
        return self.free + (self.rivals.take(short + 1) if short > 0 else [])

    def __iter__(self) -> Iterator[Candidate]:
        """Fail-over's order: every free one, then every rival, each rival read only when fail-over gets to it."""
        tried = set()
        for candidate in self._all():
            if candidate.server_id not in tried:
                tried.add(candidate.server_id)
                yield candidate

    def _all(self) -> Iterable[Candidate]:
        yield from self.free
        yield from self.rivals


def shortfall(missing: int, rented: int, excluded: dict[str, int], passed_over: Iterable[str]) -> dict:
    """How far a fleet falls short of `missing` after renting `rented`, and why: the servers each filter or order
    constraint `excluded` (as the task's `excluded`), and the reasons of the candidates passed over (as in
    `skipped_servers`: fail-over refusals, the budget, spot wins above the cap)."""
    count = max(0, missing - rented)
    if count == 0:
        return {"count": 0, "reasons": {}}
    reasons = Counter({name: n for name, n in excluded.items() if n})
    reasons.update(passed_over)
    return {"count": count, "reasons": dict(reasons)}
