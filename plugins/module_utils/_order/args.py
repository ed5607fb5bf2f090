"""clore_order's input rules, checked once before any API call, and the OrderRequest built from the checked input.

This is the only file that reads the module's parameters. Every rule names the option and the rule it breaks.
Messages never quote a secret (passwords, tokens, env values). The module's parameters are never rewritten: the
normalised values (coins in the API's spelling, the image without `docker.io/`) go into the request.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import check_ttl
from ansible_collections.clore.ai.plugins.module_utils.currencies import USD
from ansible_collections.clore.ai.plugins.module_utils.pricing import check_usd_rates
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreShortSecretError
from ansible_collections.clore.ai.plugins.module_utils.images import checked_reference, hub_spelling
from ansible_collections.clore.ai.plugins.module_utils.market import (
    MARKET_FILTER_SPEC,
    MarketFilterError,
    accepted_currency,
    canonical_currency,
    wanted_currencies,
    sort_field,
    validate_filters,
)
from ansible_collections.clore.ai.plugins.module_utils._order.request import (
    DEFAULT_PORTS,
    FLEET,
    Container,
    Fleet,
    OrderRequest,
    Terms,
    env_strings,
)
from ansible_collections.clore.ai.plugins.module_utils._order.spec import IDENTITY_OPTIONS

# Options that mean something only for spot orders (spot_candidates has a default: it is never stray).
SPOT_ONLY_OPTIONS = ("spot_price", "spot_max_price", "spot_bid_step", "spot_rebid")
# Clore's own limits on create_order fields (clore-api.md, "create_order body").
SSH_PASSWORD_MAX = 32
JUPYTER_TOKEN_MAX = 32
# Our own floor: Ansible masks every occurrence of a no_log value in the task's output, so a one- or two-character
# password would turn every message into asterisks; a value this short is no protection anyway.
SSH_PASSWORD_MIN = 8
JUPYTER_TOKEN_MIN = 8
SSH_KEY_MAX = 3072
ENV_KEY_MAX = 128
ENV_VALUE_MAX = 1536
ENV_JSON_MAX = 12288
ISSUE_MAX = 2048
# An `&` in an env value has made Clore answer code 1 (a database error): refuse it up front.
ENV_VALUE_FORBIDDEN = "&"
PORT_PROTOCOLS = ("tcp", "http")

# Filters that choose servers for a fleet; with order_id or server_id they would silently mean nothing.
FLEET_ONLY_FILTERS = tuple(
    name for name in MARKET_FILTER_SPEC if name not in ("max_price", "currency", "currencies", "available_only")
)


def identity_mode(params: dict) -> str:
    """'order_id', 'server_id' or 'fleet' (count); CloreConfigError unless exactly one is given."""
    given = [name for name in IDENTITY_OPTIONS if params.get(name) is not None]
    if len(given) > 1:
        raise CloreConfigError(
            f"{' and '.join(given)} are mutually exclusive: give one way to identify the orders "
            "(order_id, server_id, or count for a fleet)"
        )
    if not given:
        raise CloreConfigError("one of order_id, server_id or count is required to identify the orders")
    return "fleet" if given[0] == "count" else given[0]


def order_request(params: Mapping[str, Any]) -> OrderRequest:
    """The task's OrderRequest once every rule holds; CloreConfigError (naming the option) for the first that fails.

    `params` (the module's parameters, defaults filled in) is read, never changed.
    """
    values = dict(params)
    mode = _validate(values)
    return _request(values, mode)


def _validate(params: dict) -> str:
    """Check every rule clore_order has on its input; returns the identity mode. Raises CloreConfigError.

    Normalises `params` (the task's own copy): coins in the API's spelling, the image without `docker.io/`.
    """
    mode = identity_mode(params)
    _check_image(params.get("image"))
    _check_filters_and_currencies(params)
    present = params.get("state", "present") == "present"
    if mode != "fleet":
        stray = [name for name in FLEET_ONLY_FILTERS if _given(params.get(name))]
        if stray:
            raise CloreConfigError(f"{', '.join(stray)}: server filters apply only to a fleet (count), not to {mode}")
        if params.get("exact"):
            raise CloreConfigError("exact applies only to a fleet (count)")
        if params.get("allow_partial"):
            raise CloreConfigError("allow_partial applies only to a fleet (count)", option="allow_partial")
    if params.get("count") is not None and params["count"] < 0:
        raise CloreConfigError(f"count must be 0 or more, got {params['count']}", option="count")
    if not (params.get("image") or "").strip():
        if mode == "fleet":
            # The image is what tells a fleet's orders from the user's other orders: never guess it.
            raise CloreConfigError("image is required for a fleet (count): a fleet is the orders with that image")
        if present and mode == "server_id":
            raise CloreConfigError("image is required with state present (identity server_id)")
    _check_spot(params)
    _check_secrets(params)
    _check_env(params.get("env"))
    _check_ports(params.get("ports"))
    _check_limits(params)
    _check_account_budget(params)
    _check_bad_server_ttl(params)
    _check_lifetime(params.get("lifetime_hours"))
    return mode


def _check_image(image: str | None) -> None:
    """An image Docker would refuse (uppercase repository, `::`, spaces) refused before anything is rented."""
    if image is not None and image.strip():
        checked_reference(image, "image")


def _check_filters_and_currencies(params: dict) -> None:
    try:
        validate_filters({name: params.get(name) for name in MARKET_FILTER_SPEC})
        sort_field(params.get("sort_by") or "price")
        # `currencies` in the API's spelling; `currency` is a list of one, and one coin named either way is
        # `currency` too (a spot order bids in one coin, and an existing order is compared with it).
        params["currencies"] = wanted_currencies(params)
        if params.get("currency"):
            params["currency"] = accepted_currency(params["currency"])
        elif params["currencies"] and len(params["currencies"]) == 1:
            params["currency"] = params["currencies"][0]
    except MarketFilterError as err:
        raise CloreConfigError(str(err), option=err.option) from None
    params["usd_rates"] = check_usd_rates(params.get("usd_rates"))
    budget = params.get("budget")
    if budget is not None:
        currency = canonical_currency(budget.get("currency") or USD, allow_usd=True)
        if currency is None:
            raise CloreConfigError(f"budget.currency: {budget.get('currency')!r} is not USD or a known coin")
        params["budget"] = dict(budget, currency=currency)
    if params.get("image"):
        params["image"] = hub_spelling(params["image"])


def _given(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def _check_spot(params: dict) -> None:
    spot_price = params.get("spot_price")
    if params.get("type") == "spot":
        _check_spot_bid(params)
    else:
        stray = [name for name in SPOT_ONLY_OPTIONS if params.get(name) is not None]
        if stray:
            raise CloreConfigError(f"{', '.join(stray)} applies only to type spot")
    if spot_price is not None and spot_price <= 0:
        raise CloreConfigError(f"spot_price must be above 0, got {spot_price}")
    if params.get("required_price") is not None and params["required_price"] <= 0:
        raise CloreConfigError(f"required_price must be above 0, got {params['required_price']}")


def _check_spot_bid(params: dict) -> None:
    """A spot task bids either a fixed spot_price or up to spot_max_price, in its currency."""
    fixed, cap = params.get("spot_price"), params.get("spot_max_price")
    if fixed is not None and cap is not None:
        raise CloreConfigError("spot_price and spot_max_price are mutually exclusive: give a fixed bid (spot_price) "
                               "or the most you will pay, letting the module bid the least that wins (spot_max_price)")
    if fixed is None and cap is None:
        raise CloreConfigError("spot_price is required when type is spot (a fixed bid per day, in currency), or "
                               "spot_max_price (the most you will pay per day: the module bids the least that wins)")
    if not params.get("currency"):
        # A bare number is meaningless without its coin: 5 CLORE and 5 bitcoin differ a great deal.
        raise CloreConfigError("currency is required when type is spot (or currencies with one coin): spot_price "
                               "and spot_max_price are in that currency", option="currency")
    for name in ("spot_max_price", "spot_bid_step"):
        if params.get(name) is not None and params[name] <= 0:
            raise CloreConfigError(f"{name} must be above 0, got {params[name]}")
    if cap is None:
        stray = [name for name in ("spot_bid_step", "spot_rebid") if params.get(name) is not None]
        if stray:
            raise CloreConfigError(f"{', '.join(stray)} applies only with spot_max_price (the module chooses bids)")
    if params.get("spot_candidates") is not None and params["spot_candidates"] < 0:
        raise CloreConfigError(f"spot_candidates must be 0 or more, got {params['spot_candidates']}")


def _check_secrets(params: dict) -> None:
    password = params.get("ssh_password")
    if password is not None:
        if not re.fullmatch(r"[A-Za-z0-9]+", password):
            raise CloreConfigError("ssh_password must contain only letters and digits (A-Z, a-z, 0-9)")
        if len(password) > SSH_PASSWORD_MAX:
            raise CloreConfigError(f"ssh_password must be at most {SSH_PASSWORD_MAX} characters, got {len(password)}")
    token = params.get("jupyter_token")
    if token is not None and len(token) > JUPYTER_TOKEN_MAX:
        raise CloreConfigError(f"jupyter_token must be at most {JUPYTER_TOKEN_MAX} characters, got {len(token)}")
    for name, minimum in (("ssh_password", SSH_PASSWORD_MIN), ("jupyter_token", JUPYTER_TOKEN_MIN)):
        value = params.get(name)
        if value is not None and len(value) < minimum:
            raise CloreShortSecretError(
                f"{name} must be at least {minimum} characters: a shorter one is easily guessed, and Ansible would "
                f"mask every occurrence of it in the task's output",
                option=name,
            )
    key = params.get("ssh_key")
    if key is not None and len(key) > SSH_KEY_MAX:
        raise CloreConfigError(f"ssh_key must be at most {SSH_KEY_MAX} characters, got {len(key)}")


def _check_env(env: dict | None) -> None:
    if not env:
        return
    for key, value in env.items():
        if not isinstance(key, str) or not key:
            raise CloreConfigError("env keys must be non-empty strings")
        if len(key) > ENV_KEY_MAX:
            raise CloreConfigError(f"env key {key[:40]!r}... is {len(key)} characters, over the limit of {ENV_KEY_MAX}")
        if isinstance(value, (dict, list)) or value is None:
            raise CloreConfigError(f"env[{key!r}] must be a string")
        text = str(value)
        if len(text) > ENV_VALUE_MAX:
            raise CloreConfigError(f"env[{key!r}] is {len(text)} characters, over the limit of {ENV_VALUE_MAX}")
        if ENV_VALUE_FORBIDDEN in text:
            raise CloreConfigError(f"env[{key!r}] contains '&', which Clore rejects with a database error (code 1)")
    size = len(json.dumps(env_strings(env)))
    if size > ENV_JSON_MAX:
        raise CloreConfigError(f"env is {size} characters as JSON, over the limit of {ENV_JSON_MAX}")


def _check_ports(ports: dict | None) -> None:
    if ports is None:
        return
    http = []
    for port, protocol in ports.items():
        text = str(port).strip()
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise CloreConfigError(f"ports key {port!r} must be a container port number 1-65535")
        if protocol not in PORT_PROTOCOLS:
            raise CloreConfigError(f"ports[{text}] must be 'tcp' or 'http', got {protocol!r}")
        if protocol == "http":
            http.append(text)
    if len(http) > 1:
        raise CloreConfigError(f"ports may have at most one http port, got {len(http)} ({', '.join(http)})")


def ports_for_order(ports: dict | None) -> dict[str, str]:
    """The ports to ask for; by default SSH only, so that the order can be reached and waited for."""
    if ports is None:
        return dict(DEFAULT_PORTS)
    return {str(int(str(k).strip())): v for k, v in ports.items()}


def _check_limits(params: dict) -> None:
    if params.get("max_attempts", 1) < 1:
        raise CloreConfigError(f"max_attempts must be 1 or more, got {params['max_attempts']}")
    for name in ("wait_timeout", "reconcile_timeout"):
        if params.get(name) is not None and params[name] < 0:
            raise CloreConfigError(f"{name} must be 0 or more, got {params[name]}")
    if params.get("missing_ok") and (params.get("state") != "absent" or params.get("order_id") is None):
        raise CloreConfigError("missing_ok applies only to state absent with order_id (an order id the key never had)",
                               option="missing_ok")
    issue = params.get("issue")
    if issue is not None:
        if params.get("state") != "absent":
            raise CloreConfigError("issue applies only to state absent (a problem report sent with the cancel)")
        if len(issue) > ISSUE_MAX:
            raise CloreConfigError(f"issue must be at most {ISSUE_MAX} characters, got {len(issue)}")
    budget = params.get("budget")
    if budget is not None and budget.get("amount") is not None and budget["amount"] < 0:
        raise CloreConfigError(f"budget.amount must be 0 or more, got {budget['amount']}")


def _check_account_budget(params: dict) -> None:
    """account_budget: its currency spelled as the API does, its amount 0 or more."""
    cap = params.get("account_budget")
    if cap is None:
        return
    currency = canonical_currency(cap.get("currency") or USD, allow_usd=True)
    if currency is None:
        raise CloreConfigError(f"account_budget.currency: {cap.get('currency')!r} is not USD or a known coin",
                               option="account_budget")
    if cap.get("amount") is None or cap["amount"] < 0:
        raise CloreConfigError(f"account_budget.amount must be 0 or more, got {cap.get('amount')}",
                               option="account_budget")
    params["account_budget"] = dict(cap, currency=currency)


def _check_bad_server_ttl(params: dict) -> None:
    try:
        params["bad_server_ttl"] = check_ttl(params.get("bad_server_ttl"))
    except ValueError as err:
        raise CloreConfigError(str(err), option="bad_server_ttl") from None


def _check_lifetime(hours: float | None) -> None:
    if hours is not None and hours <= 0:
        raise CloreConfigError(f"lifetime_hours must be above 0, got {hours}", option="lifetime_hours")


def _request(params: dict, mode: str) -> OrderRequest:
    """The OrderRequest of checked and normalised `params`."""
    fleet = None
    if mode == FLEET:
        fleet = Fleet(count=params["count"], exact=bool(params.get("exact")),
                      allow_partial=bool(params.get("allow_partial")), surplus=params.get("surplus") or "release",
                      sort_by=params.get("sort_by") or "price", descending=bool(params.get("descending")))
    return OrderRequest(
        mode=mode,
        state=params.get("state") or "present",
        order_id=params.get("order_id"),
        server_id=params.get("server_id"),
        fleet=fleet,
        filters={name: params.get(name) for name in MARKET_FILTER_SPEC if _given(params.get(name))},
        terms=_terms(params),
        container=_container(params),
        recreate=bool(params.get("recreate")),
        wait=params.get("wait", True) is not False,
        wait_timeout=_or(params.get("wait_timeout"), 900),
        reconcile_timeout=_or(params.get("reconcile_timeout"), 60),
        max_attempts=_or(params.get("max_attempts"), 5),
        cancel_on_failure=bool(params.get("cancel_on_failure")),
        issue=params.get("issue"),
        missing_ok=bool(params.get("missing_ok")),
        bad_server_ttl=params["bad_server_ttl"],
        lifetime_hours=_float_or_none(params.get("lifetime_hours")),
        known_hosts_dir=params.get("known_hosts_dir"),
        host_key_checking=params.get("host_key_checking") or "per_order",
    )


def _terms(params: dict) -> Terms:
    return Terms(
        type=params.get("type") or "on-demand",
        currency=params.get("currency"),
        currencies=params.get("currencies"),
        max_price=params.get("max_price") or None,
        spot_price=_float_or_none(params.get("spot_price")),
        spot_max_price=_float_or_none(params.get("spot_max_price")),
        spot_bid_step=_float_or_none(params.get("spot_bid_step")),
        spot_rebid=params.get("spot_rebid"),
        spot_candidates=_or(params.get("spot_candidates"), 10),
        budget=params.get("budget"),
        account_budget=params.get("account_budget"),
        usd_rates=params.get("usd_rates"),
    )


def _container(params: dict) -> Container:
    return Container(
        image=params.get("image") or None,
        ports=ports_for_order(params.get("ports")),
        env=params.get("env") or None,
        ssh_key=params.get("ssh_key"),
        ssh_password=params.get("ssh_password"),
        jupyter_token=params.get("jupyter_token"),
        command=params.get("command"),
        required_price=params.get("required_price"),
        autossh_entrypoint=params.get("autossh_entrypoint"),
        dockerhub_auth=params.get("dockerhub_auth"),
        remember_password=params.get("remember_password"),
    )


def _or(value: Any, default: Any) -> Any:
    """`value`, or the spec's default when it was not given (a caller that did not fill the defaults in)."""
    return default if value is None else value


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
