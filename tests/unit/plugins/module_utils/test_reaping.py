"""The reaper's pieces: durations, money and age of an order, GPU model matching, lifetimes and GPU activity."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.reaping import (
    GpuActivity,
    Lifetimes,
    add_money_and_age,
    gpu_matches,
    needs_rates,
    parse_duration,
    spend_above,
)

RATES = {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.02}


def test_durations():
    assert parse_duration("36h", "older_than") == 36 * 3600
    assert parse_duration("90m", "x") == 5400 and parse_duration("2d", "x") == 172800
    assert parse_duration(3, "x") == 3 * 3600  # a bare number is hours
    with pytest.raises(ValueError, match="older_than"):
        parse_duration("soon", "older_than")


def test_money_and_age_in_usd_on_the_services_clock():
    order = {"id": 1, "currency": "CLORE-Blockchain", "spend": 500.0, "price_per_day": 100.0, "created_at": 1000}
    priced = add_money_and_age(order, RATES, now=1000 + 7200, due=1000 + 3600)
    assert priced["age_hours"] == 2.0 and priced["spend_usd"] == 10.0 and priced["usd_per_day"] == 2.0
    assert priced["lifetime_expired"] is True
    assert spend_above(priced, {"amount": 9.0, "currency": "USD"}, RATES)
    assert not spend_above(priced, {"amount": 9.0, "currency": "bitcoin"}, RATES)  # another coin: not compared
    assert spend_above(priced, {"amount": 499.0, "currency": "CLORE-Blockchain"}, RATES)


def test_rates_are_read_only_for_orders_in_another_coin():
    assert not needs_rates([{"currency": "USD-Blockchain"}])
    assert needs_rates([{"currency": "USD-Blockchain"}, {"currency": "bitcoin"}])


def test_gpu_models_match_without_vendor_words():
    assert gpu_matches({"gpu_model": "NVIDIA GeForce RTX 4090"}, ["rtx4090"])
    assert not gpu_matches({"gpu_model": "NVIDIA GeForce RTX 3090"}, ["RTX 4090"])


def test_a_lifetime_is_set_once_and_dropped_with_its_order(tmp_path):
    lifetimes = Lifetimes(tmp_path, "a")
    assert lifetimes.set([{"id": 5, "created_at": 100}], 1.0, "img", now=200) == [5]
    assert lifetimes.set([{"id": 5, "created_at": 150}], 9.0, "img", now=300) == []  # not pushed back
    assert lifetimes.due_times() == {5: 3700.0}
    lifetimes.forget_except({6})
    assert lifetimes.due_times() == {}


def test_idle_counts_from_the_first_look_or_the_last_busy_one(tmp_path):
    activity = GpuActivity(tmp_path, "a")
    first = activity.observe({1: [0.0, 2.0], 2: [95.0, 0.0]}, 10.0, now=1000)
    assert first[1]["idle_since"] == 1000 and first[2]["busy"] and first[2]["idle_since"] is None
    later = activity.observe({1: [1.0], 2: [3.0]}, 10.0, now=4000)
    assert later[1]["idle_since"] == 1000 and later[2]["idle_since"] == 1000  # order 2 was last busy at 1000
    dry = activity.observe({1: [50.0]}, 10.0, now=5000, write=False)
    assert dry[1]["busy"] and activity.observe({1: [0.0]}, 10.0, now=6000)[1]["idle_since"] == 1000


def test_an_order_with_its_own_dollar_price_needs_no_rate_and_says_so():
    from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order

    raw = {"id": 9, "si": 3, "currency": "CLORE-Blockchain", "price": 200.0, "spend": 20.0, "ct": 1_750_000_000,
           "original_price_usd": 5.0}
    order = normalize_order(raw, now=1_750_003_600)
    assert (order["usd_per_day"], order["usd_source"], order["original_price_usd"]) == (5.0, "original_price_usd", 5.0)
    assert not needs_rates([order])
    # Without it the same order needs the market's rates.
    bare = normalize_order({k: v for k, v in raw.items() if k != "original_price_usd"}, now=1_750_003_600)
    assert bare["usd_per_day"] is None and needs_rates([bare])
    priced = add_money_and_age(order, {}, 1_750_003_600, None)
    assert (priced["spend_usd"], priced["usd_source"]) == (0.5, "original_price_usd")
