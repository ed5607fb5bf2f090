"""Market-aware pricing: comparables, percentile, clamping, the spot fraction, too few comparables, the table, and
the host_pricing filter around it."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.filter.host_pricing import FilterModule
from ansible_collections.clore.ai.plugins.module_utils._host.pricing import (
    PricingError,
    comparable_prices,
    percentile,
    price_plans,
    same_model,
    table,
)

RTX = "NVIDIA GeForce RTX 4090"


def market(server_id: int, per_gpu_hour: float | None, model: str = RTX, count: int = 1) -> dict:
    """A clore_market_info record with the fields the pricing reads."""
    return {"id": server_id, "gpu_model": model, "gpu_count": count, "usd_per_gpu_hour": per_gpu_hour}


def hosted(name: str = "rig-a", server_id: int = 900, model: str = RTX, count: int = 1,
           on_demand: float | None = 8.0, spot: float | None = 4.0, autoprice: bool = True) -> dict:
    """A clore_server_info record with the fields the pricing reads."""
    return {"name": name, "id": server_id, "gpu_model": model, "gpu_count": count, "autoprice": autoprice,
            "usd_pricing": {"on_demand": on_demand, "spot": spot} if on_demand else {}}


MARKET = [market(1, 0.20), market(2, 0.30), market(3, 0.40), market(4, 0.50), market(5, 0.10, count=2),
          market(6, 0.90, model="NVIDIA GeForce RTX 3090"), market(7, None), market(900, 5.0)]


@pytest.mark.parametrize("values, rank, expected", [
    ([3.0, 1.0, 2.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([1.0, 2.0, 3.0, 4.0], 25, 1.75),
    ([5.0], 90, 5.0), ([1.0, 9.0], 0, 1.0), ([1.0, 9.0], 100, 9.0),
])
def test_percentile_interpolates_between_ranks(values, rank, expected):
    assert percentile(values, rank) == pytest.approx(expected)


def test_median_of_comparables_sets_on_demand_and_spot_per_day():
    (plan,) = price_plans([hosted()], MARKET)
    # same model and count only; the key's own server (id 900) and servers without a price are left out
    assert plan["comparables"] == 4
    assert (plan["market_low"], plan["market_median"], plan["market_high"]) == (0.2, 0.35, 0.5)
    assert plan["new_usd_per_gpu_hour"] == 0.35
    assert plan["usd_pricing"] == {"on_demand": 8.4, "spot": 5.04}  # 0.35 * 24, then 60 % of it
    assert plan["action"] == "set" and plan["changed"] is True and plan["clamped"] is None
    assert plan["current_usd_per_day"] == 8.0 and plan["current_usd_per_gpu_hour"] == pytest.approx(0.3333)


def test_multi_gpu_servers_are_priced_per_gpu_hour_times_the_count():
    rows = [market(i, 0.25, count=4) for i in range(10, 13)]
    (plan,) = price_plans([hosted(count=4)], rows, spot_fraction=0.5)
    assert plan["usd_pricing"] == {"on_demand": 24.0, "spot": 12.0}


def test_percentile_floor_ceiling_and_fraction():
    (high,) = price_plans([hosted()], MARKET, percentile_rank=100, ceiling=0.45, spot_fraction=1)
    assert high["new_usd_per_gpu_hour"] == 0.45 and high["clamped"] == "ceiling"
    assert high["usd_pricing"] == {"on_demand": 10.8, "spot": 10.8}
    (low,) = price_plans([hosted()], MARKET, percentile_rank=0, floor=0.25)
    assert low["new_usd_per_gpu_hour"] == 0.25 and low["clamped"] == "floor" and "floor" in low["reason"]


def test_too_few_comparables_keep_the_price_and_say_so():
    (plan,) = price_plans([hosted(model="NVIDIA GeForce RTX 3090")], MARKET)
    assert plan["action"] == "keep" and plan["usd_pricing"] is None and plan["changed"] is False
    assert plan["comparables"] == 1 and plan["reason"] == "1 comparable server(s), 3 needed: price kept"
    (unknown,) = price_plans([{"name": "odd", "gpu_model": None, "gpu_count": None}], MARKET)
    assert unknown["action"] == "keep" and "unknown" in unknown["reason"]


def test_a_server_already_at_the_price_is_unchanged():
    (plan,) = price_plans([hosted(on_demand=8.4, spot=5.04)], MARKET)
    assert plan["action"] == "set" and plan["changed"] is False
    (off,) = price_plans([hosted(on_demand=8.4, spot=5.04, autoprice=False)], MARKET)
    assert off["changed"] is True  # the price is right, but autoprice must be turned on for it to apply


@pytest.mark.parametrize("mine, theirs, same", [
    ("nvidia geforce rtx 4090", "nvidia geforce rtx 4090", True), ("rtx 4090", "nvidia geforce rtx 4090", True),
    ("nvidia geforce rtx 4090", "rtx 4090", True), ("rtx 4090", "nvidia geforce rtx 4090 d", False),
    ("rtx 409", "nvidia geforce rtx 4090", False), (None, "x", False),
])
def test_model_names_match_ignoring_prefixes(mine, theirs, same):
    assert same_model(mine, theirs) is same


@pytest.mark.parametrize("kwargs, name", [
    ({"percentile_rank": 101}, "percentile"), ({"percentile_rank": "x"}, "percentile"), ({"floor": 0}, "floor"),
    ({"ceiling": -1}, "ceiling"), ({"spot_fraction": 0}, "spot_fraction"), ({"spot_fraction": 1.5}, "spot_fraction"),
    ({"min_comparables": 0}, "min_comparables"), ({"min_comparables": 2.5}, "min_comparables"),
    ({"floor": 2, "ceiling": 1}, "ceiling"), ({"floor": float("nan")}, "floor"),
])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(PricingError) as caught:
        price_plans([hosted()], MARKET, **kwargs)
    assert str(caught.value).startswith(name)


def test_table_has_a_header_and_one_aligned_line_per_server():
    plans = price_plans([hosted(), hosted(name="rig-b", server_id=901, model="NVIDIA GeForce RTX 3090")], MARKET)
    lines = table(plans)
    assert len(lines) == 3
    assert lines[0].split()[:3] == ["server", "GPUs", "comparables"]
    assert lines[1].startswith("rig-a ") and "0.2000" in lines[1] and "8.40" in lines[1] and "5.04" in lines[1]
    assert "set (4 comparable server(s), percentile 50)" in lines[1]
    assert lines[2].startswith("rig-b ") and lines[2].endswith("1 comparable server(s), 3 needed: price kept")
    assert lines[1].index("8.00") == lines[0].index("current/day")  # columns line up


def test_filter_returns_plans_and_table_and_names_bad_input():
    host_pricing = FilterModule().filters()["host_pricing"]
    result = host_pricing([hosted()], MARKET, percentile=50, min_comparables=2)
    assert result["plans"][0]["usd_pricing"] == {"on_demand": 8.4, "spot": 5.04}
    assert len(result["table"]) == 2
    with pytest.raises(AnsibleFilterError, match="host_pricing: spot_fraction"):
        host_pricing([hosted()], MARKET, spot_fraction=3)
    with pytest.raises(AnsibleFilterError, match="clore_server_info"):
        host_pricing({"servers": []}, MARKET)


def test_comparables_are_priced_at_what_a_renter_pays_in_the_cheapest_currency():
    # A market record of clore_market_info: cheapest_usd_per_gpu_hour is the price model's figure.
    record = {"id": 5, "gpu_model": "NVIDIA GeForce RTX 4090", "gpu_count": 1, "cheapest_usd_per_gpu_hour": 0.25,
              "usd_per_gpu_hour": 0.3}
    mine = {"gpu_model": "NVIDIA GeForce RTX 4090", "gpu_count": 1}
    assert comparable_prices(mine, [record], set()) == [0.25]
    # An older record without it still counts, by its usd_per_gpu_hour.
    assert comparable_prices(mine, [{k: v for k, v in record.items() if k != "cheapest_usd_per_gpu_hour"}],
                             set()) == [0.3]
