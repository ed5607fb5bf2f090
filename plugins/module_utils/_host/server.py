"""The host side's two tasks: read the servers a key hosts (clore_server_info), and keep one server's settings as
declared (clore_server: read, decide, write once, read back).

Reads are identical in check mode; only the set_server_settings POST is skipped, so check mode reports exactly the
change a real run would make.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Callable

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._host.settings import (
    CURRENT_FORM,
    OLDER_FORM,
    PRICE_MAPS,
    SETTINGS,
    check_against_server,
    check_declared,
    current_settings,
    desired_settings,
    differences,
    older_body,
    per_currency_body,
    record_after,
    unknown_settings,
)
from ansible_collections.clore.ai.plugins.module_utils._host.record import (
    normalize_hosted,
    raw_rows_by_name,
    read_hosted,
)

Warn = Callable[[str], None]


# ----- clore_server_info -----
def name_matches(name: str, patterns: list[str]) -> bool:
    """An exact name, or a shell-style pattern (rig-*, gpu-?); no patterns keeps every name."""
    return not patterns or any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns)


def run_server_info(module, client) -> dict:
    """clore_server_info's run(module, client) for common.run_module: blank names are no pattern."""
    patterns = [name.strip() for name in module.params["names"] or [] if name and name.strip()]
    return list_hosted(client, patterns, module.params["config"], module.warn)


def list_hosted(client, patterns: list[str], with_config: bool, warn: Warn) -> dict:
    """clore_server_info's result: the hosted servers matching `patterns`, each with its server_config if asked."""
    rows = client.my_servers()
    records, warnings = read_hosted(rows)
    for warning in warnings:
        warn(warning)
    every_name = [record["name"] for record in records]
    selected = [record for record in records if name_matches(record["name"], patterns)]
    if with_config:
        raw = raw_rows_by_name(rows)
        selected = [_with_config(client, raw[record["name"]], record, warn) for record in selected]
    unmatched = [p for p in patterns if not any(name_matches(name, [p]) for name in every_name)]
    return {
        "changed": False,
        "servers": selected,
        "count": len(selected),
        "names": every_name,
        "unmatched": unmatched,
    }


def _with_config(client, row: dict, record: dict, warn: Warn) -> dict:
    try:
        config = client.server_config(record["name"])
    except CloreApiError as err:  # one server's config failing never empties the answer
        warn(f"server_config of {record['name']!r} failed, its record has only what my_servers gives: {err}")
        return record
    merged = normalize_hosted(row, config)
    return merged if merged is not None else record


# ----- clore_server -----
def run_server(module, client) -> dict:
    """clore_server's run(module, client) for common.run_module."""
    declared = check_declared(module.params)  # before any API call
    return keep_settings(client, module.params["name"].strip(), declared, check_mode=module.check_mode,
                         want_diff=module._diff, warn=module.warn)


def read_server(client, name: str) -> tuple[dict, dict]:
    """(record, my_servers row) of the server called `name`; CloreError listing the hosted names otherwise."""
    rows = client.my_servers()
    by_name = raw_rows_by_name(rows)
    row = by_name.get(name)
    if row is None:
        hosted = ", ".join(repr(n) for n in sorted(by_name)) or "none"
        raise CloreError(f"name: server {name!r} is not one of the servers this API key hosts ({hosted}); nothing "
                         "was changed")
    record = normalize_hosted(row, client.server_config(name))
    if record is None:  # cannot happen: the row has this name
        raise CloreError(f"server {name!r}: my_servers gives no usable row; nothing was changed")
    return record, row


def keep_settings(client, name: str, declared: dict, *, check_mode: bool, want_diff: bool, warn: Warn) -> dict:
    record, row = read_server(client, name)
    current = current_settings(record)
    desired = desired_settings(current, declared)
    check_against_server(name, current, declared, desired)
    changes = differences(current, desired, declared)
    form = None
    after = record
    if changes:
        for setting in unknown_settings(current, declared):
            warn(f"server {name!r}: Clore did not report its {setting}, so the change cannot carry it over; declare "
                 "it to be sure it stays as it is")
        if check_mode:
            after = record_after(record, desired)
        else:
            form = write_settings(client, name, desired, changes, warn)
            after = _read_back(client, name, row, record_after(record, desired), desired, declared, warn)
    result: dict[str, Any] = {
        "changed": bool(changes),
        "server": after,
        "changes": changes,
        "form": form,
        "msg": _summary(name, changes, check_mode),
    }
    if want_diff:
        result["diff"] = {"before": _settings_view(current), "after": _settings_view(desired),
                          "before_header": f"server {name}", "after_header": f"server {name}"}
    return result


def write_settings(client, name: str, desired: dict, changes: dict, warn: Warn) -> str:
    """One set_server_settings in the current form; the older form only if the API refuses that one (code 2) and
    the change fits in it. Returns the form used."""
    try:
        client.set_server_settings(per_currency_body(name, desired))
        return CURRENT_FORM
    except CloreApiError as refused:
        if refused.code != 2 or refused.ambiguous:
            raise
        first = refused
    try:
        body = older_body(name, desired, changes)
    except CloreError as why:
        raise first.with_message(f"{first} The per-currency form was refused, and {why}: nothing was changed.") \
            from None
    try:
        client.set_server_settings(body)
    except CloreApiError as second:
        raise second.with_message(f"{second} (The per-currency form had been refused first: {first})") from None
    warn(f"set_server_settings refused the per-currency form ({first.reason or 'code 2'}); the older form "
         "{name, availability, mrl, on_demand, spot} was used")
    return OLDER_FORM


def _read_back(client, name: str, row: dict, expected: dict, desired: dict, declared: dict, warn: Warn) -> dict:
    """The server as Clore reports it after the write; a warning for any declared setting it does not show."""
    try:
        record = normalize_hosted(row, client.server_config(name))
    except CloreApiError as err:
        warn(f"the change was sent, but server_config could not be read back to confirm it: {err}")
        return expected
    if record is None:
        return expected
    now = current_settings(record)
    for key in SETTINGS:
        if key not in declared:
            continue
        wanted, shown = desired[key], now.get(key)
        if key in PRICE_MAPS or key == "usd_pricing":
            wanted = {k: desired[key].get(k) for k in declared[key]}
            shown = {k: (now.get(key) or {}).get(k) for k in declared[key]}
        if differences({key: shown}, {key: wanted}, {key: True}):
            warn(f"server {name!r}: after set_server_settings Clore reports {key} {shown!r}, not {wanted!r}; run the "
                 "task again to see whether it settles")
    return record


def _settings_view(settings: dict) -> dict:
    return {key: settings.get(key) for key in SETTINGS}


def _summary(name: str, changes: dict, check_mode: bool) -> str:
    if not changes:
        return f"server {name!r} already has the declared settings"
    verb = "would change" if check_mode else "changed"
    return f"{verb} {', '.join(changes)} of server {name!r}"
