"""The fleet plan: which orders to keep, which to cancel, which servers to rent, and whether it fits the budget.

Pure functions over normalised orders and servers: no API call here, so check mode plans exactly what a real run does.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.market import CURRENCY_PREFERENCE, price_per_day

USD = "USD"
USD_COIN = "USD-Blockchain"
# Which `price.usd` field of a marketplace row holds the dollar value of the on-demand price in each coin.
USD_FIELD_BY_CURRENCY = {"USD-Blockchain": "on_demand_usd", "CLORE-Blockchain": "on_demand_clore", "bitcoin": "on_demand_btc"}
PRICE_EPSILON = 1e-9


@dataclass
class Candidate:
    """A free server we could rent, with the currency and per-day price this order would pay."""

    server_id: int
    currency: str
    price: float
    gpu_model: str | None = None
    gpu_count: int | None = None

    def summary(self, order_type: str) -> dict:
        return {
            "server_id": self.server_id,
            "currency": self.currency,
            "price_per_day": self.price,
            "type": order_type,
            "gpu_model": self.gpu_model,
            "gpu_count": self.gpu_count,
        }


@dataclass
class FleetPlan:
    keep: list[dict]
    cancel: list[dict]
    missing: int
    candidates: list[Candidate] = field(default_factory=list)


class BudgetExceeded(CloreError):
    """The fleet would cost more per day than its budget."""


def usd_rates(raw_servers: list) -> dict[str, float]:
    """US dollars per unit of each coin, the median over the market's own dollar figures; USD-Blockchain is 1."""
    samples: dict[str, list[float]] = {}
    for raw in raw_servers or []:
        price = raw.get("price") if isinstance(raw, dict) else None
        if not isinstance(price, dict):
            continue
        on_demand, usd = price.get("on_demand"), price.get("usd")
        if not isinstance(on_demand, dict) or not isinstance(usd, dict):
            continue
        for currency, usd_field in USD_FIELD_BY_CURRENCY.items():
            try:
                amount, dollars = float(on_demand[currency]), float(usd[usd_field])
            except (KeyError, TypeError, ValueError):
                continue
            if amount > 0 and dollars > 0:
                samples.setdefault(currency, []).append(dollars / amount)
    rates = {currency: statistics.median(values) for currency, values in samples.items()}
    rates[USD_COIN] = 1.0
    return rates


def convert(amount: float, currency: str, target: str, rates: dict[str, float]) -> float | None:
    """amount in `currency` expressed in `target` ('USD' or a coin); None when a rate is unknown."""
    if currency == target or (target == USD and currency == USD_COIN):
        return amount
    to_usd = 1.0 if currency == USD else rates.get(currency)
    if to_usd is None:
        return None
    dollars = amount * to_usd
    if target in (USD, USD_COIN):
        return dollars
    from_usd = rates.get(target)
    return dollars / from_usd if from_usd else None


def choose_currency(server: dict, order_type: str, wanted: str | None) -> str | None:
    """The currency to pay a server in: `wanted` if it accepts it, else its first in CURRENCY_PREFERENCE."""
    allowed = server.get("allowed_currencies") or []
    if wanted:
        return wanted if wanted in allowed else None
    for currency in CURRENCY_PREFERENCE:
        if currency in allowed and (order_type == "spot" or price_per_day(server, order_type, currency) is not None):
            return currency
    return None


def make_candidate(server: dict, params: dict) -> tuple[Candidate | None, str | None]:
    """(candidate, None) when this order can be placed on `server`, else (None, the reason it cannot)."""
    order_type = params["type"]
    currency = choose_currency(server, order_type, params.get("currency"))
    if currency is None:
        wanted = params.get("currency")
        return None, f"does not accept {wanted}" if wanted else "accepts no known currency with a price"
    if order_type == "spot":
        minimum = price_per_day(server, "spot", currency)
        if minimum is not None and params["spot_price"] + PRICE_EPSILON < minimum:
            return None, f"spot_price {params['spot_price']} is below the host's minimum {minimum} {currency}/day"
        price = float(params["spot_price"])
    else:
        price = price_per_day(server, "on-demand", currency)
        if price is None:
            return None, f"has no on-demand price in {currency}"
    return Candidate(server["id"], currency, price, server.get("gpu_model"), server.get("gpu_count")), None


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

    def choose(self, candidates: list[Candidate], missing: int) -> list[Candidate]:
        """The first `missing` candidates, in order, that keep the fleet within budget; BudgetExceeded if too few."""
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
                    return chosen
        if len(candidates) < missing:
            return chosen  # too few servers at all: the caller says so, with the filters' exclusions
        cheapest = sorted(self.cost(c) for c in candidates)[:missing]
        after = self.total + sum(cheapest)
        raise BudgetExceeded(
            f"budget exceeded: renting {missing} more would bring the fleet to {after:.4f} {self.currency}/day "
            f"at the cheapest matching servers (kept orders: {self.total:.4f}), over the budget of "
            f"{self.amount:.4f} by {after - self.amount:.4f} {self.currency}/day"
        )
