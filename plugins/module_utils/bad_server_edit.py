"""clore_bad_servers's task: record servers as bad (with a reason), clear records, and list what is recorded.

Idempotent: a server already recorded with the same reason is not recorded again; check mode writes nothing.
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers, check_ttl
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError


def check_request(params: dict) -> float:
    """The TTL in hours, once every option is checked (before anything is read or written)."""
    try:
        ttl = check_ttl(params["bad_server_ttl"])
    except ValueError as err:
        raise CloreConfigError(str(err), option="bad_server_ttl") from None
    if params["state"] == "present" and (not params["server_ids"] or not (params["reason"] or "").strip()):
        raise CloreConfigError("state present needs server_ids and a reason (what failed on those servers)",
                               option="reason")
    return ttl


def run_bad_servers(module, client) -> dict:
    """clore_bad_servers's run(module, client) for common.run_module."""
    params = module.params
    ttl = check_request(params)
    state, ids = params["state"], params["server_ids"]
    records = BadServers(client.state_path, client.account)
    recorded: list[int] = []
    cleared: list[int] = []
    if state == "present":
        active = records.active(ttl)
        recorded = [i for i in ids if active.get(i, {}).get("reason") != params["reason"]]
        if not module.check_mode:
            for server_id in recorded:
                records.record(server_id, params["reason"], params["order_id"])
    elif state == "absent":
        known = {e["server_id"] for e in records.entries()}
        cleared = sorted(known if not ids else known & set(ids))
        if not module.check_mode and cleared:
            records.clear(cleared)
    return {
        "changed": bool(recorded or cleared),
        "bad_servers": records.entries(ttl),
        "recorded": recorded,
        "cleared": cleared,
    }
