"""clore.ai.market run as ansible-rulebook runs it, against recorded marketplace rows (tests/contract/fixtures/real)."""
from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

from eda_fakes import API_KEY, real

CLORE = "CLORE-Blockchain"
CAP = 8.0  # CLORE per day


def free_under_cap(answer: dict, cap: float = CAP) -> set[int]:
    """The rows the cap lets through, read straight from the raw answer."""
    return {row["id"] for row in answer["servers"]
            if not row.get("rented") and CLORE in row.get("allowed_coins", [])
            and row["price"]["on_demand"].get(CLORE) is not None and row["price"]["on_demand"][CLORE] <= cap}


def ok(answer: dict) -> tuple[int, dict]:
    return 200, answer


def test_offers_once_per_server_and_price_then_a_drop_and_a_freed_server(api, run_source):
    first = real("marketplace-2024-sample.json")
    later = copy.deepcopy(first)
    cheaper = next(r for r in later["servers"] if r["id"] in free_under_cap(first))
    cheaper["price"]["on_demand"][CLORE] = cheaper["price"]["on_demand"][CLORE] / 2
    freed = next(r for r in later["servers"] if r.get("rented") and r["price"]["on_demand"].get(CLORE, 99) <= CAP
                 and CLORE in r.get("allowed_coins", []))
    freed["rented"] = False
    api.script["marketplace"] = [ok(first), ok(first), ok(later)]
    events, waits = run_source("market", {"max_price": {"amount": CAP, "currency": "CLORE"}, "interval": 5}, 3)

    first_poll = {e["server"]["id"] for e in events if e["reason"] == "new" and e["server"]["id"] != freed["id"]}
    assert first_poll == free_under_cap(first) and first_poll
    assert len(events) == len(first_poll) + 2  # the second poll told nothing
    drop, new = sorted(events[-2:], key=lambda e: e["reason"] == "new")
    assert (drop["type"], drop["reason"], drop["server"]["id"]) == ("offer", "price_drop", cheaper["id"])
    assert drop["previous"]["price"] == drop["price"] * 2 and drop["currency"] == CLORE
    assert (new["reason"], new["server"]["id"], new["previous"]) == ("new", freed["id"], None)
    assert new["server"]["prices"]["on-demand"][CLORE] == new["price"]  # the record as clore_market_info's
    assert waits == [5, 5, 5]
    assert api.endpoints() == ["marketplace"] * 3


def test_a_usd_cap_prices_the_rows_with_the_rates_of_one_spot_market(api, run_source):
    api.script["marketplace"] = [ok(real("marketplace-2024-sample.json"))]
    api.script["spot_marketplace"] = [ok(real("spot_marketplace-2024-rates.json"))]
    events, _waits = run_source("market", {"max_price": 2.0, "interval": 2}, 1)
    rate = real("spot_marketplace-2024-rates.json")["market"]["currency_rates_in_usd"][CLORE]
    assert {e["server"]["id"] for e in events} >= free_under_cap(real("marketplace-2024-sample.json"), 2.0 / rate)
    assert events and all(e["price"] <= 2.0 and e["currency"] == "USD" for e in events)
    assert {e["server"]["usd_source"] for e in events} <= {"spot_marketplace", "usd_coin"}
    assert api.endpoints() == ["marketplace", "spot_marketplace"]


def test_an_api_error_is_one_event_and_a_growing_wait_then_the_source_goes_on(api, run_source):
    answer = real("marketplace-2024-sample.json")
    api.script["marketplace"] = [(502, "<html>bad gateway</html>"), (503, "down"), (503, "down"), ok(answer)]
    events, waits = run_source("market", {"max_price": {"amount": CAP, "currency": "CLORE"}, "interval": 3,
                                          "backoff_max": 10}, 4)
    errors = [e for e in events if e["type"] == "market_error"]
    assert len(errors) == 1
    assert errors[0]["endpoint"] == "marketplace" and errors[0]["http_status"] == 502
    assert errors[0]["failures"] == 1 and errors[0]["retry_in"] == 6
    assert waits == [6, 10, 10, 3]  # doubled, capped at backoff_max, back to interval once it answers
    assert {e["server"]["id"] for e in events if e["type"] == "offer"} == free_under_cap(answer)


def test_the_key_is_in_no_event_even_when_the_api_quotes_it(api, run_source):
    api.script["marketplace"] = [(401, {"code": 3, "error": f"invalid token {API_KEY}"})]
    events, _waits = run_source("market", {"interval": 2}, 1)
    assert [e["type"] for e in events] == ["market_error"]
    assert API_KEY not in json.dumps(events)
    assert api.sent[0][2]["auth"] == API_KEY  # it was sent, only where it belongs


def test_the_connection_comes_from_the_environment(api, run_source, monkeypatch):
    monkeypatch.setenv("CLORE_API_KEY", "from-the-environment-0123")
    monkeypatch.setenv("CLORE_API_URL", "http://clore.test/v1")
    api.script["marketplace"] = [ok({"servers": [], "my_servers": [], "code": 0})]
    events, _waits = run_source("market", {"api_key": None, "api_url": None, "interval": 2}, 1)
    assert events == []
    assert api.sent[0][2]["auth"] == "from-the-environment-0123"


@pytest.mark.parametrize(("args", "named"), [
    ({"interval": 1.5}, "interval"),
    ({"interval": "often"}, "interval"),
    ({"interval": 10, "backoff_max": 5}, "backoff_max"),
    ({"gpus": ["4090"]}, "gpus"),
    ({"max_price": {"amount": 1, "per": "week"}}, "max_price"),
    ({"price_drop_percent": 0}, "price_drop_percent"),
    ({"api_key": "short"}, "api_key"),
])
def test_bad_arguments_stop_the_source_before_any_call(api, run_source, args, named):
    with pytest.raises(CloreConfigError) as caught:
        run_source("market", args, 1)
    assert caught.value.option == named
    assert named in str(caught.value)
    assert api.sent == []
