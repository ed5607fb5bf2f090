"""OrderRequest: clore_order's parameters checked once (every rule, each refusal naming its option) and typed."""
from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreShortSecretError
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.request import (
    DEFAULT_PORTS,
    Container,
    Fleet,
    OrderRequest,
    Terms,
)
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC

IMAGE = "cloreai/ubuntu22.04-jupyter"
FLEET = {"count": 2, "image": IMAGE}
SERVER = {"server_id": 7, "image": IMAGE}
SPOT = {"type": "spot", "currency": "USD-Blockchain", "spot_price": 2.0}
SPOT_CAP = {"type": "spot", "currency": "USD-Blockchain", "spot_max_price": 5.0}


def defaults() -> dict:
    return {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}


def request(**overrides) -> OrderRequest:
    return order_request(defaults() | overrides)


# ----- built once, typed, the parameters left as given -----
def test_a_fleet_request_holds_every_option_typed():
    made = request(**FLEET, gpu=["4090"], exact=True, surplus="keep", sort_by="gpu_count", descending=True,
                   budget={"amount": 9.0, "currency": "USD"}, lifetime_hours=2, max_attempts=3)
    assert made.mode == "fleet" and made.present and made.count == 2
    assert made.fleet == Fleet(count=2, exact=True, allow_partial=False, surplus="keep", sort_by="gpu_count",
                               descending=True)
    assert made.filters == {"gpu": ["4090"], "available_only": True}
    assert made.terms.budget == {"amount": 9.0, "currency": "USD"}
    assert made.lifetime_hours == 2.0 and isinstance(made.lifetime_hours, float)
    assert (made.max_attempts, made.wait_timeout, made.reconcile_timeout) == (3, 900, 60)
    assert made.image == IMAGE and made.container.ports == DEFAULT_PORTS


def test_outside_a_fleet_there_is_no_fleet_and_no_count():
    made = request(**SERVER)
    assert (made.mode, made.server_id, made.fleet, made.count) == ("server_id", 7, None, 0)
    by_id = request(order_id=5, state="absent", missing_ok=True, issue="no GPU")
    assert (by_id.mode, by_id.order_id, by_id.present, by_id.missing_ok, by_id.issue) == (
        "order_id", 5, False, True, "no GPU")


def test_the_request_is_frozen():
    made = request(**SERVER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.server_id = 8  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.terms.type = "spot"  # type: ignore[misc]


def test_the_modules_parameters_are_never_rewritten():
    params = defaults() | FLEET | {"image": "docker.io/" + IMAGE, "currency": "clore",
                                   "account_budget": {"amount": 5.0, "currency": "clore"},
                                   "budget": {"amount": 4.0, "currency": "usd"}, "bad_server_ttl": None}
    given = {k: (dict(v) if isinstance(v, dict) else v) for k, v in params.items()}
    made = order_request(params)
    assert params == given
    # ... while the request has them in the API's spelling.
    assert made.image == IMAGE
    assert (made.terms.currency, made.terms.currencies) == ("CLORE-Blockchain", ["CLORE-Blockchain"])
    assert made.terms.account_budget == {"amount": 5.0, "currency": "CLORE-Blockchain"}
    assert made.terms.budget == {"amount": 4.0, "currency": "USD"}
    assert made.bad_server_ttl == 24.0  # check_ttl's default for a ttl left out


def test_one_coin_in_currencies_is_the_currency_a_spot_bid_is_in():
    made = request(**SERVER, type="spot", currencies=["usd"], spot_price=2.0)
    assert made.terms.currency == "USD-Blockchain" and made.terms.spot and not made.terms.bids_up_to_cap


@pytest.mark.parametrize("given, bids_up_to_cap, rebids", [
    ({}, False, False),
    (SPOT, False, False),
    (SPOT_CAP, True, True),
    (SPOT_CAP | {"spot_rebid": False}, True, False),
])
def test_the_spot_terms_say_who_chooses_the_bid(given, bids_up_to_cap, rebids):
    terms = request(**SERVER, **given).terms
    assert (terms.bids_up_to_cap, terms.rebids) == (bids_up_to_cap, rebids)


def test_the_container_has_ports_and_env_as_clore_takes_them():
    made = request(**SERVER, ports={" 8888 ": "http", 22: "tcp"}, env={"A": 1, "B": True, "C": "x"},
                   ssh_password="Secret123", remember_password=True)
    assert made.container.ports == {"8888": "http", "22": "tcp"}
    assert made.container.env == {"A": "1", "B": "true", "C": "x"}
    assert made.container.as_is_fields() == {"ssh_password": "Secret123", "remember_password": True}


def test_secrets_stay_out_of_the_requests_repr():
    made = request(**SERVER, ssh_password="Secret123", jupyter_token="Token1234", env={"KEY": "hush-value"},
                   dockerhub_auth="me:pass-word")
    shown = repr(made)
    for secret in ("Secret123", "Token1234", "hush-value", "pass-word"):
        assert secret not in shown
    assert IMAGE in shown


def test_terms_and_container_have_the_specs_defaults():
    assert Terms().type == "on-demand" and Terms().spot_candidates == 10 and Terms().wanted is None
    assert Terms(currency="bitcoin").wanted == "bitcoin"
    assert Terms(currency="bitcoin", currencies=["bitcoin", "USD-Blockchain"]).wanted == ["bitcoin", "USD-Blockchain"]
    assert Container().ports == DEFAULT_PORTS and Container().ports is not Container().ports


# ----- every rule, each refusal naming its option -----
REFUSALS = [
    # which orders
    ({"order_id": 1, "server_id": 2}, "order_id and server_id are mutually exclusive"),
    ({}, "one of order_id, server_id or count is required"),
    ({"count": -1, "image": IMAGE}, "count must be 0 or more"),
    ({"count": 1}, "image is required for a fleet"),
    ({"server_id": 7}, "image is required with state present"),
    ({**SERVER, "gpu": ["4090"]}, "gpu: server filters apply only to a fleet"),
    ({**SERVER, "exact": True}, "exact applies only to a fleet"),
    ({**SERVER, "allow_partial": True}, "allow_partial applies only to a fleet"),
    # image, filters and coins
    ({**SERVER, "image": "Ubuntu::latest"}, "image"),
    ({**FLEET, "sort_by": "colour"}, "sort_by"),
    ({**FLEET, "currency": "EUR"}, "currency"),
    ({**FLEET, "usd_rates": {"CLORE-Blockchain": -1}}, "usd_rates"),
    ({**FLEET, "budget": {"amount": 5, "currency": "EUR"}}, "budget.currency"),
    ({**FLEET, "budget": {"amount": -5, "currency": "USD"}}, "budget.amount must be 0 or more"),
    # spot
    ({**SERVER, "spot_price": 2.0}, "spot_price applies only to type spot"),
    ({**SERVER, **SPOT, "spot_max_price": 3.0}, "spot_price and spot_max_price are mutually exclusive"),
    ({**SERVER, "type": "spot", "currency": "USD"}, "spot_price is required when type is spot"),
    ({**SERVER, "type": "spot", "spot_price": 2.0}, "currency is required when type is spot"),
    ({**SERVER, **SPOT, "spot_price": -1.0}, "spot_price must be above 0"),
    ({**SERVER, **SPOT_CAP, "spot_max_price": 0.0}, "spot_max_price must be above 0"),
    ({**SERVER, **SPOT_CAP, "spot_bid_step": -0.1}, "spot_bid_step must be above 0"),
    ({**SERVER, **SPOT, "spot_bid_step": 0.1}, "spot_bid_step applies only with spot_max_price"),
    ({**SERVER, **SPOT_CAP, "spot_candidates": -1}, "spot_candidates must be 0 or more"),
    ({**SERVER, "required_price": 0.0}, "required_price must be above 0"),
    # secrets and the container
    ({**SERVER, "ssh_password": "not-alnum!"}, "ssh_password must contain only letters and digits"),
    ({**SERVER, "ssh_password": "a1" * 17}, "ssh_password must be at most 32"),
    ({**SERVER, "jupyter_token": "t" * 33}, "jupyter_token must be at most 32"),
    ({**SERVER, "ssh_key": "k" * 3073}, "ssh_key must be at most 3072"),
    ({**SERVER, "env": {"": "x"}}, "env keys must be non-empty strings"),
    ({**SERVER, "env": {"K" * 129: "x"}}, "env key"),
    ({**SERVER, "env": {"K": {"nested": 1}}}, "env['K'] must be a string"),
    ({**SERVER, "env": {"K": "v" * 1537}}, "env['K'] is 1537 characters"),
    ({**SERVER, "env": {"K": "a&b"}}, "env['K'] contains '&'"),
    ({**SERVER, "env": {f"K{i}": "v" * 1500 for i in range(9)}}, "env is"),
    ({**SERVER, "ports": {"99999": "tcp"}}, "ports key"),
    ({**SERVER, "ports": {"22": "udp"}}, "ports[22] must be 'tcp' or 'http'"),
    ({**SERVER, "ports": {"80": "http", "81": "http"}}, "ports may have at most one http port"),
    # what the task may do
    ({**SERVER, "max_attempts": 0}, "max_attempts must be 1 or more"),
    ({**SERVER, "wait_timeout": -1}, "wait_timeout must be 0 or more"),
    ({**SERVER, "reconcile_timeout": -1}, "reconcile_timeout must be 0 or more"),
    ({**SERVER, "missing_ok": True}, "missing_ok applies only to state absent"),
    ({**SERVER, "issue": "broken"}, "issue applies only to state absent"),
    ({"order_id": 5, "state": "absent", "issue": "x" * 2049}, "issue must be at most 2048"),
    ({**FLEET, "account_budget": {"amount": 5, "currency": "EUR"}}, "account_budget.currency"),
    ({**FLEET, "account_budget": {"amount": -1, "currency": "USD"}}, "account_budget.amount must be 0 or more"),
    ({**FLEET, "bad_server_ttl": -1.0}, "bad_server_ttl must be 0 (off) or more hours"),
    ({**FLEET, "lifetime_hours": 0.0}, "lifetime_hours must be above 0"),
]


@pytest.mark.parametrize("overrides, names", REFUSALS, ids=[text for _o, text in REFUSALS])
def test_every_bad_input_is_refused_naming_the_option(overrides, names):
    with pytest.raises(CloreConfigError) as caught:
        request(**overrides)
    assert names in str(caught.value)


@pytest.mark.parametrize("option, value", [
    ("account_budget", {"amount": 5, "currency": "EUR"}),
    ("bad_server_ttl", -1.0),
    ("lifetime_hours", -2.0),
    ("allow_partial", True),
])
def test_the_refusal_carries_the_option_for_the_result(option, value):
    overrides = FLEET if option != "allow_partial" else SERVER
    with pytest.raises(CloreConfigError) as caught:
        request(**overrides, **{option: value})
    assert caught.value.option == option and caught.value.to_result() == {"option": option}


@pytest.mark.parametrize("name", ["ssh_password", "jupyter_token"])
def test_a_short_secret_is_refused_without_quoting_it(name):
    with pytest.raises(CloreShortSecretError) as caught:
        request(**SERVER, **{name: "ab1"})
    assert caught.value.option == name and "ab1" not in str(caught.value)


def test_a_bad_server_ttl_of_0_turns_the_memory_off_and_is_accepted():
    assert request(**FLEET, bad_server_ttl=0.0).bad_server_ttl == 0.0
