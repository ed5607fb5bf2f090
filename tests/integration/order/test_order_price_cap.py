"""max_price holds for the currency an order really pays in, with real ansible-playbook runs against clore-sim.

The market filter judges a server by its cheapest currency; the preferred one (USD-Blockchain) may cost more. The
servers and caps here come from the sim's own marketplace answer: a server whose USD-Blockchain price is above a cap
that its cheapest currency meets.
"""
from __future__ import annotations

import requests

from .helpers import IMAGE, posts

# Which `price.usd` field is the dollar value of the on-demand price in which coin (as the marketplace gives it).
USD_FIELDS = {"USD-Blockchain": "on_demand_usd", "CLORE-Blockchain": "on_demand_clore", "bitcoin": "on_demand_btc"}
# Cap and prices are kept this far apart, so that rounding in the market's dollar figures decides nothing.
MARGIN = 0.05


def api(sim, endpoint: str) -> dict:
    answer = requests.get(f"{sim.api_url}/{endpoint}", headers={"auth": sim.api_key}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def usd_prices(row: dict) -> dict[str, float]:
    """{coin: on-demand dollars per day} for each coin the server accepts."""
    usd = row["price"]["usd"]
    return {coin: float(usd[USD_FIELDS[coin]]) for coin in row["allowed_coins"] if USD_FIELDS[coin] in usd}


def split_servers(sim) -> list[tuple[dict, float]]:
    """Free servers whose USD-Blockchain price is above a cap their cheapest currency meets: [(row, cap)].

    The cap lies halfway between the cheapest and the second cheapest currency, so exactly one currency is within it.
    """
    found, offline = [], set(sim.offline())  # marketplace rows do not say
    for row in api(sim, "marketplace")["servers"]:
        if row["rented"] or row["id"] in offline:
            continue
        prices = sorted(usd_prices(row).values())
        if "USD-Blockchain" not in usd_prices(row) or len(prices) < 2:
            continue
        if usd_prices(row)["USD-Blockchain"] > prices[0] and prices[1] - prices[0] > 2 * MARGIN:
            found.append((row, round((prices[0] + prices[1]) / 2, 4)))
    assert len(found) >= 3, "the sim's market should hold servers whose preferred currency is not the cheapest"
    return found


def cheapest_coin(row: dict) -> str:
    prices = usd_prices(row)
    return min(prices, key=prices.get)


def test_the_order_is_rented_in_a_currency_within_max_price(sim, ansible_env, run_order):
    row, cap = split_servers(sim)[0]
    within = cheapest_coin(row)
    assert within != "USD-Blockchain" and usd_prices(row)["USD-Blockchain"] > cap + MARGIN
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
    assert usd_prices(row)[within] <= cap
    assert rented["orders"][0]["currency"] == within and posts(sim) == {"create_order": 1}


def test_a_cap_below_every_currency_fails_before_any_post(sim, ansible_env, run_order):
    (row, _cap), (other, cap) = split_servers(sim)[:2]
    below = round(min(usd_prices(row).values()) - MARGIN, 4)

    refused = run_order(ansible_env, {"server_id": row["id"], "image": IMAGE, "wait": False,
                                      "max_price": {"amount": below, "currency": "USD"}}).result
    assert refused["failed"] and refused["created"] == [], refused
    assert f"server {row['id']} fails max_price" in refused["msg"] and f"max_price {below:g} USD/day" in refused["msg"]
    assert "nothing was rented" in refused["msg"]
    assert sim.counters()["posts"] == {}

    # Asking for the preferred currency outright: its price is above the cap the cheapest one meets.
    dear = usd_prices(other)["USD-Blockchain"]
    explicit = run_order(ansible_env, {"server_id": other["id"], "image": IMAGE, "wait": False, "currency": "USD",
                                       "max_price": {"amount": cap, "currency": "USD"}}, check=True).result
    assert explicit["failed"] and explicit.get("would_create") == [], explicit
    assert f"price {dear:.4f} USD/day in USD-Blockchain is above max_price {cap:g} USD/day" in explicit["msg"]
    explicit = run_order(ansible_env, {"server_id": other["id"], "image": IMAGE, "wait": False, "currency": "USD",
                                       "max_price": {"amount": cap, "currency": "USD"}}).result
    assert explicit["failed"] and "fails max_price" in explicit["msg"], explicit
    assert sim.counters()["posts"] == {}
    assert [o for o in api(sim, "my_orders")["orders"] if not o.get("expired")] == []
