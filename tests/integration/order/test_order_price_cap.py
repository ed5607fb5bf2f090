"""max_price holds for the currency an order really pays in, with module runs against clore-sim.

The market filter judges a server by its cheapest currency; the preferred one (the first it accepts of
USD-Blockchain, CLORE-Blockchain, bitcoin) may cost more. The servers and caps here come from the sim's own
marketplace answer and its own USD rates (usd_oracle, whatever --price-shape): a server whose preferred currency is
priced above a cap that its cheapest currency meets.
"""
from __future__ import annotations

import re

import pytest
import requests

from ..usd_oracle import COIN_PREFERENCE, USD_TOLERANCE, sim_rates, usd_by_coin
from .helpers import IMAGE, posts

pytestmark = pytest.mark.price_shapes  # every test here prices servers in dollars

# Cap and prices are kept this far apart, so that rounding in the market's dollar figures decides nothing.
MARGIN = 0.05


def api(sim, endpoint: str) -> dict:
    answer = requests.get(f"{sim.api_url}/{endpoint}", headers={"auth": sim.api_key}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def preferred(row: dict) -> str:
    """The first currency the server accepts in the order of preference."""
    return next(coin for coin in COIN_PREFERENCE if coin in row["allowed_coins"])


def split_servers(sim) -> list[tuple[dict, dict[str, float], float]]:
    """Free servers whose preferred currency is priced above a cap their cheapest currency meets:
    [(row, {coin: on-demand dollars per day}, cap)].

    The cap lies halfway between the cheapest and the second cheapest currency, so exactly one currency is within it.
    """
    rows = api(sim, "marketplace")["servers"]
    rates = sim_rates(sim, rows[0]["id"])
    sim.reset()  # our own reads do not count against the module's calls
    found, offline = [], set(sim.offline())  # marketplace rows do not say
    for row in rows:
        if row["rented"] or row["id"] in offline:
            continue
        usd = usd_by_coin(row, rates)
        prices = sorted(usd.values())
        if len(prices) >= 2 and usd[preferred(row)] > prices[0] and prices[1] - prices[0] > 2 * MARGIN:
            found.append((row, usd, round((prices[0] + prices[1]) / 2, 4)))
    assert len(found) >= 3, "the sim's market should hold servers whose preferred currency is not the cheapest"
    return found


def test_the_order_is_rented_in_a_currency_within_max_price(sim, ansible_env, run_order):
    row, usd, cap = split_servers(sim)[0]
    within = min(usd, key=usd.get)
    assert within != preferred(row) and usd[preferred(row)] > cap + MARGIN
    task = {"server_id": row["id"], "image": IMAGE, "wait": False, "max_price": {"amount": cap, "currency": "USD"}}

    planned = run_order(ansible_env, task, check=True).result
    assert not planned.get("failed"), planned
    assert [(c["server_id"], c["currency"]) for c in planned["would_create"]] == [(row["id"], within)]
    assert posts(sim) == {}

    # A fleet limited to that server chooses the same way.
    fleet = {"count": 1, "server_ids": [row["id"]], "image": IMAGE, "wait": False, "max_price": task["max_price"]}
    planned_fleet = run_order(ansible_env, fleet, check=True).result
    assert [c["currency"] for c in planned_fleet["would_create"]] == [within], planned_fleet
    assert posts(sim) == {}

    rented = run_order(ansible_env, task).result
    assert rented["changed"] is True and len(rented["created"]) == 1, rented
    order = next(o for o in api(sim, "my_orders")["orders"] if o["id"] == rented["created"][0])
    assert order["si"] == row["id"] and order["currency"] == within
    assert order["price"] == row["price"]["on_demand"][within]
    # Its price in dollars, by the market's own figure for that coin, is within the cap.
    assert usd[within] <= cap
    assert rented["orders"][0]["currency"] == within and posts(sim) == {"create_order": 1}


def test_a_cap_below_every_currency_fails_before_any_post(sim, ansible_env, run_order):
    (row, usd, _cap), (other, other_usd, cap) = split_servers(sim)[:2]
    below = round(min(usd.values()) - MARGIN, 4)

    refused = run_order(ansible_env, {"server_id": row["id"], "image": IMAGE, "wait": False,
                                      "max_price": {"amount": below, "currency": "USD"}}).result
    assert refused["failed"] and refused["created"] == [], refused
    assert f"server {row['id']} fails max_price" in refused["msg"] and f"max_price {below:g} USD/day" in refused["msg"]
    assert "nothing was rented" in refused["msg"]
    assert sim.counters()["posts"] == {}

    # Asking for the preferred currency outright: its price is above the cap the cheapest one meets.
    coin = preferred(other)
    dear = other_usd[coin]
    explicit = run_order(ansible_env, {"server_id": other["id"], "image": IMAGE, "wait": False, "currency": coin,
                                       "max_price": {"amount": cap, "currency": "USD"}}, check=True).result
    assert explicit["failed"] and explicit.get("would_create") == [], explicit
    stated = re.search(rf"price ([\d.]+) USD/day in {coin} is above max_price {cap:g} USD/day", explicit["msg"])
    assert stated and float(stated[1]) == pytest.approx(dear, abs=2 * USD_TOLERANCE), explicit["msg"]
    explicit = run_order(ansible_env, {"server_id": other["id"], "image": IMAGE, "wait": False, "currency": coin,
                                       "max_price": {"amount": cap, "currency": "USD"}}).result
    assert explicit["failed"] and "fails max_price" in explicit["msg"], explicit
    assert sim.counters()["posts"] == {}
    assert [o for o in api(sim, "my_orders")["orders"] if not o.get("expired")] == []
