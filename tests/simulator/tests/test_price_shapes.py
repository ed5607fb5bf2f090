"""--price-shape: every shape says the same prices per coin, and only what a shape carries in USD differs; the truth
is the coin prices and the rates spot_marketplace serves."""
from __future__ import annotations

import pytest
import requests
from clore_sim.market import USD_RATES, generate_market
from clore_sim.price_shapes import PRICE_SHAPES, USD_KEYS, served_price
from clore_sim.testing import SimServer

from .helpers import Client

SERVERS = 300


def _usd(price: float, coin: str) -> float:
    return round(price * USD_RATES[coin], 4)


def _rows(shape: str, seed: int = 7) -> list[dict]:
    return [{**s, "price": served_price(s, shape, USD_RATES)} for s in generate_market(SERVERS, seed, shape)]


def test_usd_keys_gives_every_accepted_coin_on_every_row() -> None:
    for row in _rows("usd-keys"):
        price, coins = row["price"], row["allowed_coins"]
        assert set(price["usd"]) == {USD_KEYS[c] for c in coins} | {"spot"}
        for coin in coins:
            assert price["usd"][USD_KEYS[coin]] == _usd(price["on_demand"][coin], coin)
        assert price["usd"]["spot"] == _usd(price["spot"][coins[0]], coins[0])


def test_usd_partial_leaves_price_usd_out_of_some_rows_and_keys_out_of_others() -> None:
    rows = _rows("usd-partial")
    without = [r for r in rows if "usd" not in r["price"]]
    with_usd = [r for r in rows if "usd" in r["price"]]
    assert 0.1 < len(without) / len(rows) < 0.4
    assert any("on_demand_usd" not in r["price"]["usd"] and "USD-Blockchain" in r["allowed_coins"] for r in with_usd)
    assert any("on_demand_usd" in r["price"]["usd"] for r in with_usd)
    assert any("spot" not in r["price"]["usd"] for r in with_usd)


def test_nested_usd_puts_a_usd_key_inside_on_demand_and_spot() -> None:
    for row in _rows("nested-usd"):
        price, first = row["price"], row["allowed_coins"][0]
        assert set(price) == {"on_demand", "spot"}
        assert price["on_demand"]["usd"] == _usd(price["on_demand"][first], first)
        assert price["spot"]["usd"] == _usd(price["spot"][first], first)


def test_original_usd_gives_each_coin_its_dollar_prices() -> None:
    for row in _rows("original-usd"):
        price = row["price"]
        assert "usd" not in price and set(price["original_usd"]) == set(row["allowed_coins"])
        for coin, usd in price["original_usd"].items():
            assert usd == {"on_demand": _usd(price["on_demand"][coin], coin), "spot": _usd(price["spot"][coin], coin)}


def test_none_is_the_2024_answer() -> None:
    rows = _rows("none")
    for row in rows:
        price = row["price"]
        assert set(price) == {"on_demand", "spot"}
        assert set(row["allowed_coins"]) <= {"bitcoin", "CLORE-Blockchain"}
        assert set(price["on_demand"]) == set(price["spot"]) == set(row["allowed_coins"])
    assert any(row["allowed_coins"] == ["bitcoin"] for row in rows)
    assert any(set(row["allowed_coins"]) == {"bitcoin", "CLORE-Blockchain"} for row in rows)
    ratios = [row["price"]["spot"][c] / row["price"]["on_demand"][c] for row in rows for c in row["allowed_coins"]]
    assert any(r > 1.0 for r in ratios) and any(r == pytest.approx(1.0, abs=1e-3) for r in ratios)
    assert any(r < 0.8 for r in ratios)


@pytest.mark.parametrize("shape", [s for s in PRICE_SHAPES if s != "none"])
def test_every_shape_but_none_keeps_the_same_market(shape: str) -> None:
    """The same servers, coins and coin prices: only what rows say in USD differs."""
    base = generate_market(120, 11)
    assert generate_market(120, 11, shape) == base


def test_none_keeps_the_servers_and_their_dollar_value() -> None:
    base, old = generate_market(120, 11), generate_market(120, 11, "none")
    assert [s["id"] for s in old] == [s["id"] for s in base]
    assert [s["specs"] for s in old] == [s["specs"] for s in base]
    for before, after in zip(base, old):
        cheapest = min(p * USD_RATES[c] for c, p in before["price"]["on_demand"].items())
        for coin, price in after["price"]["on_demand"].items():
            assert price * USD_RATES[coin] == pytest.approx(
                before["price"]["on_demand"].get(coin, 0) * USD_RATES[coin] or cheapest, rel=1e-3)


@pytest.mark.parametrize("shape", PRICE_SHAPES)
def test_served_rows_and_charged_price_agree_in_each_shape(tmp_path, shape: str) -> None:
    with SimServer(tmp_path / "s", price_shape=shape) as sim:
        client = Client(sim.api_url, sim.api_key, requests.Session())
        servers = client.servers()
        assert [s["price"] for s in servers] == [served_price(s, shape, USD_RATES)
                                                 for s in generate_market(40, 7, shape)]
        row = next(s for s in servers if not s["rented"] and "CLORE-Blockchain" in s["allowed_coins"])
        market = client.get("spot_marketplace", params={"market": row["id"]}).json()["market"]
        assert market["currency_rates_in_usd"] == USD_RATES
        assert market["server"]["min_pricing"] == {c: row["price"]["spot"][c] for c in row["allowed_coins"]}
        order = client.rent(row)
        assert order["price"] == row["price"]["on_demand"]["CLORE-Blockchain"]
