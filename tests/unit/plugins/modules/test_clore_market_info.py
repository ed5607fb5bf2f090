"""clore_market_info's own pieces: option checks before any call, and reading a spot_marketplace answer."""
from __future__ import annotations


import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import (
    MARKET_FILTER_SPEC,
    MarketFilterError,
    spot_market_view,
)
from ansible_collections.clore.ai.plugins.module_utils.market_info import check_options
from ansible_collections.clore.ai.plugins.modules.clore_market_info import ARGUMENT_SPEC


def params(**overrides) -> dict:
    """Module parameters as AnsibleModule fills them: every option, defaults applied."""
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    values.update(overrides)
    return values


def test_argument_spec_is_the_shared_filters_plus_sorting():
    assert set(ARGUMENT_SPEC) == set(MARKET_FILTER_SPEC) | {
        "sort_by", "descending", "limit", "spot_market", "bad_server_ttl", "usd_rates"}
    assert ARGUMENT_SPEC["sort_by"]["default"] == "price"


def test_defaults_pass():
    check_options(params())


@pytest.mark.parametrize(
    ("overrides", "option"),
    [
        ({"gpu": ["[a-"]}, "gpu"),
        ({"sort_by": "nope"}, "sort_by"),
        ({"limit": -1}, "limit"),
        ({"spot_market": True}, "spot_market"),
        ({"max_price": {"amount": 1, "currency": "DOGE", "type": "spot", "per": "day"}}, "max_price"),
    ],
)
def test_bad_options_name_the_option(overrides, option):
    with pytest.raises(MarketFilterError) as caught:
        check_options(params(**overrides))
    assert caught.value.option == option
    assert str(caught.value).startswith(option)


def test_spot_market_with_server_ids_passes():
    check_options(params(spot_market=True, server_ids=[1]))


def test_spot_market_answer_is_read_defensively():
    answer = {
        "offers": [{"offer_id": 3, "bid": 120.5, "active": True, "my": False, "currency": "CLORE-Blockchain",
                    "secret_field": "x"}, "odd"],
        "server": {"min_pricing": {"CLORE-Blockchain": 100.0}, "mrl": 72, "visibility": "public", "online": True},
        "currency_rates_in_usd": {"CLORE-Blockchain": 0.025},
        "exists": True,
    }
    assert spot_market_view(answer) == {
        "exists": True,
        "offers": [{"offer_id": 3, "bid": 120.5, "active": True, "my": False, "currency": "CLORE-Blockchain"}],
        "min_pricing": {"CLORE-Blockchain": 100.0},
        "currency_rates_in_usd": {"CLORE-Blockchain": 0.025},
        "mrl": 72,
        "visibility": "public",
        "online": True,
        "top_active_bid": 120.5,
        "top_active_currency": "CLORE-Blockchain",
        "top_active_usd": 3.0125,
        "top_active_mine": False,
        "bid_needed": {"CLORE-Blockchain": 121.5},  # the running bid plus the default step of 1 CLORE
    }
    assert spot_market_view({"exists": False, "server": None, "offers": None}) == {
        "exists": False, "offers": [], "min_pricing": {}, "currency_rates_in_usd": {}, "mrl": None,
        "visibility": None, "online": None, "top_active_bid": None, "top_active_currency": None,
        "top_active_usd": None, "top_active_mine": None, "bid_needed": {},
    }


def test_the_bid_needed_is_the_hosts_minimum_on_a_server_nobody_bids_on():
    answer = {"offers": [], "server": {"min_pricing": {"CLORE-Blockchain": 100.0, "USD-Blockchain": 2.5}}}
    summary = spot_market_view(answer)
    assert summary["bid_needed"] == {"CLORE-Blockchain": 100.0, "USD-Blockchain": 2.5}
    assert summary["top_active_bid"] is None


def test_bad_usd_rates_are_refused_before_any_call_naming_the_option():
    from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

    with pytest.raises(CloreConfigError) as caught:
        check_options(params(usd_rates={"DOGE": 1}))
    assert caught.value.option == "usd_rates" and "'DOGE' is not a coin" in str(caught.value)
    check_options(params(usd_rates={"CLORE": 0.025}, currencies=["USD", "clore"]))


def test_currency_outside_currencies_is_refused():
    with pytest.raises(MarketFilterError) as caught:
        check_options(params(currency="bitcoin", currencies=["USD"]))
    assert caught.value.option == "currency"
