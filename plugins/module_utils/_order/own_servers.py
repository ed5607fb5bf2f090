"""The servers this API key hosts itself: never rented by a task (renting your own server costs a fee, earns
nothing). The marketplace answer lists their ids as `my_servers`."""
from __future__ import annotations

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils._order.market_read import MarketRead

# The `excluded` key and the skip reason of the servers this key hosts itself.
OWN_SERVER = "own_server"
OWN_SERVER_REASON = "one of your own servers (this API key hosts it)"


def as_server_id(value: Any) -> int | None:
    """A server id from an int or a numeric string (my_servers lists ids; odd entries are ignored)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def own_server_ids(market: MarketRead) -> set[int]:
    """The ids of the servers this key hosts, from the marketplace answer's `my_servers`."""
    return {i for i in map(as_server_id, market.my_servers) if i is not None}
