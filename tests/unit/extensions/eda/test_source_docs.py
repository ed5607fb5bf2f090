"""The sources' DOCUMENTATION and EXAMPLES: every argument documented, every documented one taken, examples valid."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.clore.ai.plugins.module_utils.event_source import COMMON_ARGS, check_args, poll_timing
from ansible_collections.clore.ai.plugins.module_utils.market_watch import MARKET_ARGS, MarketPoll
from ansible_collections.clore.ai.plugins.module_utils.order_poll import OrderPoll
from ansible_collections.clore.ai.plugins.module_utils.order_watch import ORDERS_ARGS

from eda_fakes import load_source

SOURCES = {"market": (MARKET_ARGS, MarketPoll), "orders": (ORDERS_ARGS, OrderPoll)}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_argument_is_documented_and_every_documented_one_is_taken(name):
    own, _poll = SOURCES[name]
    documented = yaml.safe_load(load_source(name).DOCUMENTATION)
    assert documented["short_description"] and documented["description"]
    assert set(documented["options"]) == set(COMMON_ARGS) | set(own)
    for option, spec in documented["options"].items():
        assert spec.get("description") and spec.get("type"), option


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_examples_are_rulebooks_whose_source_arguments_are_valid(name, make_client):
    own, poll = SOURCES[name]
    examples = yaml.safe_load(load_source(name).EXAMPLES)
    used = [source[f"clore.ai.{name}"] for ruleset in examples for source in ruleset["sources"]
            if f"clore.ai.{name}" in source]
    assert used and all(ruleset["rules"] and ruleset["hosts"] for ruleset in examples)
    client, adapter = make_client([])
    for args in used:
        checked = check_args(args, own)
        poll_timing(checked)
        poll(client, checked)  # every filter and threshold checked, no call made
    assert adapter.sent == []
    assert all("api_key" not in args for args in used)  # a key belongs in CLORE_API_KEY, not in a rulebook
