"""Fleet plans, candidates, currencies and the budget: pure functions over normalised data."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import normalize_server
from ansible_collections.clore.ai.plugins.module_utils.order_plan import (
    BudgetExceeded,
    BudgetGuard,
    Candidate,
    convert,
    make_candidate,
    plan_fleet,
    usd_rates,
)

from order_fakes import server

RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.05}


def order(order_id: int, price: float, currency: str = "USD-Blockchain") -> dict:
    return {"id": order_id, "price_per_day": price, "currency": currency}


def test_rates_come_from_the_markets_own_dollar_figures():
    rates = usd_rates([server(1, 2.0, clore_rate=0.05), server(2, 4.0, clore_rate=0.05), {"id": 3}])
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
    on_demand, _reason = make_candidate(row, {"type": "on-demand", "currency": None})
    assert (on_demand.currency, on_demand.price) == ("USD-Blockchain", 2.0)
    clore, _reason = make_candidate(row, {"type": "on-demand", "currency": "CLORE-Blockchain"})
    assert clore.price == pytest.approx(40.0)
    none, reason = make_candidate(row, {"type": "on-demand", "currency": "bitcoin"})
    assert none is None and reason == "does not accept bitcoin"
    low, reason = make_candidate(row, {"type": "spot", "currency": "USD-Blockchain", "spot_price": 0.5})
    assert low is None and "below the host's minimum 1.0" in reason
    bid, _reason = make_candidate(row, {"type": "spot", "currency": "USD-Blockchain", "spot_price": 1.5})
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
