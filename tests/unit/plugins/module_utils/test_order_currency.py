"""clore_order's currency: the cheapest allowed one is paid, the report says which and why, and a coin outside
`currencies` is never paid (against the in-memory account)."""
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


def dear_in_usd(server_id: int, usd: float, clore_usd: float, coins=("USD-Blockchain", "CLORE-Blockchain")) -> dict:
    """A row whose USD-Blockchain price is `usd` and whose CLORE price is worth `clore_usd` dollars (at 0.05)."""
    raw = server(server_id, usd, coins=coins)
    raw["price"]["on_demand"]["CLORE-Blockchain"] = clore_usd / 0.05
    raw["price"]["usd"] = {"on_demand_clore": clore_usd, "spot": 1.0}  # no on_demand_usd: the newest client's keys
    return raw


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    fake = FakeClore([dear_in_usd(1, 6.1649, 5.6347), dear_in_usd(2, 5.8981, 6.3),
                      server(3, 9.0, coins=("CLORE-Blockchain",))], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def run(fake: FakeClore, check_mode: bool = False, **overrides) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, image=IMAGE)
    params.update(overrides)
    return OrderTask(fake, order_request(params), check_mode=check_mode, diff=False, warn=lambda _w: None).run()


def test_the_fleet_pays_the_cheapest_price_and_says_why(market):
    [plan] = run(market, check_mode=True, count=1)["would_create"]
    assert (plan["server_id"], plan["currency"], plan["usd_per_day"], plan["usd_source"]) == (
        1, "CLORE-Blockchain", 5.6347, "price.usd")
    [usd_only] = run(market, check_mode=True, count=1, currencies=["USD"])["would_create"]
    assert (usd_only["server_id"], usd_only["currency"], usd_only["price_per_day"]) == (2, "USD-Blockchain", 5.8981)
    assert usd_only["currency_reason"] == "USD-Blockchain: the only currency allowed with a price"
    assert market.posts() == []


def test_a_real_run_reports_the_currency_of_each_order(market):
    result = run(market, count=1, currencies=["USD-Blockchain", "bitcoin"])
    [choice] = result["currency_choices"]
    assert (choice["order_id"], choice["server_id"], choice["currency"]) == (result["created"][0], 2, "USD-Blockchain")
    assert market.posts() == [("create_order", 2)]
    assert [o["currency"] for o in market.orders] == ["USD-Blockchain"]


def test_a_server_outside_the_allowed_currencies_is_refused_before_any_create(market):
    with pytest.raises(CloreError, match=r"server 3 fails currencies: it accepts none of USD-Blockchain, bitcoin"):
        run(market, server_id=3, currencies=["USD-Blockchain", "bitcoin"])
    assert market.posts() == []
