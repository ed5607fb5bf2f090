"""clore_order never rents a server the same key hosts: refused by server_id, skipped in a fleet with the reason."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask

from order_fakes import FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    fake = FakeClore([server(1, 3.0), server(2, 1.0), server(3, 2.0)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    fake.own_ids = [2]  # the cheapest server is the key's own
    return fake


def run(fake: FakeClore, check_mode: bool = False, **overrides) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, **overrides)
    return OrderTask(fake, order_request(params), check_mode=check_mode, diff=False, warn=lambda _m: None).run()


@pytest.mark.parametrize("check_mode", [False, True])
def test_renting_an_own_server_by_id_is_refused_before_any_post(market, check_mode):
    with pytest.raises(CloreError) as caught:
        run(market, check_mode=check_mode, server_id=2, image=IMAGE)
    assert "server_id: server 2 is one of your own servers" in str(caught.value)
    assert "nothing was rented" in str(caught.value)
    assert market.posts() == []


def test_a_fleet_skips_own_servers_and_says_why(market):
    result = run(market, count=2, gpu=["4090"], image=IMAGE)
    assert sorted(o["server_id"] for o in result["orders"]) == [1, 3]
    assert [c[1] for c in market.posts("create_order")] == [3, 1]
    assert result["excluded"]["own_server"] == 1
    assert {"server_id": 2, "price_per_day": None, "currency": None,
            "reason": "one of your own servers (this API key hosts it)"} in result["skipped_servers"]


def test_a_fleet_that_only_own_servers_could_fill_rents_nothing(market):
    market.own_ids = [1, 2, 3]
    with pytest.raises(CloreError) as caught:
        run(market, count=1, gpu=["4090"], image=IMAGE)
    assert "own_server: 3" in str(caught.value)
    assert market.posts() == []


def test_odd_my_servers_entries_are_ignored(market):
    market.own_ids = ["2", None, "x", True]
    with pytest.raises(CloreError, match="one of your own servers"):
        run(market, server_id=2, image=IMAGE)
    result = run(market, server_id=3, image=IMAGE)
    assert [o["server_id"] for o in result["orders"]] == [3]
