"""normalize_server, gpu_from_specs and price_per_day: well-formed rows, odd rows, nested gpu_array, missing prices."""
from __future__ import annotations

import copy
import math

import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import (  # noqa: E402
    CURRENCY_PREFERENCE,
    canonical_currency,
    normalize_server,
    price_per_day,
    price_server,
)
from ansible_collections.clore.ai.plugins.module_utils.gpu_specs import gpu_from_specs
from ansible_collections.clore.ai.plugins.module_utils.pricing import RateBook, market_rates


def raw_server(**overrides) -> dict:
    """A complete marketplace row: two RTX 3090 in Germany, three coins, on-demand and spot prices."""
    server = {
        "id": 101,
        "owner": 7,
        "mrl": 96,
        "rented": False,
        "online": True,
        "reliability": 0.987,
        "rating": {"avg": 4.5, "cnt": 12},
        "allowed_coins": ["CLORE-Blockchain", "USD-Blockchain", "bitcoin"],
        "gpu_array": ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3090"],
        "cuda_version": "12.4",
        "price": {
            "on_demand": {"CLORE-Blockchain": 240.0, "USD-Blockchain": 12.0, "bitcoin": 0.00012},
            "spot": {"CLORE-Blockchain": 120.0, "USD-Blockchain": 6.0, "bitcoin": 0.00006},
            "usd": {"on_demand_usd": 12.0, "on_demand_clore": 9.6, "on_demand_btc": 11.0, "spot": 4.8},
        },
        "specs": {
            "gpu": "2x NVIDIA GeForce RTX 3090",
            "gpuram": 24,
            "ram": 64.3,
            "cpu": "AMD Ryzen 9 5950X 16-Core Processor",
            "cpus": "16/32",
            "disk": "NVMe 1TB",
            "disk_speed": 3500,
            "net": {"cc": "de", "up": 500, "down": 900},
        },
    }
    server.update(overrides)
    return server


def test_complete_row_is_flattened():
    server = normalize_server(raw_server())
    assert server["id"] == 101
    assert server["owner"] == 7
    assert (server["gpu_model"], server["gpu_count"]) == ("NVIDIA GeForce RTX 3090", 2)
    assert server["gpu_ram_gb"] == 24.0
    assert server["ram_gb"] == 64.3
    assert server["cpu"] == "AMD Ryzen 9 5950X 16-Core Processor"
    assert (server["cpu_cores"], server["cpu_threads"]) == (16, 32)
    assert server["disk"] == "NVMe 1TB"
    assert server["disk_gb"] == 1000.0
    assert server["disk_speed"] == 3500.0
    assert (server["net_up"], server["net_down"]) == (500.0, 900.0)
    assert server["country"] == "DE"
    assert server["cuda_version"] == "12.4"
    assert server["reliability"] == 0.987
    assert (server["rating"], server["rating_count"]) == (4.5, 12)
    assert server["allowed_currencies"] == ["CLORE-Blockchain", "USD-Blockchain", "bitcoin"]
    assert server["rented"] is False
    assert server["online"] is True
    assert server["mrl_hours"] == 96.0
    assert server["prices"]["on-demand"] == {"CLORE-Blockchain": 240.0, "USD-Blockchain": 12.0, "bitcoin": 0.00012}
    assert server["prices"]["spot"]["CLORE-Blockchain"] == 120.0


def test_usd_figures_are_per_day_and_derived_per_hour_and_gpu_hour():
    server = normalize_server(raw_server())
    # The cheapest dollar equivalent over the accepted coins (CLORE here), per day as the API gives it.
    assert server["usd_per_day"] == 9.6
    assert server["usd_per_hour"] == pytest.approx(9.6 / 24, abs=1e-6)
    assert server["usd_per_gpu_hour"] == pytest.approx(9.6 / 24 / 2, abs=1e-6)
    # The row's one `spot` dollar figure prices the spot minimum in each coin but USD-Blockchain (1 USD).
    assert (server["spot_usd_per_day"], server["spot_usd_source"]) == (4.8, "price.usd")
    assert server["spot_cheapest_currency"] == "CLORE-Blockchain"
    assert server["spot_usd_per_day_by_currency"] == {"CLORE-Blockchain": 4.8, "USD-Blockchain": 6.0, "bitcoin": 4.8}
    assert server["spot_usd_per_hour"] == pytest.approx(0.2, abs=1e-6)
    assert server["spot_usd_per_gpu_hour"] == pytest.approx(0.1, abs=1e-6)


def test_usd_equivalent_ignores_coins_the_host_does_not_accept():
    server = normalize_server(raw_server(allowed_coins=["USD-Blockchain", "bitcoin"]))
    assert server["usd_per_day"] == 11.0


def test_usd_price_falls_back_to_the_usd_coin_without_price_usd():
    row = raw_server()
    del row["price"]["usd"]
    server = normalize_server(row)
    assert server["usd_per_day"] == 12.0
    assert server["spot_usd_per_day"] == 6.0


def test_missing_prices_give_none_not_errors():
    server = normalize_server(raw_server(price=None))
    assert server["prices"] == {"on-demand": {}, "spot": {}}
    for field in ("usd_per_day", "usd_per_hour", "usd_per_gpu_hour", "spot_usd_per_day", "spot_usd_per_gpu_hour"):
        assert server[field] is None


def test_non_numeric_and_negative_prices_are_dropped():
    row = raw_server()
    row["price"]["on_demand"] = {"CLORE-Blockchain": "n/a", "USD-Blockchain": "7.5", "bitcoin": -1}
    row["price"]["usd"] = {"on_demand_usd": None, "spot": "x"}
    server = normalize_server(row)
    assert server["prices"]["on-demand"] == {"USD-Blockchain": 7.5}
    assert server["usd_per_day"] == 7.5
    assert server["spot_usd_per_day"] == 6.0


@pytest.mark.parametrize("bad_id", [None, "", "abc", True, -3, 1.5, [1], {"id": 1}])
def test_row_without_a_usable_id_is_none(bad_id):
    assert normalize_server(raw_server(id=bad_id)) is None


def test_row_that_is_not_a_dict_is_none():
    assert normalize_server(["id", 1]) is None
    assert normalize_server(None) is None


def test_numeric_string_id_is_accepted():
    assert normalize_server(raw_server(id="202"))["id"] == 202


def test_minimal_row_has_every_field():
    full = normalize_server(raw_server())
    bare = normalize_server({"id": 1})
    assert set(bare) == set(full)
    assert bare["gpu_model"] is None and bare["gpu_count"] is None
    assert bare["allowed_currencies"] == []
    assert bare["rented"] is None and bare["online"] is None


def test_odd_field_types_do_not_raise():
    row = raw_server(
        specs="not a dict", rating=3.9, reliability="97", allowed_coins="CLORE-Blockchain", rented="false", mrl="x"
    )
    server = normalize_server(row)
    assert server["gpu_model"] == "NVIDIA GeForce RTX 3090" and server["gpu_count"] == 2  # from gpu_array
    assert server["gpu_ram_gb"] is None and server["country"] is None
    assert (server["rating"], server["rating_count"]) == (3.9, None)
    assert server["reliability"] == pytest.approx(0.97)  # a percentage read as 0..1
    assert server["allowed_currencies"] == ["CLORE-Blockchain"]
    assert server["rented"] is False
    assert server["mrl_hours"] is None


HUGE = [float("inf"), float("nan"), 10**400, "9" * 400, "9" * 5000]


@pytest.mark.parametrize("value", HUGE, ids=lambda v: repr(v)[:12])
@pytest.mark.parametrize(
    "field", ["gpuram", "ram", "cpus", "disk", "rating", "reliability", "mrl", "price", "usd", "gpu", "cnt"]
)
def test_non_finite_and_huge_numbers_become_none_and_never_raise(field, value):
    row = raw_server()
    place = {"gpuram": row["specs"], "ram": row["specs"], "cpus": row["specs"], "disk": row["specs"], "rating": row,
             "reliability": row, "mrl": row, "price": row["price"]["on_demand"], "usd": row["price"]["usd"],
             "gpu": row["specs"], "cnt": row["rating"]}[field]
    key = {"price": "USD-Blockchain", "usd": "on_demand_usd"}.get(field, field)
    place[key] = f"{value}x RTX 4090" if field == "gpu" and isinstance(value, str) else value
    server = normalize_server(row)
    assert server is not None and server["id"] == 101
    numbers = [v for v in server.values() if isinstance(v, float)]
    numbers += [v for prices in server["prices"].values() for v in prices.values()]
    assert all(math.isfinite(v) for v in numbers), server


def test_numbers_written_with_units_are_read():
    row = raw_server()
    row["specs"].update({"gpuram": "24 GB", "ram": "128", "disk": "SSD 512GB", "cpus": "8"})
    server = normalize_server(row)
    assert (server["gpu_ram_gb"], server["ram_gb"], server["disk_gb"]) == (24.0, 128.0, 512.0)
    assert (server["cpu_cores"], server["cpu_threads"]) == (8, None)


def test_allowed_currencies_fall_back_to_priced_coins():
    row = raw_server()
    del row["allowed_coins"]
    assert sorted(normalize_server(row)["allowed_currencies"]) == ["CLORE-Blockchain", "USD-Blockchain", "bitcoin"]


def test_normalize_does_not_modify_the_raw_row():
    row = raw_server()
    before = copy.deepcopy(row)
    normalize_server(row)
    assert row == before


@pytest.mark.parametrize(
    ("specs", "gpu_array", "expected"),
    [
        ({"gpu": "1x NVIDIA GeForce RTX 4090"}, None, ("NVIDIA GeForce RTX 4090", 1)),
        ({"gpu": "8x A100 80GB"}, ["A100"], ("A100 80GB", 8)),
        ({"gpu": " 4 x RTX 3080 "}, None, ("RTX 3080", 4)),
        ({"gpu": "RTX 3060"}, ["RTX 3060", "RTX 3060"], ("RTX 3060", 2)),
        ({"gpu": "RTX 3060"}, None, ("RTX 3060", 1)),
        ({}, [["GTX 745"]], ("GTX 745", 1)),
        (None, [["GTX 1080"], ["GTX 1080"]], ("GTX 1080", 2)),
        ({"gpu": ""}, ["RTX 3090", "RTX 3080"], ("RTX 3090, RTX 3080", 2)),
        ({"gpu": None}, "RTX 2080", ("RTX 2080", 1)),
        ({"gpu": 5}, [], (None, None)),
        (None, None, (None, None)),
        ({}, [[], [None, 3]], (None, None)),
    ],
)
def test_gpu_from_specs(specs, gpu_array, expected):
    assert gpu_from_specs(specs, gpu_array) == expected


def test_price_per_day_in_usd_and_in_each_coin():
    server = price_server(normalize_server(raw_server()), RateBook(market_rates([raw_server()])))
    assert price_per_day(server, "on-demand", "USD") == 9.6
    assert price_per_day(server, "spot", "USD") == 4.8
    assert price_per_day(server, "on-demand", "CLORE-Blockchain") == 240.0
    assert price_per_day(server, "on-demand", "clore") == 240.0
    assert price_per_day(server, "spot", "BTC") == 0.00006
    assert price_per_day(server, "on-demand", "USD-Blockchain") == 12.0


def test_price_per_day_is_none_when_missing():
    row = raw_server()
    row["price"]["spot"] = {}
    row["price"]["usd"].pop("spot")
    server = normalize_server(row)
    assert price_per_day(server, "spot", "bitcoin") is None
    assert price_per_day(server, "spot", "USD") is None
    assert price_per_day(normalize_server({"id": 3}), "on-demand", "USD") is None


def test_currency_names():
    assert canonical_currency("btc") == "bitcoin"
    assert canonical_currency("CLORE") == "CLORE-Blockchain"
    assert canonical_currency("usd-blockchain") == "USD-Blockchain"
    assert canonical_currency("USD") is None
    assert canonical_currency("usd", allow_usd=True) == "USD"
    assert canonical_currency("dogecoin") is None
    assert CURRENCY_PREFERENCE[0] == "USD-Blockchain"
    assert set(CURRENCY_PREFERENCE) == {"USD-Blockchain", "CLORE-Blockchain", "bitcoin"}


@pytest.mark.parametrize("disk, model, free_gb", [
    ("Samsung SSD 990 PRO 4TB 3450.9524GB", "Samsung SSD 990 PRO 4TB", 3450.9524),  # a real row
    ("TS256GMTE110S 193.2346GB", "TS256GMTE110S", 193.2346),  # a real row
    ("Samsung SSD 970 EVO Plus 500GB 411.5GB", "Samsung SSD 970 EVO Plus 500GB", 411.5),
    ("NVMe 2TB", "NVMe", 2000.0),
    ("1024GB", None, 1024.0),
    ("Some drive", "Some drive", None),
])
def test_disk_gb_is_the_free_space_at_the_end_and_the_model_comes_apart(disk, model, free_gb):
    row = raw_server()
    row["specs"]["disk"] = disk
    server = normalize_server(row)
    assert (server["disk_model"], server["disk_gb"]) == (model, free_gb)


def test_a_row_without_online_is_unknown_not_offline():
    row = raw_server()
    del row["online"]
    server = normalize_server(row)
    assert server["online"] is None
