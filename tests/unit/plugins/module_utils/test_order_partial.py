"""allow_partial: a fleet that finds fewer servers than it lacks rents what matches and says how far short it is."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask, OrderTaskFailed

from order_fakes import FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"
# Two free RTX 4090 match; an RTX 3090 fails the gpu filter, a third RTX 4090 is rented by someone else.
FLEET = {"count": 3, "gpu": ["4090"], "image": IMAGE}
FLEET_OF_TWO = {"count": 2, "gpu": ["4090"], "image": IMAGE}


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    fake = FakeClore([server(1, 1.0), server(2, 2.0), server(3, 0.5, gpu="RTX 3090"), server(4, 0.5, rented=True)],
                     now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def run(market: FakeClore, check_mode: bool = False, **args) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, **args)
    return OrderTask(market, order_request(params), check_mode=check_mode, diff=False, warn=lambda _m: None).run()


def test_without_allow_partial_a_short_fleet_fails_renting_nothing_and_says_by_how_much(market):
    with pytest.raises(OrderTaskFailed, match="only 2 free servers match, 3 needed; nothing was rented") as failed:
        run(market, **FLEET)
    assert market.posts() == []
    assert failed.value.result["shortfall"]["count"] == 1


def test_allow_partial_rents_what_matches_and_returns_the_shortfall(market):
    result = run(market, allow_partial=True, **FLEET)
    assert market.posts() == [("create_order", 1), ("create_order", 2)]
    assert result["changed"] and sorted(o["server_id"] for o in result["orders"]) == [1, 2]
    assert result["shortfall"] == {"count": 1, "reasons": {"gpu": 1, "available_only": 1}}
    assert "the fleet is 1 short" in result["msg"]


def test_allow_partial_in_check_mode_says_what_it_would_rent_and_the_shortfall(market):
    result = run(market, check_mode=True, allow_partial=True, **FLEET)
    assert market.posts() == []
    assert [c["server_id"] for c in result["would_create"]] == [1, 2]
    assert result["shortfall"] == {"count": 1, "reasons": {"gpu": 1, "available_only": 1}}
    assert "would be 1 short" in result["msg"]


def test_a_second_run_changes_nothing_and_still_reports_the_shortfall(market):
    run(market, allow_partial=True, **FLEET)
    posted = len(market.posts())
    again = run(market, allow_partial=True, **FLEET)
    assert not again["changed"] and len(market.posts()) == posted
    assert again["kept"] and len(again["kept"]) == 2
    # Our own two servers are rented now: the market counts them with the one someone else holds.
    assert again["shortfall"] == {"count": 1, "reasons": {"gpu": 1, "available_only": 3}}


def test_allow_partial_rents_what_fits_the_budget_and_counts_the_rest(market):
    result = run(market, allow_partial=True, budget={"amount": 1.5, "currency": "USD"}, **FLEET)
    assert market.posts() == [("create_order", 1)]
    assert result["shortfall"] == {"count": 2, "reasons": {"gpu": 1, "available_only": 1, "over budget": 1}}


def test_allow_partial_keeps_what_fail_over_rented_when_it_runs_out_of_servers(market):
    market.fault("create_order", "server-offline")
    result = run(market, allow_partial=True, **FLEET)
    assert market.posts() == [("create_order", 1), ("create_order", 2)]
    assert [o["server_id"] for o in result["orders"]] == [2]
    assert result["shortfall"] == {"count": 2, "reasons": {"gpu": 1, "available_only": 1, "server-offline": 1}}
    assert [(s["server_id"], s["reason"]) for s in result["skipped_servers"]] == [(1, "server-offline")]


def test_allow_partial_still_fails_on_a_refusal_that_is_not_about_the_server(market):
    market.fault("create_order", "not_enough_balance")  # another server would be refused alike: stop, say so
    with pytest.raises(OrderTaskFailed, match="rented 0 of 2") as failed:
        run(market, allow_partial=True, **FLEET_OF_TWO)
    assert market.posts() == [("create_order", 1)]
    assert failed.value.result["shortfall"]["count"] == 2


def test_a_complete_fleet_has_no_shortfall(market):
    result = run(market, allow_partial=True, **FLEET_OF_TWO)
    assert result["shortfall"] == {"count": 0, "reasons": {}}


@pytest.mark.parametrize("identity", [{"server_id": 1, "image": IMAGE}, {"order_id": 7}])
def test_allow_partial_is_refused_outside_a_fleet_before_any_call(identity):
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", allow_partial=True, **identity)
    with pytest.raises(CloreConfigError, match="allow_partial applies only to a fleet") as refused:
        order_request(params)
    assert refused.value.option == "allow_partial"
