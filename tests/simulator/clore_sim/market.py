"""A deterministic marketplace catalog that looks like Clore's: the same seed and size give the same servers.

Whatever the seed, a market of at least 16 servers holds these free, online servers (the anchors tests rely on):
four RTX 4090 (1x, 1x, 2x, 1x; two accept all three currencies, one only CLORE-Blockchain, one bitcoin and
USD-Blockchain), and one each of RTX 3090, RTX 3080, RTX 3060, RTX 4080, RTX 5090, A100, H100, GTX 1080 Ti,
each accepting all three currencies; and two RTX 3090 that are rented and offline respectively. (With
--price-shape none the coins are those of the 2024 answer: see price_shapes.as_2024.)
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass

from .price_shapes import DEFAULT_PRICE_SHAPE, as_2024, served_price

# USD per coin, fixed so that prices stay reproducible: the one truth every price shape is drawn from.
USD_RATES = {"bitcoin": 60_000.0, "CLORE-Blockchain": 0.025, "USD-Blockchain": 1.0}
# Drive models as real rows name them: some hold sizes of their own ("... 4TB"), then the free space follows
# ("Samsung SSD 990 PRO 4TB 3450.9524GB"). (model, capacity GB)
DRIVES = [
    ("Samsung SSD 990 PRO 4TB", 4000), ("Samsung SSD 980 PRO 2TB", 2000), ("TS256GMTE110S", 256),
    ("WDC WDS100T2B0A-00SM50", 1000), ("KINGSTON SNV2S1000G", 1000), ("CT2000P3PSSD8", 2000),
    ("Samsung SSD 970 EVO Plus 500GB", 500), ("NVMe 512GB", 512),
]


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gb: int
    usd_per_day: float  # one GPU, on demand
    cuda: tuple[str, ...]


GPUS = {
    "GTX 1080 Ti": Gpu("NVIDIA GeForce GTX 1080 Ti", 11, 1.1, ("11.8", "12.2")),
    "RTX 2080 Ti": Gpu("NVIDIA GeForce RTX 2080 Ti", 11, 1.6, ("11.8", "12.2", "12.4")),
    "RTX 3060": Gpu("NVIDIA GeForce RTX 3060", 12, 1.5, ("12.2", "12.4")),
    "RTX 3070": Gpu("NVIDIA GeForce RTX 3070", 8, 1.8, ("12.2", "12.4")),
    "RTX 3080": Gpu("NVIDIA GeForce RTX 3080", 10, 2.4, ("12.2", "12.4", "12.6")),
    "RTX 3090": Gpu("NVIDIA GeForce RTX 3090", 24, 3.4, ("12.2", "12.4", "12.6")),
    "RTX 4070 Ti": Gpu("NVIDIA GeForce RTX 4070 Ti", 12, 3.0, ("12.4", "12.6")),
    "RTX 4080": Gpu("NVIDIA GeForce RTX 4080", 16, 4.4, ("12.4", "12.6")),
    "RTX 4090": Gpu("NVIDIA GeForce RTX 4090", 24, 7.2, ("12.2", "12.4", "12.6", "12.8")),
    "RTX 5090": Gpu("NVIDIA GeForce RTX 5090", 32, 11.5, ("12.8",)),
    "RTX A6000": Gpu("NVIDIA RTX A6000", 48, 9.0, ("12.2", "12.4")),
    "A100": Gpu("NVIDIA A100-SXM4-80GB", 80, 28.0, ("12.2", "12.4", "12.6")),
    "H100": Gpu("NVIDIA H100 80GB HBM3", 80, 52.0, ("12.4", "12.6", "12.8")),
}
# How often each model appears among the generated (non-anchor) servers.
WEIGHTS = {
    "GTX 1080 Ti": 5, "RTX 2080 Ti": 4, "RTX 3060": 8, "RTX 3070": 7, "RTX 3080": 9, "RTX 3090": 12,
    "RTX 4070 Ti": 6, "RTX 4080": 7, "RTX 4090": 18, "RTX 5090": 5, "RTX A6000": 3, "A100": 4, "H100": 3,
}
ALL_COINS = ["CLORE-Blockchain", "bitcoin", "USD-Blockchain"]
COIN_SETS = [ALL_COINS, ALL_COINS, ["CLORE-Blockchain"], ["CLORE-Blockchain", "bitcoin"], ["bitcoin", "USD-Blockchain"],
             ["CLORE-Blockchain", "USD-Blockchain"]]
COUNTRIES = ["US", "DE", "FR", "NL", "PL", "CZ", "FI", "SE", "GB", "CA", "UA", "RO", "JP", "KR", "SG", "BR", "HK"]
CPUS = [
    ("AMD Ryzen 9 7950X 16-Core Processor", "16/32"), ("AMD Ryzen 9 5950X 16-Core Processor", "16/32"),
    ("Intel(R) Core(TM) i9-13900K", "24/32"), ("Intel(R) Core(TM) i7-12700K", "12/20"),
    ("AMD EPYC 7543 32-Core Processor", "32/64"), ("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "32/64"),
    ("AMD Ryzen 5 5600X 6-Core Processor", "6/12"),
]
BOARDS = ["ASUS PRIME X670-P", "MSI MAG B550 TOMAHAWK", "Gigabyte X570 AORUS ELITE", "Supermicro H12SSL-i",
          "ASRock Rack ROMED8-2T"]
# (model, gpu count, coins, rented, online)
ANCHORS = [
    ("RTX 4090", 1, ALL_COINS, False, True),
    ("RTX 4090", 1, ALL_COINS, False, True),
    ("RTX 4090", 2, ["CLORE-Blockchain"], False, True),
    ("RTX 4090", 1, ["bitcoin", "USD-Blockchain"], False, True),
    ("RTX 3090", 1, ALL_COINS, False, True),
    ("RTX 3080", 1, ALL_COINS, False, True),
    ("RTX 3060", 1, ALL_COINS, False, True),
    ("RTX 4080", 1, ALL_COINS, False, True),
    ("RTX 5090", 1, ALL_COINS, False, True),
    ("A100", 1, ALL_COINS, False, True),
    ("H100", 1, ALL_COINS, False, True),
    ("GTX 1080 Ti", 1, ALL_COINS, False, True),
    ("RTX 3090", 2, ALL_COINS, True, True),
    ("RTX 3090", 1, ALL_COINS, False, False),
]
FIRST_ID = 10_000


def _round(amount: float, coin: str) -> float:
    return round(amount, 8 if coin == "bitcoin" else 4)


def _price(rng: random.Random, usd: float, coin: str) -> float:
    return _round(usd * rng.uniform(0.93, 1.07) / USD_RATES[coin], coin)


def reprice(server: dict, on_demand: dict[str, float] | None = None, spot: dict[str, float] | None = None) -> None:
    """A host changes its prices (per day, per coin it accepts); what rows say in USD follows when served."""
    price = server["price"]
    price["on_demand"].update({coin: _round(value, coin) for coin, value in (on_demand or {}).items()})
    price["spot"].update({coin: _round(value, coin) for coin, value in (spot or {}).items()})


def _server(rng: random.Random, server_id: int, model: str, count: int, coins: list[str], rented: bool,
            online: bool) -> dict:
    gpu = GPUS[model]
    usd_day = round(gpu.usd_per_day * count * rng.uniform(0.8, 1.3), 4)
    spot_ratio = rng.uniform(0.45, 0.7)
    on_demand = {coin: _price(rng, usd_day, coin) for coin in coins}
    spot = {coin: _round(value * spot_ratio, coin) for coin, value in on_demand.items()}
    cpu, threads = rng.choice(CPUS)
    ram = float(rng.choice([16, 32, 64, 128, 256]) * max(1, count // 2))
    drive, capacity = rng.choice(DRIVES)
    free = round(capacity * rng.uniform(0.55, 0.93), 4)
    cuda = rng.choice(gpu.cuda)
    return {
        "id": server_id,
        "owner": rng.randint(100, 9999),
        "mrl": rng.choice([72, 120, 168, 240, 720]),
        "price": {"on_demand": on_demand, "spot": spot},  # per coin; USD only as served (price_shapes.py)
        "rented": rented,
        "online": online,  # the simulator's own state: never served on marketplace rows (see public_row)
        "specs": {
            "mb": rng.choice(BOARDS),
            "cpu": cpu,
            "cpus": threads,
            "ram": ram,
            "disk": f"{drive} {free}GB",
            "disk_speed": round(rng.uniform(400, 7000), 1),
            "gpu": f"{count}x {gpu.name}",
            "gpuram": gpu.memory_gb,
            "net": _net(rng),
            "pcie_rev": rng.choice([3, 4, 5]),
            "pcie_width": rng.choice([8, 16]),
            "backend_version": rng.choice([19, 20, 21]),
            "xfs": rng.choice([0, 3]),
        },
        "reliability": round(rng.uniform(0.85, 1.0), 4),
        "rating": {"avg": round(rng.uniform(3.0, 5.0), 2), "cnt": rng.randint(0, 400)},
        "allowed_coins": list(coins),
        "gpu_array": [gpu.name] * count,
        "cuda_version": cuda,
    }


def _net(rng: random.Random) -> dict:
    """specs.net as real rows give it: country, speeds (Mbit/s) and the speed tests behind them."""
    down, up = round(rng.uniform(50, 2000), 2), round(rng.uniform(50, 2000), 2)
    tested = 1_745_000_000 + rng.randint(0, 5_000_000)
    return {"cc": rng.choice(COUNTRIES), "down": down, "up": up,
            "test_history": [f"S|{tested - 1_300_000}|{round(down * 1.1, 2)}|{round(up * 0.9, 2)}",
                             f"S|{tested}|{down}|{up}"]}


def public_row(server: dict, price_shape: str | None = DEFAULT_PRICE_SHAPE) -> dict:
    """A marketplace row as the API serves it, its prices in `price_shape` (None: the row's own, as recorded): no
    source shows `online` on marketplace rows, so it is left out."""
    row = {name: value for name, value in server.items() if name != "online"}
    if price_shape is not None and isinstance(server.get("price"), dict):
        row["price"] = served_price(server, price_shape, USD_RATES)
    return row


def _make_odd(rng: random.Random, server: dict) -> None:
    """The irregular rows the real API has: a missing field, a nested gpu_array."""
    kind = rng.choice(["nested_gpu_array", "no_rating", "no_net", "no_cuda", "no_reliability"])
    if kind == "nested_gpu_array":
        server["gpu_array"] = [server["gpu_array"]]
    elif kind == "no_rating":
        del server["rating"]
    elif kind == "no_net":
        del server["specs"]["net"]
    elif kind == "no_cuda":
        del server["cuda_version"]
    else:
        del server["reliability"]


def generate_market(size: int, seed: int, price_shape: str = DEFAULT_PRICE_SHAPE) -> list[dict]:
    """`size` servers sorted by id; anchors first in priority, the rest random. The same servers in every price
    shape, except that `none` limits them to the 2024 answer's coins and spot minimums (price_shapes.as_2024)."""
    rng = random.Random(seed)
    plan: list[tuple[str, int, list[str], bool, bool, bool]] = []  # + odd flag
    for model, count, coins, rented, online in ANCHORS[: max(0, size)]:
        plan.append((model, count, coins, rented, online, False))
    models, weights = zip(*WEIGHTS.items())
    while len(plan) < size:
        model = rng.choices(models, weights)[0]
        count = rng.choices([1, 2, 3, 4, 6, 8], [50, 20, 5, 12, 3, 10])[0]
        roll = rng.random()
        # Marketplace rows show no online state, so a client cannot avoid an offline server: only the offline anchor
        # (and servers the admin API takes offline) are offline, so that a test is never handed one unawares.
        plan.append((model, count, rng.choice(COIN_SETS), roll < 0.15, True, rng.random() < 0.05))
    rng.shuffle(plan)
    servers = []
    next_id = FIRST_ID
    for model, count, coins, rented, online, odd in plan:
        next_id += rng.randint(1, 40)
        server = _server(rng, next_id, model, count, coins, rented, online)
        if odd:
            _make_odd(rng, server)
        servers.append(server)
    if price_shape == "none":
        as_2024(servers, seed, USD_RATES, _round)
    return servers


def gpu_of(server: dict) -> tuple[str, int, int]:
    """(model name, count, memory GB per GPU) of a catalog server, for the nvidia-smi stand-in."""
    specs = server.get("specs") or {}
    count_text, _sep, name = str(specs.get("gpu", "1x Unknown GPU")).partition("x ")
    try:
        count = int(count_text)
    except ValueError:
        count, name = 1, str(specs.get("gpu", "Unknown GPU"))
    return name, count, int(specs.get("gpuram") or 0)


HOST_MODELS = ("RTX 3090", "RTX 4090", "RTX 3080")
HOST_COINS = ["CLORE-Blockchain", "bitcoin"]  # the coins of the real my_servers rows


def host_server(rng: random.Random, server_id: int, name: str) -> dict:
    """A server an account hosts itself (my_servers, server_config, set_server_settings), hidden until made
    available, priced in US dollars with autoprice like the real rows (hosts.apply_autoprice fills the coin prices)."""
    model = rng.choice(HOST_MODELS)
    server = _server(rng, server_id, model, 1, ALL_COINS, False, True)
    gpu = GPUS[model]
    # The dollar price of its USD-Blockchain offer (price.usd may lack on_demand_usd, as on real rows).
    usd_day = round(server["price"]["on_demand"]["USD-Blockchain"] * USD_RATES["USD-Blockchain"], 2)
    specs = dict(server["specs"])
    specs["net"] = {**specs["net"], "test_history": [f"S|1746440936|{specs['net']['down']}|{specs['net']['up']}"]}
    specs.update(backend_version=21, xfs=3)
    oc = [{"name": gpu.name, "pci_core": "0:01:00.0", "core": [-1000, 1000], "mem": [-2000, 6000],
           "power_limits": [150, 450], "default_power_limit": 450}]
    return {
        "id": server_id,
        "name": name,
        "public_name": f"{name}-public",
        "connected": True,
        "online": True,
        "working_properly": True,
        "visibility": "hidden",
        "mrl": 240,
        "allowed_coins": list(HOST_COINS),
        "pricing": {},
        "spot_pricing": {},
        "usd_pricing": {"on_demand": usd_day, "spot": round(usd_day * 0.55, 2)},
        "autoprice": "usd",
        "max_fair_price_usd": round(gpu.usd_per_day * 1.25, 2),
        "gpu_array": [model],
        "gpu_count": 1,
        "specs": specs,
        "oc_gpus": json.dumps([oc[0]], separators=(",", ":")),
        "cuda_version": server["cuda_version"],
        "reliability": server["reliability"],
        "rating": server["rating"],
        "is_vpn_enabled": False,
        "mass_price_changeable": True,
        "max_poh_capacity": 60000,
        "enable_btc_and_clore": True,
        "enable_only_clore": True,
        "enable_only_btc": False,
    }
