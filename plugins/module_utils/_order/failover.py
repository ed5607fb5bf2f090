"""Fail-over: rent `missing` orders from candidates in order, moving on when a server is taken or refuses.

Each skipped candidate is returned with its reason. Only refusals that say "this server, not your request" move on;
any other refusal stops, unless a fresh look at the market shows the server has gone (then it is skipped as vanished).
A create whose outcome is not known (the creator raises something other than a refusal) stops at once: the server
may be rented by this run, and renting another one could rent twice.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.create import Created, ExactlyOnceCreator
from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetGuard, Candidate

# Code-6 reasons that concern the chosen server only: the next candidate may well succeed.
FAILOVER_REASONS = frozenset({"server-already-rented", "server-offline", "too_low_price", "currency-not-allowed"})
VANISHED = "vanished from the market"
CLAIMED = "being rented by another task on this controller"
OVER_BUDGET = "over budget"


@dataclass
class RentOutcome:
    created: list[Created] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    attempts: int = 0
    # Set when fail-over stopped short of `missing` (attempts used up, candidates exhausted, a hard refusal).
    stopped: str | None = None
    error: CloreError | None = None


def rent_with_failover(
    creator: ExactlyOnceCreator,
    candidates: Iterable[Candidate],
    missing: int,
    body_for: Callable[[Candidate], dict],
    budget: BudgetGuard,
    max_attempts: int,
    still_free: Callable[[int], bool] | None = None,
    claim: Callable[[int], bool] | None = None,
    release: Callable[[int], None] | None = None,
) -> RentOutcome:
    """Rent up to `missing` orders; at most `max_attempts` servers are tried for each order.

    `claim(server_id)` false means another process on this controller is renting that server: skip it, for free.
    """
    outcome = RentOutcome()
    failures_in_a_row = 0
    remaining = iter(candidates)
    # The count is checked before the next candidate is asked for: a lazy one (a rival's spot market) costs a read.
    while len(outcome.created) < missing and (candidate := next(remaining, None)) is not None:
        if failures_in_a_row >= max_attempts:
            outcome.stopped = f"max_attempts ({max_attempts}) servers tried without success for one order"
            return outcome
        if not budget.fits(candidate):
            outcome.skipped.append(_skip(candidate, OVER_BUDGET))
            continue
        if claim is not None and not claim(candidate.server_id):
            outcome.skipped.append(_skip(candidate, CLAIMED))
            continue
        outcome.attempts += 1
        try:
            created = creator.create(body_for(candidate))
        except CloreApiError as err:
            if release is not None:
                release(candidate.server_id)
            reason = err.reason if err.reason in FAILOVER_REASONS else None
            if reason is None and still_free is not None and not still_free(candidate.server_id):
                reason = VANISHED
            if reason is None:
                outcome.stopped = str(err)
                outcome.error = err
                return outcome
            outcome.skipped.append(_skip(candidate, reason))
            failures_in_a_row += 1
            continue
        except CloreError as err:
            # The server's outcome is unknown: keep its claim and what was rented so far, try nothing else.
            outcome.stopped = str(err)
            outcome.error = err
            return outcome
        failures_in_a_row = 0
        budget.add(candidate)
        outcome.created.append(created)
    if len(outcome.created) < missing and outcome.stopped is None:
        outcome.stopped = "no more matching servers to try"
    return outcome


def _skip(candidate: Candidate, reason: str) -> dict:
    return {"server_id": candidate.server_id, "price_per_day": candidate.price, "currency": candidate.currency,
            "reason": reason}
