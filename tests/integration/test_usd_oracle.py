"""The tests' dollar oracle (usd_oracle) gives the same prices from a row in every --price-shape, and says which
shapes carry dollar figures: checked on one server served in each shape by clore-sim's own code, without a sim."""
from __future__ import annotations

import pytest
from clore_sim.price_shapes import PRICE_SHAPES, served_price

from .usd_oracle import carries_usd, cheapest, in_order, rate_lookups, usd_by_coin

RATES = {"bitcoin": 60_000.0, "CLORE-Blockchain": 0.025, "USD-Blockchain": 1.0}
SERVER = {"id": 11, "allowed_coins": ["CLORE-Blockchain", "bitcoin", "USD-Blockchain"],
          "price": {"on_demand": {"CLORE-Blockchain": 200.0, "bitcoin": 0.00008, "USD-Blockchain": 5.5},
                    "spot": {"CLORE-Blockchain": 100.0, "bitcoin": 0.00005, "USD-Blockchain": 2.0}}}


def row(shape: str) -> dict:
    return SERVER | {"price": served_price(SERVER, shape, RATES)}


@pytest.mark.parametrize("shape", PRICE_SHAPES)
def test_prices_are_coin_prices_at_the_sims_rates_whatever_the_shape(shape):
    assert usd_by_coin(row(shape), RATES) == pytest.approx({"CLORE-Blockchain": 5.0, "bitcoin": 4.8,
                                                            "USD-Blockchain": 5.5})
    assert cheapest(row(shape), RATES) == pytest.approx((4.8, "bitcoin"))
    assert cheapest(row(shape), RATES, coins=("USD-Blockchain", "CLORE-Blockchain")) == (5.0, "CLORE-Blockchain")
    assert cheapest(row(shape), RATES, order_type="spot") == pytest.approx((2.0, "USD-Blockchain"))
    assert cheapest(row(shape), RATES, coins=("EUR",)) is None


def test_a_rate_lookup_is_expected_only_when_no_row_prices_a_coin_in_dollars():
    for shape in ("usd-keys", "original-usd"):
        assert carries_usd(row(shape), "bitcoin") and rate_lookups([row(shape)], [row(shape)]) == 0
    # A nested figure among several coins names none of them; alone with one coin, it names that one.
    assert not carries_usd(row("nested-usd"), "bitcoin") and rate_lookups([row("nested-usd")], [row("nested-usd")]) == 1
    sole = {"id": 12, "allowed_coins": ["bitcoin"], "price": {"on_demand": {"bitcoin": 0.0001, "usd": 6.0}}}
    assert carries_usd(sole, "bitcoin") and rate_lookups([sole], [sole]) == 0
    bare = row("none")
    assert not carries_usd(bare, "bitcoin") and carries_usd(bare, "USD-Blockchain")
    assert rate_lookups([bare], [bare]) == 1
    assert rate_lookups([bare], [bare, row("usd-keys")]) == 0  # another row of the answer gives the rates
    assert rate_lookups([], [bare]) == 0  # no server left to price


def test_in_order_allows_only_rounding_noise():
    assert in_order([1.0, 1.00005, 1.00001, 2.0]) and in_order([3.0, 2.0, 2.00005], descending=True)
    assert not in_order([1.0, 0.9]) and not in_order([1.0, 2.0], descending=True)
