"""clore_market_info on a marketplace recorded from the real API in 2024 (no `price.usd` on any row, CLORE and bitcoin
only), served by clore-sim --market-file: a cap in US dollars matches the free RTX 4090s at the exchange rates the
API gives (one spot_marketplace call), and "price" sorts by the price that would be paid.

Expectations come from the recorded rows and the sim's own spot_marketplace answer with plain code.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from .conftest import COLLECTIONS_PATH
from .playbook import base_env, run_playbook
from .test_market_info import playbook

SAMPLE = Path(__file__).resolve().parents[1] / "contract" / "fixtures" / "real" / "marketplace-2024-sample.json"


def recorded_market() -> Path:
    return SAMPLE


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tmp_path / "sim-state", extra_args=("--market-file", str(recorded_market()))) as server:
        yield server


@pytest.fixture
def ansible_env(sim: SimServer, tmp_path: Path) -> dict[str, str]:
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                "CLORE_STATE_DIR": str(tmp_path / "clore-state"), "CLORE_API_REQUEST_INTERVAL": "0",
                "CLORE_API_CREATE_INTERVAL": "0"})
    return env


def rates(sim: SimServer, server_id: int) -> dict[str, float]:
    answer = requests.get(f"{sim.api_url}/spot_marketplace", params={"market": server_id},
                          headers={"auth": sim.api_key}, timeout=30).json()
    return answer["market"]["currency_rates_in_usd"]


def cheapest_usd(row: dict, usd_per_coin: dict[str, float]) -> tuple[float, str]:
    return min((price * usd_per_coin[coin], coin) for coin, price in row["price"]["on_demand"].items()
               if coin in row["allowed_coins"])


def test_a_usd_cap_matches_the_free_rtx_4090s_of_the_real_2024_answer(sim, ansible_env, tmp_path):
    rows = json.loads(recorded_market().read_text())["servers"]
    assert not any("usd" in r["price"] for r in rows)
    offline = set(sim.offline())
    free_4090 = [r for r in rows if "RTX 4090" in r["specs"]["gpu"] and not r["rented"] and r["id"] not in offline]
    usd_per_coin = rates(sim, free_4090[0]["id"])
    sim.reset()
    priced = sorted((cheapest_usd(r, usd_per_coin), r["id"]) for r in free_4090)
    under_cap = [(price, server_id) for (price, _coin), server_id in priced if price <= 10]
    assert 0 < len(under_cap) < len(free_4090)

    searches = {"capped": {"gpu": ["RTX 4090"], "max_price": {"amount": 10}},
                "by price": {"gpu": ["RTX 4090"], "sort_by": "price"},
                "dearest per gpu": {"gpu": ["RTX 4090"], "sort_by": "price_per_gpu", "descending": True, "limit": 3}}
    run = run_playbook(playbook(tmp_path, searches), ansible_env)
    assert run.rc == 0, run.stdout + run.stderr

    capped = run.result("capped")
    assert [s["id"] for s in capped["servers"]] == [server_id for _price, server_id in under_cap]
    assert capped["excluded"].get("max_price", 0) == len(free_4090) - len(under_cap)
    for server in capped["servers"]:
        row = next(r for r in rows if r["id"] == server["id"])
        usd, coin = cheapest_usd(row, usd_per_coin)
        assert server["cheapest_currency"] == coin and server["usd_source"] == "spot_marketplace"
        assert server["cheapest_usd_per_day"] == pytest.approx(usd, abs=1e-6)
        assert set(server["usd_per_day_by_currency"]) == set(row["price"]["on_demand"])

    by_price = run.result("by price")["servers"]
    assert [s["id"] for s in by_price] == [server_id for _price, server_id in priced]  # never id order
    assert [s["id"] for s in by_price] != sorted(s["id"] for s in by_price)
    per_gpu = [s["cheapest_usd_per_gpu_hour"] for s in run.result("dearest per gpu")["servers"]]
    assert per_gpu == sorted(per_gpu, reverse=True) and None not in per_gpu

    # One marketplace and one spot_marketplace call per search: the rates come once per task.
    assert sim.counters()["requests"] == {"marketplace": len(searches), "spot_marketplace": len(searches)}
