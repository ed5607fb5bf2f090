"""The host side: the servers a key hosts on the marketplace, their settings, and market-aware prices for them.

The public names of this file are a contract shared by clore_server_info, clore_server and the host_pricing filter;
the record of one hosted server lives in _host/record.py, the settings in _host/settings.py (the bounds of mrl, shared
with the flat order, in mrl.py), the two tasks in _host/server.py and the pricing in _host/pricing.py (private to this
façade).
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils._host.pricing import (
    DEFAULTS as PRICING_DEFAULTS,
    PricingError,
    price_plans,
    table as pricing_table,
)
from ansible_collections.clore.ai.plugins.module_utils._host.server import run_server, run_server_info
from ansible_collections.clore.ai.plugins.module_utils._host.settings import SERVER_ARGUMENT_SPEC

__all__ = [
    "PRICING_DEFAULTS",
    "SERVER_ARGUMENT_SPEC",
    "PricingError",
    "price_plans",
    "pricing_table",
    "run_server",
    "run_server_info",
]
