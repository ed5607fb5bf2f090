"""clore_order's input rules: what the argument spec declares, and what order_request() refuses before any API
call."""
from __future__ import annotations

import math

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.clore.ai.plugins.module_utils.common import clore_argument_spec
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.guards import check_params, widen_scalars
from ansible_collections.clore.ai.plugins.module_utils._order.args import (
    JUPYTER_TOKEN_MIN,
    SSH_PASSWORD_MIN,
    order_request,
)
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_RULES, ORDER_ARGUMENT_SPEC

IMAGE = "cloreai/ubuntu22.04-jupyter"
SERVER = {"server_id": 7, "image": IMAGE}
SPOT = {"type": "spot", "currency": "USD", "spot_price": 2.0}


def defaults() -> dict:
    return {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}


def refused(**overrides) -> CloreConfigError:
    with pytest.raises(CloreConfigError) as caught:
        order_request(defaults() | overrides)
    return caught.value


def refused_on_input(args: dict) -> CloreConfigError:
    """The refusal of a task with these arguments along the module's whole input path: widening, Ansible's own checks,
    the guards, then order_request()."""
    spec = clore_argument_spec() | ORDER_ARGUMENT_SPEC
    params = {"api_key": "unit-test-key-0123456789"} | args
    with pytest.raises(CloreConfigError) as caught:
        refusal = widen_scalars(spec, params)
        if refusal is not None:
            raise refusal
        result = ArgumentSpecValidator(spec, **ORDER_ARGUMENT_RULES).validate(params)
        assert not result.error_messages
        check_params(spec, result.validated_parameters)
        order_request(dict(result.validated_parameters))
    return caught.value


def spec_errors(args: dict) -> list[str]:
    """The messages AnsibleModule would fail with, for these task arguments."""
    validator = ArgumentSpecValidator(clore_argument_spec() | ORDER_ARGUMENT_SPEC, **ORDER_ARGUMENT_RULES)
    return validator.validate({"api_key": "unit-test-key-0123456789"} | args).error_messages


# ----- non-finite numbers -----
NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("spot_price", lambda v: SERVER | SPOT | {"spot_price": v}),
        ("required_price", lambda v: SERVER | {"required_price": v}),
        ("budget.amount", lambda v: {"count": 1, "image": IMAGE, "budget": {"amount": v, "currency": "USD"}}),
        ("max_price.amount", lambda v: SERVER | {"max_price": {"amount": v}}),
        ("gpu_ram_min", lambda v: {"count": 1, "image": IMAGE, "gpu_ram_min": v}),
        ("lifetime_hours", lambda v: SERVER | {"lifetime_hours": v}),
        ("bad_server_ttl", lambda v: SERVER | {"bad_server_ttl": v}),
        ("account_budget.amount", lambda v: SERVER | {"account_budget": {"amount": v}}),
        ("account_budget.amount", lambda v: SERVER | {"account_budget": v}),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(field, overrides, value):
    err = refused_on_input(overrides(value))
    assert str(err).startswith(field) and "finite" in str(err)
    assert err.option == field.split(".")[0]


# ----- whole numbers -----
@pytest.mark.parametrize("field", ["order_id", "server_id"])
@pytest.mark.parametrize("value", [-5, 0])
def test_an_id_below_one_is_refused(field, value):
    err = refused_on_input({field: value, "image": IMAGE, "state": "absent"})
    assert str(err).startswith(f"{field} must be 1 or more") and str(value) in str(err)
    assert err.option == field


@pytest.mark.parametrize("field", ["count", "order_id", "server_id", "max_attempts", "wait_timeout",
                                   "reconcile_timeout"])
def test_a_boolean_for_a_whole_number_is_refused(field):
    identity = {} if field in ("count", "order_id", "server_id") else {"count": 1}
    err = refused_on_input(identity | {"image": IMAGE, field: True})
    assert str(err).startswith(f"{field} must be a whole number") and "true" in str(err)
    assert err.option == field


def test_the_argument_spec_hands_a_boolean_to_validate_unconverted():
    # order_request() can only refuse `count: true` if Ansible's int check leaves the bool as it is.
    validator = ArgumentSpecValidator(clore_argument_spec() | ORDER_ARGUMENT_SPEC, **ORDER_ARGUMENT_RULES)
    result = validator.validate({"api_key": "unit-test-key-0123456789", "count": True, "image": IMAGE})
    assert not result.error_messages
    assert result.validated_parameters["count"] is True


# ----- secrets too short to be masked readably -----
SECRET_MINIMUMS = [("ssh_password", SSH_PASSWORD_MIN), ("jupyter_token", JUPYTER_TOKEN_MIN)]


@pytest.mark.parametrize(("field", "minimum"), SECRET_MINIMUMS)
def test_a_secret_too_short_is_refused_naming_the_rule(field, minimum):
    err = refused(**SERVER | {field: "a1"})
    assert str(err).startswith(f"{field} must be at least {minimum} characters")
    assert err.option == field and "a1" not in str(err)
    order_request(defaults() | SERVER | {field: "a1" * minimum})


# ----- what the argument spec declares -----
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"order_id": 1, "server_id": 2}, "parameters are mutually exclusive: order_id|server_id|count"),
        ({"order_id": 1, "count": 2, "image": IMAGE}, "parameters are mutually exclusive: order_id|server_id|count"),
        ({}, "one of the following is required: order_id, server_id, count"),
        ({"server_id": 1, "image": IMAGE, "type": "spot", "currency": "USD"},
         "type is spot but any of the following are missing: spot_price, spot_max_price"),
        ({"server_id": 1, "image": IMAGE, "type": "spot", "spot_price": 1.0},
         "type is spot but any of the following are missing: currency, currencies"),
        ({"count": 1}, "missing parameter(s) required by 'count': image"),
    ],
)
def test_the_argument_spec_declares_identity_and_spot_rules(args, message):
    assert message in spec_errors(args)


def test_valid_arguments_pass_the_argument_spec():
    assert spec_errors(SERVER | SPOT) == []
    capped = {k: v for k, v in (SERVER | SPOT).items() if k != "spot_price"} | {"spot_max_price": 5.0}
    assert spec_errors(capped) == []
    assert spec_errors({"count": 0, "image": IMAGE, "state": "absent"}) == []
    assert spec_errors({"order_id": 5, "state": "absent"}) == []


# ----- images Docker would refuse -----
@pytest.mark.parametrize("image", ["UPPER/Case::bad", "Ubuntu", "ubuntu::22.04", "cloreai/Jupyter", "ubuntu 22.04",
                                   "ubuntu:", "bad host!/x/y", "-ubuntu"])
def test_an_image_docker_would_refuse_is_refused_naming_image(image):
    err = refused(**SERVER | {"image": image})
    assert str(err).startswith(f"image: {image!r} is not a Docker image reference") and err.option == "image"


@pytest.mark.parametrize("image", [IMAGE, "ubuntu", "ubuntu:22.04", "docker.io/library/ubuntu:22.04",
                                   "cloreai/jupyter:ubuntu24.04-v2", "localhost:5000/team/trainer:v1",
                                   "Registry.Example.com/team/app_x__y-z:Tag.1",
                                   "ubuntu@sha256:" + "a" * 64])
def test_a_docker_reference_passes(image):
    params = defaults() | SERVER | {"image": image}
    assert order_request(params).mode == "server_id"


# ----- missing_ok -----
def test_missing_ok_is_accepted_with_state_absent_and_an_order_id():
    assert order_request(defaults() | {"order_id": 5, "state": "absent", "missing_ok": True}).mode == "order_id"


@pytest.mark.parametrize("args", [{"order_id": 5, "missing_ok": True},
                                  {"server_id": 5, "state": "absent", "missing_ok": True}])
def test_missing_ok_elsewhere_is_refused_naming_it(args):
    err = refused(**args | {"image": IMAGE})
    assert str(err).startswith("missing_ok applies only to state absent with order_id") and err.option == "missing_ok"


# ----- a number for a dict option -----
def validated_input(args: dict) -> dict:
    spec = clore_argument_spec() | ORDER_ARGUMENT_SPEC
    params = {"api_key": "unit-test-key-0123456789"} | args
    assert widen_scalars(spec, params) is None
    result = ArgumentSpecValidator(spec, **ORDER_ARGUMENT_RULES).validate(params)
    assert result.error_messages == []
    return result.validated_parameters


@pytest.mark.parametrize("value", [25, 25.0, "25"])
def test_a_number_for_account_budget_means_usd_per_day(value):
    assert validated_input(SERVER | {"account_budget": value})["account_budget"] == {"amount": 25.0, "currency": "USD"}


def test_a_number_for_max_price_means_usd_per_day_on_demand():
    assert validated_input({"count": 1, "image": IMAGE, "max_price": 5})["max_price"] == {
        "amount": 5.0, "currency": "USD", "type": "on-demand", "per": "day"}


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_for_account_budget_is_refused_naming_it(value):
    err = refused_on_input(SERVER | {"account_budget": value})
    assert str(err).startswith("account_budget must be a number (its amount) or a dict") and err.option == "account_budget"
