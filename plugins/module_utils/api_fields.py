"""What the collection expects of each read-only Clore.ai answer: every field it reads, with its JSON type, and the
ones it relies on. One table, read by clore_api_check (and the contract tests) to compare a live answer with it.

Types: "int" (not bool), "number" (int or float, not bool), "string", "bool", "list", "dict". A field may accept
several (one source types `pub_cluster` as a string). A null value counts as missing. `relied`: the collection
cannot work without it (a row lacking it is skipped or the call fails); the others it reads when they are there.
Every field listed is read, so a value of another type is wrong whether relied on or not. `items` gives, for a list
or dict field, the types its items (a dict's values) must have: a list of numbers is not a list of port mappings.
`known` lists the further fields sources show that the collection does not read, so that only truly new fields are
reported as unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    """The fields of one JSON object: {name: (types, relied)}; `rows` names list fields whose items are objects of
    another shape; `children` names dict fields of another shape; `items` {name: {"list" or "dict": item types}}."""

    name: str
    fields: dict[str, tuple[tuple[str, ...], bool]]
    known: tuple[str, ...] = ()
    rows: dict[str, str] = field(default_factory=dict)
    children: dict[str, str] = field(default_factory=dict)
    items: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


def _f(*types: str, relied: bool = False) -> tuple[tuple[str, ...], bool]:
    return types, relied


SHAPES: dict[str, Shape] = {shape.name: shape for shape in (
    Shape("marketplace", {"servers": _f("list", relied=True), "my_servers": _f("list")}, rows={"servers": "server"}),
    Shape("server", {
        "id": _f("int", relied=True), "owner": _f("int"), "mrl": _f("number"), "rented": _f("bool"),
        "reliability": _f("number"), "rating": _f("dict"), "allowed_coins": _f("list"), "gpu_array": _f("list"),
        "cuda_version": _f("string", "number"), "price": _f("dict", relied=True), "specs": _f("dict"),
        # Not a marketplace field in any source; read when present (see clore-api.md).
        "online": _f("bool"),
    }, children={"price": "server.price", "specs": "specs"}),
    # on_demand / spot map coins to prices, and may hold a `usd` key (newer clients); original_usd is per coin
    # {on_demand, spot} in dollars (newer clients): the price model reads both (pricing.py).
    Shape("server.price", {"on_demand": _f("dict", relied=True), "spot": _f("dict"), "usd": _f("dict"),
                           "original_usd": _f("dict")},
          children={"usd": "server.price.usd"}),
    # Keys differ between sources: whichever are present are read.
    Shape("server.price.usd", {"on_demand_btc": _f("number"), "on_demand_clore": _f("number"),
                               "on_demand_usd": _f("number"), "spot": _f("number")}),
    Shape("specs", {
        "gpu": _f("string"), "gpuram": _f("number"), "ram": _f("number"), "cpu": _f("string"), "cpus": _f("string"),
        "disk": _f("string"), "disk_speed": _f("number"), "net": _f("dict"),
    }, known=("mb", "pcie_rev", "pcie_width", "backend_version", "xfs", "cuda_version"), children={"net": "specs.net"}),
    Shape("specs.net", {"cc": _f("string"), "up": _f("number"), "down": _f("number")}, known=("test_history",)),
    Shape("my_orders", {"orders": _f("list", relied=True)}, rows={"orders": "order"}),
    Shape("order", {
        "id": _f("int", relied=True), "si": _f("int", relied=True), "image": _f("string", relied=True),
        "currency": _f("string", relied=True), "price": _f("number", relied=True), "spend": _f("number"),
        "creation_fee": _f("number"), "ct": _f("number", relied=True), "mrl": _f("number"),
        "spot": _f("bool", relied=True), "expired": _f("bool"), "specs": _f("dict"),
        # The SSH endpoint: no host without both. The API sends lists (["n1.c1.clorecloud.net"], ["22:10000"]);
        # one SDK types pub_cluster as a string and tcp_ports as a dict {"22": 10000}: both are read.
        "pub_cluster": _f("list", "string", relied=True), "tcp_ports": _f("list", "dict", relied=True),
        "http_port": _f("string", "int"), "http_pub": _f("string"), "online": _f("bool"), "mon_container": _f("int"),
        "original_price_usd": _f("number"),
    }, children={"specs": "specs"},
        items={"pub_cluster": {"list": ("string",)}, "tcp_ports": {"list": ("string",), "dict": ("int", "string")}}),
    Shape("wallets", {"wallets": _f("list", relied=True)}, rows={"wallets": "wallet"}),
    Shape("wallet", {"name": _f("string", relied=True), "balance": _f("number", relied=True),
                     "deposit": _f("string"), "withdrawal_fee": _f("number")}),
    Shape("spot_marketplace", {"market": _f("dict", relied=True), "exists": _f("bool")},
          children={"market": "spot_market"}),
    Shape("spot_market", {"offers": _f("list", relied=True), "server": _f("dict", relied=True),
                          "currency_rates_in_usd": _f("dict")},
          rows={"offers": "offer"}, children={"server": "spot_server"}),
    Shape("offer", {"offer_id": _f("int"), "bid": _f("number", relied=True), "active": _f("bool", relied=True),
                    "my": _f("bool"), "currency": _f("string")}),
    Shape("spot_server", {"min_pricing": _f("dict", relied=True), "mrl": _f("number"), "visibility": _f("string"),
                          "online": _f("bool")}),
    Shape("my_servers", {"servers": _f("list", relied=True), "limit": _f("int")}, rows={"servers": "hosted_server"}),
    Shape("hosted_server", {
        "id": _f("int"), "name": _f("string", relied=True), "connected": _f("bool"), "visibility": _f("string"),
        "pricing": _f("dict"), "min_spot_pricing": _f("dict"), "online": _f("bool"), "mrl": _f("number"),
        "specs": _f("dict"), "rented": _f("bool"),
    }, known=("usd_pricing", "autoprice", "working_properly", "gpu_array", "gpu_count", "max_fair_price_usd",
              "enable_btc_and_clore", "enable_only_clore", "enable_only_btc", "mass_price_changeable",
              "is_vpn_enabled", "max_poh_capacity", "energy_price", "oc_gpus", "public_name", "remaining_time",
              "spot_pricing"), children={"specs": "specs"}),
)}
