"""Fleet plans, candidates, currencies and the budget: pure functions over normalised data."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ansible_collections.clore.ai.plugins.module_utils.currencies import convert
from ansible_collections.clore.ai.plugins.module_utils.pricing import market_rates
from ansible_collections.clore.ai.plugins.module_utils.market import normalize_server
from ansible_collections.clore.ai.plugins.module_utils._order.plan import (
    BudgetExceeded,
    BudgetGuard,
    Candidate,
    FleetCandidates,
    PriceCap,
    choose_currency,
    make_candidate,
    plan_fleet,
    shortfall,
)

from ansible_collections.clore.ai.plugins.module_utils._order.request import Terms

from order_fakes import server

RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.05}


def order(order_id: int, price: float, currency: str = "USD-Blockchain") -> dict:
    return {"id": order_id, "price_per_day": price, "currency": currency}


def test_rates_come_from_the_markets_own_dollar_figures():
    rates = market_rates([server(1, 2.0, clore_rate=0.05), server(2, 4.0, clore_rate=0.05), {"id": 3}])
    assert rates["USD-Blockchain"] == 1.0
    assert rates["CLORE-Blockchain"] == pytest.approx(0.05)
    assert convert(100, "CLORE-Blockchain", "USD", rates) == pytest.approx(5.0)
    assert convert(5, "USD", "CLORE-Blockchain", rates) == pytest.approx(100.0)
    assert convert(1, "bitcoin", "USD", rates) is None


def test_plan_keeps_up_to_count_and_cancels_the_dearest_with_exact():
    members = [order(1, 2.0), order(2, 100.0, "CLORE-Blockchain"), order(3, 6.0)]
    plan = plan_fleet(members, 1, True, RATES)
    assert [o["id"] for o in plan.cancel] == [3, 2]  # 6 USD, then 100 CLORE = 5 USD
    assert [o["id"] for o in plan.keep] == [1] and plan.missing == 0
    loose = plan_fleet(members, 1, False, RATES)
    assert loose.cancel == [] and len(loose.keep) == 3
    assert plan_fleet(members, 5, True, RATES).missing == 2


def test_candidate_currency_price_and_spot_minimum():
    row = normalize_server(server(9, 2.0, spot_min=1.0))
    on_demand, _reason = make_candidate(row, Terms(type="on-demand", currency=None))
    assert (on_demand.currency, on_demand.price) == ("USD-Blockchain", 2.0)
    clore, _reason = make_candidate(row, Terms(type="on-demand", currency="CLORE-Blockchain"))
    assert clore.price == pytest.approx(40.0)
    none, reason = make_candidate(row, Terms(type="on-demand", currency="bitcoin"))
    assert none is None and str(reason) == "does not accept bitcoin"
    low, reason = make_candidate(row, Terms(type="spot", currency="USD-Blockchain", spot_price=0.5))
    assert low is None and "below the host's minimum 1.0" in str(reason)
    bid, _reason = make_candidate(row, Terms(type="spot", currency="USD-Blockchain", spot_price=1.5))
    assert bid.price == 1.5


def test_budget_chooses_what_fits_and_refuses_by_how_much():
    guard = BudgetGuard({"amount": 10.0, "currency": "USD"}, [order(1, 4.0)], RATES)
    offers = [Candidate(1, "USD-Blockchain", 5.0), Candidate(2, "CLORE-Blockchain", 60.0),
              Candidate(3, "USD-Blockchain", 1.0)]
    # In order, while they fit: 4 kept + 5 = 9, then 60 CLORE (3 USD) would pass 10, then 1 makes exactly 10.
    assert [c.server_id for c in guard.choose(offers, 2)] == [1, 3]
    with pytest.raises(BudgetExceeded, match=r"to 13\.0000 USD/day .* by 3\.0000 USD/day"):
        guard.choose(offers, 3)
    assert BudgetGuard(None, [], {}).choose(offers, 2) == offers[:2]


# A server whose preferred coin (USD-Blockchain) is dearer than its CLORE price: 6.6205 USD against 5.88 USD.
SPLIT = {"USD-Blockchain": 6.6205, "CLORE-Blockchain": 235.2}  # 235.2 CLORE at 0.025 USD = 5.88 USD
SPLIT_RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.025}


def split_server(count: int = 1) -> dict:
    raw = server(10622, 6.6205, count=count, coins=("USD-Blockchain", "CLORE-Blockchain"))
    raw["price"]["on_demand"] = dict(SPLIT)
    raw["price"]["usd"] = {"on_demand_usd": 6.6205, "on_demand_clore": 5.88, "spot": 3.0}
    return normalize_server(raw)


def on_demand(cap: dict | None, currency: str | None = None) -> Terms:
    return Terms(type="on-demand", currency=currency, max_price=cap)


def test_without_a_cap_the_cheapest_currency_in_dollars_is_chosen():
    # USD-Blockchain used to be preferred: 6.6205 USD paid where 5.88 USD in CLORE was on offer.
    assert choose_currency(split_server(), "on-demand", None) == ("CLORE-Blockchain", None)
    candidate, refusal = make_candidate(split_server(), on_demand(None), SPLIT_RATES)
    assert (candidate.currency, candidate.price, refusal) == ("CLORE-Blockchain", 235.2, None)
    assert (candidate.usd_per_day, candidate.usd_source) == (5.88, "price.usd")
    assert candidate.currency_reason == ("CLORE-Blockchain: the cheapest in US dollars per day (USD/day: "
                                         "CLORE-Blockchain 5.8800, USD-Blockchain 6.6205)")


def test_the_allowed_currencies_narrow_the_choice():
    only_usd, refusal = make_candidate(split_server(), replace(on_demand(None), currencies=["USD-Blockchain"]))
    assert refusal is None and (only_usd.currency, only_usd.usd_source) == ("USD-Blockchain", "usd_coin")
    assert only_usd.currency_reason == "USD-Blockchain: the only currency allowed with a price"
    none, refusal = make_candidate(split_server(), replace(on_demand(None), currencies=["bitcoin"]))
    assert none is None and str(refusal) == "does not accept bitcoin"


def test_a_cap_in_a_coin_takes_the_currency_within_it():
    # 6.6205 USD-Blockchain is 264.82 CLORE: above a 250 CLORE cap; 235.2 CLORE is within it.
    cap = PriceCap({"amount": 250, "currency": "CLORE-Blockchain"}, SPLIT_RATES)
    assert choose_currency(split_server(), "on-demand", ["USD-Blockchain"], cap)[0] is None
    assert choose_currency(split_server(), "on-demand", None, cap) == ("CLORE-Blockchain", None)
    # A cap both currencies meet still takes the cheapest.
    roomy, _none = make_candidate(split_server(), on_demand({"amount": 7, "currency": "USD"}), SPLIT_RATES)
    assert roomy.currency == "CLORE-Blockchain"


def test_the_cap_is_read_per_hour_and_per_gpu_hour_as_the_market_filter_reads_it():
    two_gpus = split_server(count=2)
    # 6.6205 / 24 / 2 = 0.1379 and 5.88 / 24 / 2 = 0.1225 USD per GPU-hour.
    candidate, _none = make_candidate(two_gpus, on_demand({"amount": 0.13, "per": "gpu_hour"}), SPLIT_RATES)
    assert candidate.currency == "CLORE-Blockchain"
    none, refusal = make_candidate(two_gpus, on_demand({"amount": 0.12, "per": "gpu_hour"}), SPLIT_RATES)
    assert none is None and refusal.filter == "max_price"
    hourly, _none = make_candidate(split_server(), on_demand({"amount": 0.276, "per": "hour"}), SPLIT_RATES)
    assert hourly.currency == "CLORE-Blockchain"  # 5.88 / 24 = 0.245
    dear, refusal = make_candidate(split_server(), on_demand({"amount": 0.276, "per": "hour"}, "USD-Blockchain"),
                                   SPLIT_RATES)
    assert dear is not None and dear.currency == "USD-Blockchain"  # 6.6205 / 24 = 0.27585
    # A cap in a coin: 6.6205 USD is 264.82 CLORE, 235.2 CLORE is 235.2.
    in_clore, _none = make_candidate(split_server(), on_demand({"amount": 250, "currency": "clore"}), SPLIT_RATES)
    assert in_clore.currency == "CLORE-Blockchain"


def test_no_currency_within_the_cap_skips_the_server_naming_the_cheapest():
    none, refusal = make_candidate(split_server(), on_demand({"amount": 5.5, "currency": "USD"}), SPLIT_RATES)
    assert none is None
    assert refusal.filter == "max_price" and (refusal.currency, refusal.price) == ("CLORE-Blockchain", 235.2)
    assert str(refusal) == ("fails max_price: no accepted currency within max_price 5.5 USD/day: cheapest "
                            "5.8800 USD/day in CLORE-Blockchain (235.2 CLORE-Blockchain/day)")
    assert refusal.skip(10622) == {"server_id": 10622, "price_per_day": 235.2, "currency": "CLORE-Blockchain",
                                   "reason": str(refusal)}


def test_a_price_that_cannot_be_converted_is_never_taken_as_within_the_cap():
    # No dollar figure for CLORE on the row and no rate: only USD-Blockchain can be judged, above the cap.
    raw = server(10622, 6.6205, coins=("USD-Blockchain", "CLORE-Blockchain"))
    raw["price"]["on_demand"] = dict(SPLIT)
    del raw["price"]["usd"]
    unpriced = normalize_server(raw)
    none, refusal = make_candidate(unpriced, on_demand({"amount": 6.5, "currency": "USD"}), {})
    assert none is None and "cheapest 6.6205 USD/day in USD-Blockchain" in str(refusal)
    clore_only, refusal = make_candidate(unpriced, on_demand({"amount": 6.5}, "CLORE-Blockchain"), {})
    assert clore_only is None and "no exchange rate from CLORE-Blockchain to USD" in str(refusal)


def test_an_explicit_currency_above_the_cap_is_refused():
    none, refusal = make_candidate(split_server(), on_demand({"amount": 6.5}, "USD-Blockchain"), SPLIT_RATES)
    assert none is None
    assert str(refusal) == "fails max_price: price 6.6205 USD/day in USD-Blockchain is above max_price 6.5 USD/day"
    within, _none = make_candidate(split_server(), on_demand({"amount": 6.5}, "CLORE-Blockchain"), SPLIT_RATES)
    assert (within.currency, within.price) == ("CLORE-Blockchain", 235.2)


def test_a_spot_bid_is_converted_to_the_caps_currency():
    row = split_server()
    spot = Terms(type="spot", currency="CLORE-Blockchain", spot_price=200.0)
    # 200 CLORE at 0.025 USD is 5 USD per day.
    below, refusal = make_candidate(row, replace(spot, max_price={"amount": 5.5}), SPLIT_RATES)
    assert refusal is None and (below.currency, below.price) == ("CLORE-Blockchain", 200.0)
    above, refusal = make_candidate(row, replace(spot, max_price={"amount": 4.5}), SPLIT_RATES)
    assert above is None and str(refusal) == ("fails max_price: bid 5.0000 USD/day in CLORE-Blockchain "
                                              "(200 CLORE-Blockchain/day) is above max_price 4.5 USD/day")
    # The bid is judged, whatever max_price.type names.
    typed, refusal = make_candidate(row, replace(spot, max_price={"amount": 4.5, "type": "spot"}), SPLIT_RATES)
    assert typed is None and refusal.filter == "max_price"


class Rivals:
    """A rival source that records how many servers it was made to read (each read finds the next candidate)."""

    def __init__(self, *server_ids: int):
        self.unread = [Candidate(i, "USD-Blockchain", 2.05) for i in server_ids]
        self.found: list[Candidate] = []

    def take(self, wanted: int) -> list[Candidate]:
        while len(self.found) < wanted and self.unread:
            self.found.append(self.unread.pop(0))
        return self.found[:wanted]

    def __iter__(self):
        yield from self.found
        while self.unread:
            self.found.append(self.unread.pop(0))
            yield self.found[-1]


FREE = [Candidate(1, "USD-Blockchain", 1.0), Candidate(2, "USD-Blockchain", 1.5)]


def test_enough_free_servers_plan_no_rival_read():
    rivals = Rivals(7, 8)
    assert FleetCandidates(FREE, rivals).planned(2) == FREE
    assert rivals.found == []


def test_too_few_free_servers_plan_the_rivals_they_lack_and_one_spare():
    rivals = Rivals(7, 8, 9)
    planned = FleetCandidates(FREE[:1], rivals).planned(2)
    assert [c.server_id for c in planned] == [1, 7, 8]
    assert [c.server_id for c in rivals.unread] == [9]


def test_fail_over_reads_on_into_the_rivals_when_the_free_ones_fail():
    # The audit's case: enough free servers on paper (so the plan reads no rival), but they fail: fail-over goes on
    # to the rivals, free ones first, each server once.
    rivals = Rivals(7, 2, 8)
    found = FleetCandidates(FREE, rivals)
    assert found.planned(2) == FREE
    assert [c.server_id for c in found] == [1, 2, 7, 8]


def test_fail_over_without_rivals_ends_with_the_free_servers():
    assert [c.server_id for c in FleetCandidates(FREE)] == [1, 2]
    assert FleetCandidates([]).planned(3) == []


def test_budget_within_chooses_what_fits_without_refusing():
    guard = BudgetGuard({"amount": 10.0, "currency": "USD"}, [order(1, 4.0)], RATES)
    offers = [Candidate(1, "USD-Blockchain", 5.0), Candidate(2, "USD-Blockchain", 4.0),
              Candidate(3, "USD-Blockchain", 1.0)]
    assert [c.server_id for c in guard.within(offers, 3)] == [1, 3]
    assert guard.within(offers, 0) == []
    assert BudgetGuard(None, [], {}).within(offers, 5) == offers


def test_shortfall_counts_what_excluded_and_what_was_passed_over():
    short = shortfall(3, 2, {"gpu": 40, "max_price": 0, "available_only": 5},
                      ["server-offline", "budget", "server-offline"])
    assert short == {"count": 1, "reasons": {"gpu": 40, "available_only": 5, "server-offline": 2, "budget": 1}}
    assert shortfall(2, 2, {"gpu": 40}, ["server-offline"]) == {"count": 0, "reasons": {}}
    assert shortfall(0, 0, {}, []) == {"count": 0, "reasons": {}}
