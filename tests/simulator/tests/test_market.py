"""The generated market: deterministic, realistic, with the anchor servers tests rely on, and odd rows."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from clore_sim.market import ANCHORS, generate_market, public_row
from clore_sim.testing import SimServer

from .helpers import Client

COINS = {"bitcoin", "CLORE-Blockchain", "USD-Blockchain"}


def test_same_seed_same_market_other_seed_other_market() -> None:
    assert generate_market(60, 7) == generate_market(60, 7)
    assert generate_market(60, 7) != generate_market(60, 8)
    assert len(generate_market(123, 1)) == 123


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_anchor_servers_exist_for_any_seed(seed: int) -> None:
    servers = generate_market(40, seed)
    free = [s for s in servers if not s["rented"] and s["online"]]
    free_4090 = [s for s in free if "RTX 4090" in s["specs"]["gpu"]]
    assert len(free_4090) >= 4
    for coin in COINS:
        assert len([s for s in free_4090 if coin in s["allowed_coins"]]) >= 2
        others = {s["specs"]["gpu"].split("x ", 1)[1] for s in free if coin in s["allowed_coins"]
                  and "4090" not in s["specs"]["gpu"]}
        assert len(others) >= 6, (coin, others)
    assert sum(1 for s in servers if s["rented"]) >= 1
    assert sum(1 for s in servers if not s["online"]) >= 1
    assert len(ANCHORS) <= 40


def test_rows_look_like_clore() -> None:
    servers = generate_market(2000, 7)
    ids = [s["id"] for s in servers]
    assert len(set(ids)) == len(ids)
    models = Counter(s["specs"]["gpu"].split("x ", 1)[1] for s in servers)
    for name in ("GTX 1080 Ti", "RTX 4090", "RTX 5090", "A100", "H100"):
        assert any(name in model for model in models), name
    counts = {int(s["specs"]["gpu"].split("x ", 1)[0]) for s in servers}
    assert counts >= {1, 2, 4, 8} and max(counts) <= 8
    for server in servers:
        price = public_row(server)["price"]
        assert set(price["on_demand"]) == set(server["allowed_coins"]) <= COINS
        assert all(price["spot"][c] < price["on_demand"][c] for c in server["allowed_coins"])
        assert price["usd"]["spot"] > 0
        assert set(price["usd"]) - {"spot"} <= {"on_demand_usd", "on_demand_clore", "on_demand_btc"}
        assert 1 <= len(server["gpu_array"]) <= 8
    nested = [s for s in servers if isinstance(s["gpu_array"][0], list)]
    missing = [s for s in servers if "rating" not in s or "reliability" not in s or "cuda_version" not in s
               or "net" not in s["specs"]]
    assert nested and missing
    assert 0.05 < sum(s["rented"] for s in servers) / len(servers) < 0.3


def test_marketplace_endpoint(sim: SimServer, client: Client) -> None:
    answer = client.get("marketplace").json()
    assert answer["code"] == 0
    assert len(answer["servers"]) == 40
    assert answer["servers"] == [public_row(s) for s in generate_market(40, 7)]
    assert answer["my_servers"] == []


def test_marketplace_rows_have_the_real_shapes(client: Client) -> None:
    """As the recorded rows: no `online`, disk "<model> <free>GB" whose model may hold a size of its own, and the
    extra specs fields (prices: test_price_shapes.py)."""
    servers = client.get("marketplace").json()["servers"]
    assert all("online" not in s for s in servers)
    disks = [s["specs"]["disk"] for s in servers]
    assert all(re.fullmatch(r".+ \d+(\.\d+)?GB", d) for d in disks), disks
    assert any(re.search(r"\d+[TG]B .*GB$", d) for d in disks), disks
    for server in servers:
        specs = server["specs"]
        assert {"backend_version", "pcie_rev", "pcie_width", "xfs"} <= set(specs)
        assert "net" not in specs or all(t.startswith("S|") for t in specs["net"]["test_history"])


def test_market_size_and_seed_flags(tmp_path) -> None:
    with SimServer(tmp_path / "s", servers=300, seed=3) as sim:
        import requests
        servers = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30).json()["servers"]
    assert servers == [public_row(s) for s in generate_market(300, 3)]


def test_rented_flag_follows_orders(client: Client) -> None:
    server = client.free_server()
    order = client.rent(server)
    assert next(s for s in client.servers() if s["id"] == server["id"])["rented"] is True
    assert client.post("cancel_order", {"id": order["id"]}).json() == {"code": 0}
    assert next(s for s in client.servers() if s["id"] == server["id"])["rented"] is False
