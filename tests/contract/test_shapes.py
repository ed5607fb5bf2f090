"""Every fixture row through the normalizers and the API check: the documented result for each variant."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.api_check import check_answer
from ansible_collections.clore.ai.plugins.module_utils.market import normalize_server
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.wallets import normalize_wallet

from .conftest import fixture

MARKET = fixture("documented/marketplace.json")
ORDERS = fixture("documented/orders.json")
OTHER = fixture("documented/other_answers.json")
REAL_HOSTED = fixture("real/my_servers.json")

# Per marketplace row: what the collection makes of it (clore-api.md, "Server").
MARKET_EXPECTED = {
    # newest public client's price.usd keys; a disk model holding a size of its own; no `online`
    73340: {"disk_model": "Samsung SSD 990 PRO 4TB", "disk_gb": 3450.9524, "online": None, "usd_per_day": 21.5,
            "spot_usd_per_day": 12.0, "gpu_model": "NVIDIA GeForce RTX 4090", "gpu_count": 5, "country": "BY",
            "mrl_hours": 720.0, "rented": False},
    # vendor SDK's keys (on_demand_usd too); nested gpu_array
    74663: {"disk_model": "TS256GMTE110S", "disk_gb": 193.2346, "online": None, "usd_per_day": 5.0,
            "gpu_model": "NVIDIA CMP 50HX", "gpu_count": 1, "cpu_cores": 18, "cpu_threads": 36},
    # price.usd with `spot` only: the USD-Blockchain price stands for dollars
    75001: {"disk_model": "NVMe", "disk_gb": 2000.0, "usd_per_day": 4.0, "spot_usd_per_day": 2.0, "rented": True,
            "country": None},
    # no price.usd, no mrl, a disk without a size, an unknown specs field
    75002: {"disk_model": "Some drive", "disk_gb": None, "usd_per_day": None, "mrl_hours": None, "online": None},
}


@pytest.mark.parametrize("row", MARKET["servers"], ids=lambda row: str(row["id"]))
def test_every_documented_marketplace_row_normalizes_as_documented(row):
    server = normalize_server(row)
    expected = MARKET_EXPECTED[row["id"]]
    assert {name: server[name] for name in expected} == expected


@pytest.mark.parametrize("row", REAL_HOSTED["servers"], ids=lambda row: f"{row['id']}-{row['name']}")
def test_real_rows_specs_read_as_documented(row):
    """The recorded rows' specs (the marketplace's specs too): disk, GPUs, network."""
    server = normalize_server(row)
    model, free = row["specs"]["disk"].rsplit(" ", 1)
    assert (server["disk_model"], server["disk_gb"]) == (model, float(free.removesuffix("GB")))
    assert server["disk_gb"] < 4000  # never the model's 4TB
    assert server["gpu_count"] == row["gpu_count"]
    assert server["country"] == "BY" and server["online"] is row["online"]


def test_the_documented_marketplace_passes_the_check_and_names_the_new_field():
    report = check_answer("marketplace", MARKET)
    assert report["failures"] == [] and report["wrong_type"] == []
    assert report["unknown"] == ["servers[].specs.new_field"]
    assert {"field": "servers[].online", "rows": 4, "of": 4, "relied": False} in report["missing"]


def test_the_real_my_servers_answer_passes_the_check_with_no_unknown_field():
    answer = {"servers": REAL_HOSTED["servers"], "limit": 100, "code": 0}
    report = check_answer("my_servers", answer)
    assert report["failures"] == [] and report["wrong_type"] == [] and report["unknown"] == []


@pytest.mark.parametrize("name", ["wallets", "spot_marketplace"])
def test_the_other_documented_answers_pass_the_check(name):
    report = check_answer(name, OTHER[name])
    assert report["failures"] == [] and report["wrong_type"] == [] and report["unknown"] == []


def test_the_documented_orders_pass_the_check():
    report = check_answer("my_orders", ORDERS)
    assert report["failures"] == [] and report["wrong_type"] == []
    assert report["unknown"] == []


ORDER_EXPECTED = {
    # pub_cluster and tcp_ports as lists (the API)
    41001: {"ssh_host": "n1.c1.clorecloud.net", "ssh_port": 10000, "mrl": 259200.0, "http_url":
            "https://abc.clorecloud.net", "status": "running", "gpu_model": "NVIDIA GeForce RTX 4090"},
    # pub_cluster a string, tcp_ports a dict (one SDK's types); an mrl that reads as hours, returned raw
    41002: {"ssh_host": "n3.c1.clorecloud.net", "ssh_port": 10002, "mrl": 72.0, "spot": True, "http_url": None},
    # not provisioned yet; no mrl
    41003: {"ssh_host": None, "ssh_port": None, "mrl": None, "time_left_seconds": None, "status": "deploying",
            "online": False},
}


@pytest.mark.parametrize("raw", ORDERS["orders"], ids=lambda raw: str(raw["id"]))
def test_every_documented_order_normalizes_as_documented(raw):
    order = normalize_order(raw, now=1750000300)
    expected = ORDER_EXPECTED[raw["id"]]
    assert {name: order[name] for name in expected} == expected


def test_documented_wallets_normalize():
    wallets = [normalize_wallet(w) for w in OTHER["wallets"]["wallets"]]
    assert [(w["currency"], w["balance"]) for w in wallets] == [("bitcoin", 0.0012), ("CLORE-Blockchain", 1500.0)]
