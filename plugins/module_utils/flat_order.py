"""Order normalisation: one raw `my_orders` entry in, one flat dict for people, `when:` and host variables out.

The API is read defensively: `pub_cluster` may be a list or a string, `tcp_ports` a list of "22:10000" strings or a
dict. An order whose own fields cannot be read (no id, a price or time that is not a finite number) raises ValueError
naming the order, and nothing else, so that a caller can skip that one order and keep the rest.

The SSH endpoint is handed to ssh and to shells, so it is held to a stricter rule: a host name of letters, digits and
`.-_:` only (never a leading `-`, which ssh would read as an option), a port in 1-65535. An order whose endpoint breaks
that rule, or cannot be read, is still an order that costs money: it is returned without an SSH endpoint (never
ready) and `ssh_endpoint_error` says why, so that clore_order still counts it, finds it after a create and can cancel
it, while the inventory leaves it out.

Only whitelisted fields are copied: secrets (`ssh_password`, `ssh_key`, `jupyter_token`, `env`) are never returned
by the API in orders, and if one ever were, it would still not reach the result. What is stored of an order
(strip_order) is the allow-list stored.ORDER, nested fields of `specs` included.
"""
from __future__ import annotations

import math
import re
import time
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.gpu_specs import gpu_from_specs
from ansible_collections.clore.ai.plugins.module_utils.mrl import MRL_MAX
from ansible_collections.clore.ai.plugins.module_utils.pricing import order_usd
from ansible_collections.clore.ai.plugins.module_utils.stored import ORDER, keep_allowed

SSH_USER = "root"
SSH_CONTAINER_PORT = 22
# mon_container values read as "the container is up"; 0/1 (and anything unknown) mean it is still deploying.
RUNNING_MON_CONTAINER = 2
# The raw fields normalize_order reads: what a cache keeps of an order (never a secret, whatever the API sends).
ORDER_FIELDS = frozenset(ORDER)


# A host name or an IP address, nothing a shell or ssh could read as more than that.
_SAFE_HOST = re.compile(r"[A-Za-z0-9:][A-Za-z0-9._:-]{0,252}")
# Ids beyond this are not ids (and would not survive a trip through JSON readers that use doubles).
_MAX_ID = 2**53


def _shown(value: Any, limit: int = 60) -> str:
    """repr(value), cut short: API data quoted in a warning must not flood it."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"<an integer of {value.bit_length()} bits>"  # repr of a huge int is slow, or refused
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _port(value: Any, what: str) -> int:
    """A TCP port number from an int or a numeric string, or ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{what} {_shown(value)} is not a port number")
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{what} {_shown(value)} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{what} {_shown(port)} is out of range 1-65535")
    return port


def _port_entry(entry: Any) -> tuple[int, int]:
    """One "<container port>:<public port>" entry (a trailing "/tcp" is tolerated)."""
    if not isinstance(entry, str) or ":" not in entry:
        raise ValueError(f"tcp_ports entry {_shown(entry)} is not '<container port>:<public port>'")
    container, public = entry.split(":", 1)
    return _port(container, "container port"), _port(public.split("/", 1)[0], "public port")


def parse_tcp_ports(value: Any) -> dict[int, int]:
    """Container port -> public port, from ["22:10000"], {"22": 10000} or {"22": "10000"}; empty when not yet set."""
    if value is None or value == "" or value == [] or value == {}:
        return {}
    if isinstance(value, dict):
        return {_port(k, "container port"): _port(v, "public port") for k, v in value.items()}
    if isinstance(value, str):
        # Not a documented shape, but cheap to accept: "22:10000,8888:10001".
        value = [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, (list, tuple)):
        return dict(_port_entry(entry) for entry in value)
    raise ValueError(f"tcp_ports has an unexpected type {type(value).__name__}")


def safe_host(name: str) -> str:
    """name when it is a host name or IP address safe to pass to ssh and to a shell, else ValueError."""
    if not _SAFE_HOST.fullmatch(name):
        raise ValueError(
            f"pub_cluster entry {_shown(name)} is not a host name (letters, digits and . - _ : only, "
            "not starting with - or .)"
        )
    return name


def first_host(pub_cluster: Any) -> str | None:
    """The first public hostname of an order, from a list or a string; None while it is not provisioned.

    ValueError when that first name is not safe_host (the next one is not tried: such an answer is not trusted).
    """
    if pub_cluster is None:
        return None
    if isinstance(pub_cluster, str):
        candidates = pub_cluster.replace(",", " ").split()
    elif isinstance(pub_cluster, (list, tuple)):
        candidates = pub_cluster
    else:
        raise ValueError(f"pub_cluster has an unexpected type {type(pub_cluster).__name__}")
    for candidate in candidates:
        if not isinstance(candidate, str):
            raise ValueError(f"pub_cluster entry {_shown(candidate)} is not a hostname")
        if candidate.strip():
            return safe_host(candidate.strip())
    return None


def ssh_endpoint(raw: dict) -> tuple[str | None, int | None, dict[int, int], str | None]:
    """(host, port, tcp_ports, error): the SSH endpoint of an order, or no endpoint and the reason when it is unsafe."""
    try:
        tcp_ports = parse_tcp_ports(raw.get("tcp_ports"))
    except ValueError as err:
        return None, None, {}, str(err)
    try:
        host = first_host(raw.get("pub_cluster"))
    except ValueError as err:
        return None, None, tcp_ports, str(err)
    return host, tcp_ports.get(SSH_CONTAINER_PORT), tcp_ports, None


def _finite(value: Any, key: str) -> float:
    """value as a finite float, or ValueError (inf, nan and integers too large for a float included)."""
    if isinstance(value, bool):
        raise ValueError(f"{key} {_shown(value)} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} {_shown(value)} is not a number") from None
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{key} {_shown(value)} is not a finite number")
    return number


def _number(raw: dict, key: str, kind: type = float) -> Any:
    """raw[key] as a finite `kind` (int truncates), None when missing or empty, ValueError when not a finite number."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    number = _finite(value, key)
    return int(number) if kind is int else number


def _flag(raw: dict, key: str) -> bool:
    """A boolean field that may arrive as a bool, 0/1 or "true"/"false"."""
    value = raw.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _text(raw: dict, key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise ValueError(f"{key} has an unexpected type {type(value).__name__}")
    return str(value)


def _specs(raw: dict) -> dict:
    specs = raw.get("specs")
    if specs is None:
        return {}
    if not isinstance(specs, dict):
        raise ValueError(f"specs has an unexpected type {type(specs).__name__}")
    return specs


def _country(specs: dict) -> str | None:
    net = specs.get("net")
    country = net.get("cc") if isinstance(net, dict) else None
    return country if isinstance(country, str) and country else None


def _gpu_ram_gb(specs: dict) -> float | None:
    """Informational only: anything but a finite number is None, not a reason to skip the order."""
    try:
        return _finite(specs["gpuram"], "gpuram")
    except (KeyError, ValueError):
        return None


def _order_id(raw: Any) -> int:
    if not isinstance(raw, dict):
        raise ValueError(f"order is a {type(raw).__name__}, not a mapping")
    value = raw.get("id")
    if isinstance(value, bool) or value is None:
        raise ValueError("order has no id")
    return _id(value, "order id")


def _id(value: Any, what: str) -> int:
    """A whole, non-negative id from an int, an integral float or a numeric string, or ValueError."""
    try:
        number = value if isinstance(value, int) else float(value)
        valid = not isinstance(value, bool) and float(number).is_integer() and 0 <= number < _MAX_ID
    except (TypeError, ValueError, OverflowError):
        valid = False
    if not valid:
        raise ValueError(f"{what} {_shown(value)} is not an id (a whole number from 0 to 2**53)")
    return int(number)


def rental_length_seconds(mrl: float | None) -> int | None:
    """An order's maximum rental length in seconds, from its `mrl` as sent.

    The API sends hours (recorded end times are exactly `mrl` hours after the start, like every other mrl of the
    API); one older client reads seconds. A rental lasts 6 to 3000 hours, so a value above 3000 can only be seconds.
    """
    if mrl is None:
        return None
    return int(mrl) if mrl > MRL_MAX else int(mrl * 3600)


def strip_order(raw: Any) -> Any:
    """The raw order with only the fields it is read by (stored.ORDER, `specs` down to its own allow-list), as it is
    stored; anything but a mapping is returned as it is."""
    return keep_allowed(raw, ORDER)


def normalize_order(raw: dict, now: float | None = None) -> dict:
    """The flat, secret-free view of one order (see the module's RETURN docs for every key).

    Raises ValueError, its message starting with "order <id>:", when the order cannot be read, and no other
    exception whatever the API sent: every caller skips such an order with a warning and keeps the others.
    """
    order_id = _order_id(raw)
    try:
        return _normalize(order_id, raw, time.time() if now is None else now)
    except ValueError as err:
        raise ValueError(f"order {order_id}: {err}") from None
    except (ArithmeticError, TypeError) as err:  # a shape no rule above foresaw: still only this order is lost
        raise ValueError(f"order {order_id}: cannot be read ({type(err).__name__}: {err})") from None


def _original_usd(raw: dict) -> float | None:
    """The order's price per day in dollars as the API gives it (newer clients), or None."""
    value = raw.get("original_price_usd")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _normalize(order_id: int, raw: dict, now: float) -> dict:
    # Older clients name it server_id; the API sends `si`.
    server_key = "si" if raw.get("si") not in (None, "") else "server_id"
    if raw.get(server_key) in (None, ""):
        raise ValueError("no server id (si)")
    server_id = _id(raw[server_key], f"server id ({server_key})")
    specs = _specs(raw)
    ssh_host, ssh_port, tcp_ports, endpoint_error = ssh_endpoint(raw)
    ready = ssh_host is not None and ssh_port is not None

    created_at = _number(raw, "ct", int)
    mrl = _number(raw, "mrl")
    mrl_seconds = rental_length_seconds(mrl)
    age_seconds = max(0, int(now - created_at)) if created_at is not None else None
    time_left_seconds = None
    if created_at is not None and mrl_seconds is not None:
        time_left_seconds = max(0, int(mrl_seconds - (now - created_at)))

    currency = _text(raw, "currency")
    price_per_day = _number(raw, "price")
    spend = _number(raw, "spend")
    # In dollars from the order alone (USD-Blockchain, or its own original_price_usd); other coins need rates.
    money = order_usd(currency, price_per_day, spend, raw.get("original_price_usd"))
    gpu_model, gpu_count = gpu_from_specs(specs, raw.get("gpu_array"))
    http_pub = _text(raw, "http_pub")
    mon_container = _number(raw, "mon_container", int)

    return {
        "id": order_id,
        "server_id": server_id,
        "image": _text(raw, "image"),
        "currency": currency,
        "price": price_per_day,
        "price_per_day": price_per_day,
        "price_per_hour": price_per_day / 24 if price_per_day is not None else None,
        "usd_per_day": money["usd_per_day"],
        "usd_per_hour": money["usd_per_hour"],
        "usd_source": money["usd_source"],
        "original_price_usd": _original_usd(raw),
        "spend": spend,
        "creation_fee": _number(raw, "creation_fee"),
        "created_at": created_at,
        "age_seconds": age_seconds,
        "mrl": mrl,
        "mrl_seconds": mrl_seconds,
        "time_left_seconds": time_left_seconds,
        "spot": _flag(raw, "spot"),
        "expired": _flag(raw, "expired"),
        "online": _flag(raw, "online"),
        "status": "running" if mon_container == RUNNING_MON_CONTAINER else "deploying",
        "gpu_model": gpu_model,
        "gpu_count": gpu_count,
        "gpu_ram_gb": _gpu_ram_gb(specs),
        "country": _country(specs),
        "ssh_host": ssh_host,
        "ssh_port": ssh_port,
        "ssh_user": SSH_USER,
        "ssh_command": f"ssh -p {ssh_port} {SSH_USER}@{ssh_host}" if ready else None,
        "http_port": _text(raw, "http_port"),
        "http_url": f"https://{http_pub}" if http_pub else None,
        "ready": ready,
        "ssh_endpoint_error": endpoint_error,
        "tcp_ports": tcp_ports,
    }


# --- clore_order's --diff: the identified orders before and after, without secrets

DIFF_FIELDS = ("id", "server_id", "image", "gpu_model", "gpu_count", "price_per_day", "currency", "spot")


def _diff_entry(order: dict) -> dict:
    return {name: order.get(name) for name in DIFF_FIELDS}


def fleet_diff(before: list[dict], after: list[dict], would_create: list[dict], would_reprice: list[dict],
               image: str | None = None) -> dict:
    """{before, after}: the identified orders before the task and after it (planned ones in check mode)."""
    repriced = {change["id"]: change["to"] for change in would_reprice}
    after_entries = []
    for order in after:
        entry = _diff_entry(order)
        if order["id"] in repriced:
            entry["price_per_day"] = repriced[order["id"]]
        after_entries.append(entry)
    for planned in would_create:
        after_entries.append({
            "id": None, "server_id": planned["server_id"], "image": image, "gpu_model": planned.get("gpu_model"),
            "gpu_count": planned.get("gpu_count"), "price_per_day": planned["price_per_day"],
            "currency": planned["currency"], "spot": planned["type"] == "spot",
        })
    return {"before": {"orders": [_diff_entry(o) for o in before]}, "after": {"orders": after_entries}}
