"""account_budget: the key's active orders plus what a task would rent, against one per-day cap."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.account_cap import (
    CappedBudget,
    account_cap,
)
from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetExceeded, BudgetGuard, Candidate

RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.02}
ORDERS = [{"id": 1, "price_per_day": 10.0, "currency": "USD-Blockchain"},
          {"id": 2, "price_per_day": 250.0, "currency": "CLORE-Blockchain"}]  # 5 USD


def candidate(price: float, server_id: int = 9) -> Candidate:
    return Candidate(server_id, "USD-Blockchain", price, "RTX 4090", 1)


def test_refusal_names_current_total_new_total_and_cap():
    cap = account_cap({"amount": 20.0, "currency": "USD"}, ORDERS, set(), RATES)
    with pytest.raises(BudgetExceeded) as caught:
        cap.check([candidate(6.0)])
    text = str(caught.value)
    assert "15.0000 USD/day" in text and "21.0000 USD/day" in text and "20.0000 USD/day" in text
    cap.check([candidate(5.0)])  # exactly at the cap is allowed


def test_orders_the_task_cancels_do_not_count():
    cap = account_cap({"amount": 20.0, "currency": "USD"}, ORDERS, {1}, RATES)
    cap.check([candidate(15.0)])


def test_without_a_cap_nothing_is_refused():
    account_cap(None, ORDERS, set(), RATES).check([candidate(1e9)])


def test_fail_over_is_held_to_the_task_budget_and_the_cap():
    cap = account_cap({"amount": 20.0, "currency": "USD"}, ORDERS, set(), RATES)
    both = CappedBudget(BudgetGuard({"amount": 100.0, "currency": "USD"}, [], RATES), cap)
    assert both.fits(candidate(5.0)) and not both.fits(candidate(5.5))
    both.add(candidate(4.0))
    assert not both.fits(candidate(1.5))
