"""clore_order's spot options: the rules checked before any API call."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

IMAGE = "cloreai/ubuntu22.04-jupyter"


def params(**overrides) -> dict:
    base = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    base.update(api_key="k", server_id=1, image=IMAGE, type="spot", currency="USD-Blockchain")
    return base | overrides


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"spot_price": 5.0, "spot_max_price": 6.0}, "spot_price and spot_max_price are mutually exclusive"),
        ({}, "spot_price is required when type is spot .* or spot_max_price"),
        ({"spot_max_price": 0.0}, "spot_max_price must be above 0"),
        ({"spot_max_price": 6.0, "spot_bid_step": -1.0}, "spot_bid_step must be above 0"),
        ({"spot_price": 5.0, "spot_bid_step": 1.0}, "spot_bid_step applies only with spot_max_price"),
        ({"spot_price": 5.0, "spot_rebid": True}, "spot_rebid applies only with spot_max_price"),
        ({"spot_max_price": 6.0, "spot_candidates": -1}, "spot_candidates must be 0 or more"),
        ({"spot_max_price": 6.0, "currency": None}, "currency is required when type is spot"),
        ({"type": "on-demand", "currency": None, "spot_max_price": 6.0}, "spot_max_price applies only to type spot"),
    ],
)
def test_bad_spot_input_is_refused_naming_the_option(overrides, message):
    with pytest.raises(CloreConfigError, match=message):
        order_request(params(**overrides))


def test_a_cap_alone_is_valid():
    assert order_request(params(spot_max_price=6.0, spot_bid_step=0.1, spot_rebid=False)).mode == "server_id"
