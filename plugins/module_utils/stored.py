"""What the collection stores of the API's records: an allow-list per record type, and keeping only those fields.

Whatever else the API sends (a secret, a private detail of the account, a field nested without end) never reaches a
file the collection writes (the state directory's records, the inventory cache). Each allow-list names the fields the
collection's readers read: a field maps to None (its value kept when it is a scalar, a list of scalars or of lists of
scalars, or a mapping of scalars such as tcp_ports) or to the allow-list of its own fields (a nested object).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

AllowList = Mapping[str, Union["AllowList", None]]
_SCALARS = (str, int, float, bool, type(None))

# specs of an order's server, as orders.normalize_order and the market's server reading (hardware filters) read it.
SPECS: AllowList = {
    "gpu": None, "gpuram": None, "ram": None, "cpu": None, "cpus": None, "disk": None, "disk_speed": None,
    "cuda_version": None, "net": {"cc": None, "up": None, "down": None},
}
# One my_orders entry: what orders.normalize_order and clore_order's identity read.
ORDER: AllowList = {
    "id": None, "si": None, "server_id": None, "image": None, "currency": None, "price": None, "spend": None,
    "creation_fee": None, "ct": None, "mrl": None, "spot": None, "expired": None, "specs": SPECS, "gpu_array": None,
    "pub_cluster": None, "tcp_ports": None, "http_port": None, "http_pub": None, "online": None,
    "mon_container": None, "original_price_usd": None,
}


def keep_allowed(record: Any, fields: AllowList) -> Any:
    """A copy of `record` with only the allow-listed fields, nested objects included; anything but a mapping is
    returned as it is (its reader refuses it)."""
    if not isinstance(record, Mapping):
        return record
    kept: dict[str, Any] = {}
    for name, inner in fields.items():
        if name not in record:
            continue
        value = record[name]
        if inner is not None:
            kept[name] = keep_allowed(value, inner) if isinstance(value, Mapping) else _plain(value)
        else:
            kept[name] = _plain(value)
    return kept


def _plain(value: Any, levels: int = 2) -> Any:
    """A field's value without objects inside it: scalars, lists of scalars (two levels), mappings of scalars.
    Whatever is not such a value is dropped (None), so that nothing unlisted hides one level down."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list) and levels > 0:
        return [item for item in (_plain(item, levels - 1) for item in value) if item is not None]
    if isinstance(value, Mapping) and levels == 2:
        return {str(key): item for key, item in value.items() if isinstance(item, _SCALARS)}
    return None
