"""The price paid is the price compared: clore_order pays in the cheapest allowed currency in US dollars, ranks servers
by that price, and never rents in a currency the task does not allow (module runs against clore-sim).

Expectations come from the sim's own marketplace answer with plain code: USD-Blockchain is one dollar, the other
coins are priced by the row's `price.usd` figure (every row of the sim carries one for each coin except, on odd ids,
USD-Blockchain itself).
"""
from __future__ import annotations

import requests

from .helpers import IMAGE, posts

USD_FIELDS = {"CLORE-Blockchain": "on_demand_clore", "bitcoin": "on_demand_btc"}


def free_rows(sim, gpu: str = "RTX 4090") -> list[dict]:
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30).json()
    offline = set(sim.offline())  # marketplace rows do not say
    return [r for r in answer["servers"] if gpu in r["specs"]["gpu"] and not r["rented"] and r["id"] not in offline]


def dollars(row: dict, coin: str) -> float | None:
    if coin == "USD-Blockchain":
        return row["price"]["on_demand"].get(coin)
    return row["price"].get("usd", {}).get(USD_FIELDS[coin])


def cheapest(rows: list[dict], coins: tuple[str, ...]) -> tuple[float, int, str]:
    """(dollars per day, server id, coin) of the cheapest offer over `coins` the servers accept."""
    return min((dollars(r, c), r["id"], c) for r in rows for c in r["allowed_coins"]
               if c in coins and dollars(r, c) is not None)


def test_the_cheapest_rtx_4090_is_the_one_check_mode_picks(sim, ansible_env, run_order):
    rows = free_rows(sim)
    # Seed 7, 40 servers. Before, 10256 was chosen and paid in USD-Blockchain at 6.1649 a day: ranked by its CLORE
    # price, paid in the preferred coin. Paid in CLORE it costs 5.6347 USD, the cheapest offer of all.
    assert cheapest(rows, ("USD-Blockchain", "CLORE-Blockchain", "bitcoin")) == (5.6347, 10256, "CLORE-Blockchain")
    # In USD-Blockchain alone, 10531 at 5.8981 is the cheapest (10256 would cost 6.1649).
    assert cheapest(rows, ("USD-Blockchain",)) == (5.8981, 10531, "USD-Blockchain")
    assert dollars(next(r for r in rows if r["id"] == 10256), "USD-Blockchain") == 6.1649
    fleet = {"count": 1, "gpu": ["RTX 4090"], "image": IMAGE, "wait": False}

    planned = run_order(ansible_env, fleet, check=True).result
    [plan] = planned["would_create"]
    assert (plan["server_id"], plan["currency"]) == (10256, "CLORE-Blockchain"), planned
    assert (plan["usd_per_day"], plan["usd_source"]) == (5.6347, "price.usd")
    assert plan["currency_reason"] == ("CLORE-Blockchain: the cheapest in US dollars per day (USD/day: "
                                       "CLORE-Blockchain 5.6347, USD-Blockchain 6.1649)")

    for extra in ({"currency": "USD-Blockchain"}, {"currencies": ["USD-Blockchain"]}, {"currencies": ["USD"]}):
        planned = run_order(ansible_env, fleet | extra, check=True).result
        assert not planned.get("failed"), planned
        [plan] = planned["would_create"]
        assert (plan["server_id"], plan["currency"], plan["price_per_day"]) == (10531, "USD-Blockchain", 5.8981), extra
        assert (plan["usd_per_day"], plan["usd_source"]) == (5.8981, "usd_coin")
        assert "server 10531 at 5.8981 USD-Blockchain/day (USD-Blockchain: the only currency allowed" in planned["msg"]
    assert posts(sim) == {}


def test_only_the_allowed_currency_is_ever_paid(sim, ansible_env, run_order):
    rows = free_rows(sim)
    # The cheapest over every coin is paid in another coin than USD-Blockchain somewhere in this market: the test
    # would prove nothing otherwise.
    other = [r for r in rows if "USD-Blockchain" in r["allowed_coins"] and len(r["allowed_coins"]) > 1
             and min(r["allowed_coins"], key=lambda c: dollars(r, c) or float("inf")) != "USD-Blockchain"]
    assert other, "the sim's market should hold a server whose cheapest coin is not USD-Blockchain"
    row = other[0]
    task = {"server_id": row["id"], "image": IMAGE, "wait": False}
    free_choice = run_order(ansible_env, task, check=True).result
    assert free_choice["would_create"][0]["currency"] != "USD-Blockchain", free_choice

    only_usd = task | {"currencies": ["USD-Blockchain"]}
    rented = run_order(ansible_env, only_usd).result
    assert rented["changed"] is True and len(rented["created"]) == 1, rented
    order = next(o for o in requests.get(f"{sim.api_url}/my_orders", headers={"auth": sim.api_key},
                                         timeout=30).json()["orders"] if o["id"] == rented["created"][0])
    assert order["currency"] == "USD-Blockchain" and order["price"] == row["price"]["on_demand"]["USD-Blockchain"]
    [choice] = rented["currency_choices"]
    assert choice["order_id"] == order["id"] and choice["currency"] == "USD-Blockchain"
    assert choice["reason"] == "USD-Blockchain: the only currency allowed with a price"

    # A server that does not take USD-Blockchain is refused before any create.
    no_usd = next(r for r in free_rows(sim, "") if "USD-Blockchain" not in r["allowed_coins"])
    refused = run_order(ansible_env, {"server_id": no_usd["id"], "image": IMAGE, "wait": False,
                                      "currencies": ["USD-Blockchain"]}).result
    assert refused.get("failed") and "does not accept USD-Blockchain" in refused["msg"], refused
    assert posts(sim) == {"create_order": 1}
