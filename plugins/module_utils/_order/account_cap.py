"""account_budget: the most all active orders of the key may cost per day together, checked before any create.

The per-task `budget` caps one fleet; this caps the whole account: every active order of the key (whatever task or
person rented it) at its live price, plus what the task is about to rent. Both are BudgetGuards; fail-over sees them
as one guard (CappedBudget), so a dearer server tried after a refusal is held to both.
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetExceeded, BudgetGuard, Candidate


class AccountCap:
    """The key's active orders against `account_budget` ({amount, currency}); a no-op without one."""

    def __init__(self, cap: dict | None, active_orders: list[dict], rates: dict[str, float]):
        self.guard = BudgetGuard(cap, active_orders, rates)
        self.count = len(active_orders)

    def check(self, chosen: list[Candidate]) -> None:
        """BudgetExceeded, saying the current total, the new total and the cap, when `chosen` would pass the cap."""
        guard = self.guard
        if guard.amount is None or not chosen:
            return
        after = guard.total + sum(guard.cost(c) for c in chosen)
        if after > guard.amount + 1e-9:
            raise BudgetExceeded(
                f"account_budget exceeded: the {self.count} active order(s) of this key cost {guard.total:.4f} "
                f"{guard.currency}/day; renting {len(chosen)} more would bring the account to {after:.4f} "
                f"{guard.currency}/day, over the cap of {guard.amount:.4f} {guard.currency}/day; nothing was rented "
                "(cancel orders, or raise account_budget)"
            )


class CappedBudget:
    """The task's budget and the account cap as the one guard fail-over asks `fits` and tells `add`."""

    def __init__(self, budget: BudgetGuard, cap: AccountCap):
        self.budget = budget
        self.cap = cap.guard

    def fits(self, candidate: Candidate) -> bool:
        return self.budget.fits(candidate) and self.cap.fits(candidate)

    def add(self, candidate: Candidate) -> None:
        self.budget.add(candidate)
        self.cap.add(candidate)

    def choose(self, candidates: list[Candidate], missing: int) -> list[Candidate]:
        return self.budget.choose(candidates, missing)


def account_cap(cap: dict | None, active_orders: list[dict], gone: set[int], rates: dict[str, float]) -> AccountCap:
    """The cap (account_budget) over the key's active orders, less those this task cancels (`gone`)."""
    return AccountCap(cap, [o for o in active_orders if o["id"] not in gone], rates)
