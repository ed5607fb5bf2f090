"""clore_order's argument spec: what AnsibleModule checks by itself, before run_module calls anything.

The rules that depend on a value or on two options at once are args.py's.
"""
from __future__ import annotations

from typing import Any

from ansible.module_utils.basic import env_fallback

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD
from ansible_collections.clore.ai.plugins.module_utils.pricing import USD_RATES_SPEC
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import HOST_KEY_POLICIES
from ansible_collections.clore.ai.plugins.module_utils.market import MARKET_FILTER_SPEC

ORDER_TYPES = ("on-demand", "spot")
IDENTITY_OPTIONS = ("order_id", "server_id", "count")

ORDER_ARGUMENT_SPEC: dict[str, Any] = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "order_id": {"type": "int"},
    "server_id": {"type": "int"},
    "count": {"type": "int"},
    "exact": {"type": "bool", "default": False},
    "allow_partial": {"type": "bool", "default": False},
    # After renting, a fleet's members beyond count (another run rented at the same time): release or keep them.
    "surplus": {"type": "str", "default": "release", "choices": ["release", "keep"]},
    "sort_by": {"type": "str", "default": "price"},
    "descending": {"type": "bool", "default": False},
    "image": {"type": "str"},
    "type": {"type": "str", "default": "on-demand", "choices": list(ORDER_TYPES)},
    "spot_price": {"type": "float"},
    "spot_max_price": {"type": "float"},
    "spot_bid_step": {"type": "float"},
    "spot_rebid": {"type": "bool"},
    "spot_candidates": {"type": "int", "default": 10},
    "ports": {"type": "dict"},
    "ssh_key": {"type": "str", "no_log": False},
    "ssh_password": {"type": "str", "no_log": True},
    "jupyter_token": {"type": "str", "no_log": True},
    "env": {"type": "dict", "no_log": True},
    "command": {"type": "str"},
    "required_price": {"type": "float"},
    "autossh_entrypoint": {"type": "bool"},
    "dockerhub_auth": {"type": "str", "no_log": True},
    # A flag, not a secret: said explicitly, or Ansible warns about an option whose name contains "password".
    "remember_password": {"type": "bool", "no_log": False},
    "recreate": {"type": "bool", "default": False},
    "budget": {
        "type": "dict",
        "options": {
            "amount": {"type": "float", "required": True},
            "currency": {"type": "str", "default": USD},
        },
    },
    "account_budget": {
        "type": "dict",
        "options": {
            "amount": {"type": "float", "required": True},
            "currency": {"type": "str", "default": USD},
        },
    },
    "bad_server_ttl": {"type": "float", "default": 24.0},
    "lifetime_hours": {"type": "float"},
    "max_attempts": {"type": "int", "default": 5},
    "reconcile_timeout": {"type": "int", "default": 60},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 900},
    "cancel_on_failure": {"type": "bool", "default": False},
    "issue": {"type": "str"},
    "missing_ok": {"type": "bool", "default": False},
    "known_hosts_dir": {"type": "path", "fallback": (env_fallback, ["CLORE_KNOWN_HOSTS_DIR"])},
    "host_key_checking": {"type": "str", "default": "per_order", "choices": list(HOST_KEY_POLICIES)},
    **MARKET_FILTER_SPEC,
    **USD_RATES_SPEC,
}

# What the argument spec can say by itself (AnsibleModule checks it before run_module calls anything); args.py
# keeps the rules that depend on two options at once or on a value, with messages naming the field and the rule.
ORDER_ARGUMENT_RULES: dict[str, Any] = {
    "mutually_exclusive": [IDENTITY_OPTIONS],
    "required_one_of": [IDENTITY_OPTIONS],
    # A spot order needs its coin and a bid: fixed (spot_price) or the least that wins within spot_max_price.
    "required_if": [("type", "spot", ("currency", "currencies"), True),
                    ("type", "spot", ("spot_price", "spot_max_price"), True)],
    "required_by": {"count": "image"},
}
# Booleans for whole numbers, NaN and infinity, ids below 1: refused for every module by guards.check_params.
