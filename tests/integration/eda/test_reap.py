"""extensions/eda/rulebooks/reap.yml run by the real ansible-rulebook against clore-sim: the orders source goes on
through a clore-sim restart and a storm of HTTP 500 answers; then an order that spent more than the threshold starts
the reaper, which only reports what it would cancel (a dry run unless reap_apply)."""
from __future__ import annotations

import pytest

from .conftest import INTERVAL, RETRY_TIMEOUT
from .rulebook import wait_for
from .sim_actions import active_orders, restart_and_storm

DRY_RUN = "Dry run (reap_apply=false), would cancel 1 order(s)"


@pytest.mark.slow  # at the API's real limits (1 request/s, a create 5 s after any request)
def test_spend_over_runs_the_reaper_dry(sim, start_rulebook):
    rulebook = start_rulebook("reap", {"reap_interval": INTERVAL, "reap_spend_over_usd": 0.000001})
    wait_for("the rules engine's start", lambda: "Waiting for events" in rulebook.log, 60, rulebook)
    restart_and_storm(sim, "my_orders", lambda: "clore.ai.orders: " in rulebook.log,
                      RETRY_TIMEOUT + 2 * INTERVAL + 10, rulebook)

    [order_id] = sim.seed_orders(sim.api_key, 1)  # it spends from its first second
    wait_for("the reaper's dry run", lambda: DRY_RUN in rulebook.log, INTERVAL + 60, rulebook)
    assert f"{order_id}" in rulebook.log.split(DRY_RUN, 1)[1].splitlines()[0]
    assert [o["id"] for o in active_orders(sim)] == [order_id]  # reported, not cancelled
