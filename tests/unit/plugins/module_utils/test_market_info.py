"""clore_market_info's task (market_info.py) and the market side's reading of a spot market (_market/spot.py)."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils._market.spot import spot_market_summary
from ansible_collections.clore.ai.plugins.module_utils._order.bid_choice import choose_bid
from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers
from ansible_collections.clore.ai.plugins.module_utils.market import MarketFilterError
from ansible_collections.clore.ai.plugins.module_utils.market_info import run_market_info
from ansible_collections.clore.ai.plugins.modules.clore_market_info import ARGUMENT_SPEC
from module_fake import FakeModule
from order_fakes import FakeClore, server

CLORE = "CLORE-Blockchain"
USD_COIN = "USD-Blockchain"


class MarketAccount(FakeClore):
    """FakeClore with the state directory and account a client carries (where bad servers are recorded)."""

    def __init__(self, servers: list[dict], state_path) -> None:
        super().__init__(servers)
        self.state_path = state_path
        self.account = "acct"


def params(**overrides) -> dict:
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    return values | overrides


SPOT_MARKETS = [
    {"offers": [], "server": {"min_pricing": {CLORE: 100.0, USD_COIN: 2.5}}},
    {"offers": [{"offer_id": 3, "bid": 120.5, "active": True, "my": False, "currency": CLORE}],
     "server": {"min_pricing": {CLORE: 100.0, USD_COIN: 2.5}}, "currency_rates_in_usd": {CLORE: 0.025}},
    {"offers": [{"offer_id": 3, "bid": 2.0, "active": True, "my": False, "currency": USD_COIN},
                {"offer_id": 4, "bid": 150, "active": False, "my": True, "currency": CLORE},
                {"offer_id": 5, "bid": 90, "active": False, "my": False, "currency": "bitcoin"}],
     "server": {"min_pricing": {CLORE: 60.0, USD_COIN: 1.0, "bitcoin": 0.00001}},
     "currency_rates_in_usd": {CLORE: 0.02}},
    {"exists": False, "server": None, "offers": None},
]


@pytest.mark.parametrize("market", SPOT_MARKETS)
def test_the_market_sides_least_winning_bid_is_the_order_sides(market):
    """clore_market_info's bid_needed and the bid clore_order would place give one answer for one spot market."""
    summary = spot_market_summary(market)
    for currency, needed in summary["bid_needed"].items():
        assert needed == choose_bid(market, currency, None).needed


def test_run_passes_bad_servers_over_and_the_limit_counts_after_them(tmp_path):
    client = MarketAccount([server(1, 1.0), server(2, 2.0), server(3, 3.0)], tmp_path)
    BadServers(tmp_path, "acct").record(1, "no SSH banner")
    result = run_market_info(FakeModule(params(limit=1)), client)
    assert [s["id"] for s in result["servers"]] == [2] and result["count"] == 1
    assert result["bad_servers_skipped"] == 1 and result["excluded"]["bad_server"] == 1
    assert result["matched"] == 2 and result["total"] == 3 and result["changed"] is False


def test_run_adds_each_servers_spot_market_when_asked(tmp_path):
    client = MarketAccount([server(1, 1.0), server(2, 2.0)], tmp_path)
    result = run_market_info(FakeModule(params(server_ids=[2], spot_market=True)), client)
    assert [s["id"] for s in result["servers"]] == [2]
    view = result["servers"][0]["spot_market"]
    assert set(view) >= {"offers", "min_pricing", "bid_needed", "top_active_bid"}
    assert client.calls[-1] == ("spot_marketplace", 2)


def test_run_refuses_bad_options_before_any_call(tmp_path):
    client = MarketAccount([server(1, 1.0)], tmp_path)
    with pytest.raises(MarketFilterError) as caught:
        run_market_info(FakeModule(params(limit=-1)), client)
    assert caught.value.option == "limit" and client.calls == []
