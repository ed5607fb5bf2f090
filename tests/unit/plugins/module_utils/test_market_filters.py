"""Every market filter, its validation, first_failing_filter and select_servers (excluded counts, sort, limit)."""
from __future__ import annotations


import pytest

from ansible_collections.clore.ai.plugins.module_utils.market import (  # noqa: E402
    FILTER_ORDER,
    INVALID_ROW,
    MARKET_FILTER_SPEC,
    SPEC_FILTERS,
    MarketFilterError,
    first_failing_filter,
    normalize_server,
    select_servers,
    validate_filters,
)


def row(server_id: int, gpu: str = "1x NVIDIA GeForce RTX 4090", usd: float | None = 10.0, **extra) -> dict:
    """A marketplace row; `usd` is the on-demand price per day (USD-Blockchain and its dollar equivalent)."""
    specs = {"gpu": gpu, "gpuram": 24, "ram": 64, "net": {"cc": "DE"}}
    specs.update(extra.pop("specs", {}))
    price = {"on_demand": {}, "spot": {}, "usd": {}}
    if usd is not None:
        price = {
            "on_demand": {"USD-Blockchain": usd, "CLORE-Blockchain": usd * 20},
            "spot": {"USD-Blockchain": usd / 2, "CLORE-Blockchain": usd * 10},
            "usd": {"on_demand_usd": usd, "on_demand_clore": usd, "spot": usd / 2},
        }
    raw = {
        "id": server_id,
        "rented": False,
        "online": True,
        "reliability": 0.99,
        "cuda_version": "12.4",
        "allowed_coins": ["USD-Blockchain", "CLORE-Blockchain"],
        "specs": specs,
        "price": price,
    }
    raw.update(extra)
    return raw


def server(server_id: int = 1, **kw) -> dict:
    return normalize_server(row(server_id, **kw))


def passes(filters: dict, **kw) -> bool:
    return first_failing_filter(server(**kw), filters) is None


# --- the argument spec ---


def test_filter_spec_has_every_contract_filter_and_available_only_defaults_on():
    assert set(MARKET_FILTER_SPEC) == set(FILTER_ORDER)
    assert MARKET_FILTER_SPEC["available_only"] == {"type": "bool", "default": True}
    assert set(MARKET_FILTER_SPEC["max_price"]["options"]) == {"amount", "currency", "type", "per"}
    assert SPEC_FILTERS <= set(FILTER_ORDER)
    assert not {"available_only", "max_price", "server_ids", "currency", "reliability_min"} & SPEC_FILTERS


# --- each filter ---


def test_gpu_substring_is_case_insensitive_and_any_of():
    assert passes({"gpu": ["rtx 4090"]})
    assert passes({"gpu": ["A100", "4090"]})
    assert not passes({"gpu": ["A100", "3090"]})


def test_gpu_regex():
    assert passes({"gpu": [r"RTX\s+40[0-9]0"]})
    assert not passes({"gpu": [r"^RTX"]})  # the model starts with NVIDIA
    assert passes({"gpu": [r"^nvidia.*4090$"]})


def test_gpu_from_nested_gpu_array_is_matched():
    assert passes({"gpu": ["GTX 745"]}, gpu=None, gpu_array=[["GTX 745"]])


def test_gpu_unknown_model_fails():
    assert first_failing_filter(server(gpu=None), {"gpu": ["4090"]}) == "gpu"


def test_gpu_bad_regex_is_refused_naming_the_field():
    with pytest.raises(MarketFilterError, match=r"^gpu: 'RTX \(' is not a valid regular expression"):
        validate_filters({"gpu": ["RTX ("]})


def test_gpu_count_range():
    four = {"gpu": "4x RTX 3090"}
    assert passes({"gpu_count_min": 4, "gpu_count_max": 4}, **four)
    assert first_failing_filter(server(**four), {"gpu_count_min": 5}) == "gpu_count_min"
    assert first_failing_filter(server(**four), {"gpu_count_max": 2}) == "gpu_count_max"
    assert first_failing_filter(server(gpu=None), {"gpu_count_max": 8}) == "gpu_count_max"


def test_gpu_count_min_above_max_is_refused():
    with pytest.raises(MarketFilterError, match="gpu_count_min .* greater than gpu_count_max"):
        validate_filters({"gpu_count_min": 4, "gpu_count_max": 2})


def test_gpu_ram_and_ram_minimum():
    assert passes({"gpu_ram_min": 24, "ram_min": 64})
    assert first_failing_filter(server(), {"gpu_ram_min": 24.5}) == "gpu_ram_min"
    assert first_failing_filter(server(), {"ram_min": 128}) == "ram_min"
    assert first_failing_filter(server(specs={"gpuram": None}), {"gpu_ram_min": 1}) == "gpu_ram_min"


def test_negative_minimum_is_refused():
    with pytest.raises(MarketFilterError, match="^ram_min: -1 must not be negative"):
        validate_filters({"ram_min": -1})


@pytest.mark.parametrize("name", ["gpu_ram_min", "ram_min", "reliability_min", "gpu_count_min", "gpu_count_max"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numeric_filters_are_refused_naming_the_filter(name, value):
    with pytest.raises(MarketFilterError, match=f"^{name}: {value!r} is not a finite number") as caught:
        validate_filters({name: value})
    assert caught.value.option == name


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_max_price_is_refused(value):
    with pytest.raises(MarketFilterError, match=f"^max_price.amount: {value!r} is not a finite number") as caught:
        validate_filters({"max_price": {"amount": value}})
    assert caught.value.option == "max_price"


@pytest.mark.parametrize(
    ("cuda", "minimum", "ok"),
    [("12.10", "12.4", True), ("12.4", "12.10", False), ("12.4", "12.4", True), ("11.8", "12", False),
     ("12", "11.8", True), (None, "11", False), ("unknown", "11", False), ("12.2.1", "12.2", True)],
)
def test_cuda_min_compares_versions(cuda, minimum, ok):
    assert passes({"cuda_min": minimum}, cuda_version=cuda) is ok


def test_cuda_min_not_a_version_is_refused():
    with pytest.raises(MarketFilterError, match="^cuda_min: 'latest' is not a version"):
        validate_filters({"cuda_min": "latest"})


def test_countries_include_and_exclude_case_insensitive():
    assert passes({"countries": ["de", "FR"]})
    assert first_failing_filter(server(), {"countries": ["US"]}) == "countries"
    assert first_failing_filter(server(), {"exclude_countries": ["de"]}) == "exclude_countries"
    assert passes({"exclude_countries": ["US"]})
    unknown = {"specs": {"net": {}}}
    assert first_failing_filter(server(**unknown), {"countries": ["DE"]}) == "countries"
    assert passes({"exclude_countries": ["DE"]}, **unknown)


def test_reliability_min():
    assert passes({"reliability_min": 0.99})
    assert first_failing_filter(server(reliability=0.5), {"reliability_min": 0.9}) == "reliability_min"
    assert first_failing_filter(server(reliability=None), {"reliability_min": 0.1}) == "reliability_min"
    with pytest.raises(MarketFilterError, match="reliability_min: 1.5 is outside 0..1"):
        validate_filters({"reliability_min": 1.5})


def test_currency_accepted_with_aliases():
    assert passes({"currency": "CLORE"})
    assert passes({"currency": "USD"})
    assert first_failing_filter(server(), {"currency": "bitcoin"}) == "currency"
    with pytest.raises(MarketFilterError, match="^currency: 'DOGE' is not a currency"):
        validate_filters({"currency": "DOGE"})


def test_available_only_is_on_by_default():
    assert first_failing_filter(server(rented=True), {}) == "available_only"
    assert first_failing_filter(server(online=False), {"available_only": True}) == "available_only"
    assert passes({"available_only": False}, rented=True)
    # An unknown state is not held against a server.
    raw = row(1)
    del raw["rented"], raw["online"]
    assert first_failing_filter(normalize_server(raw), {}) is None


def test_server_ids():
    assert passes({"server_ids": [1, 2]})
    assert first_failing_filter(server(3), {"server_ids": [1, 2]}) == "server_ids"
    with pytest.raises(MarketFilterError, match="^server_ids"):
        validate_filters({"server_ids": ["one"]})


@pytest.mark.parametrize(
    ("max_price", "ok"),
    [
        ({"amount": 10}, True),  # USD on-demand per day by default
        ({"amount": 9.99}, False),
        ({"amount": 10 / 24, "per": "hour"}, True),
        ({"amount": 0.41, "per": "hour"}, False),
        ({"amount": 5, "type": "spot"}, True),
        ({"amount": 4.9, "type": "spot"}, False),
        ({"amount": 200, "currency": "CLORE-Blockchain"}, True),
        ({"amount": 199, "currency": "clore"}, False),
        ({"amount": 100, "currency": "CLORE", "type": "spot"}, True),
        ({"amount": 1, "currency": "bitcoin"}, False),  # no bitcoin price at all
        ({"amount": 10.0, "currency": "USD-Blockchain", "type": "on-demand", "per": "day"}, True),
    ],
)
def test_max_price(max_price, ok):
    assert passes({"max_price": max_price}) is ok


def test_max_price_per_gpu_hour_divides_by_gpu_count():
    four = {"gpu": "4x RTX 3090", "usd": 48.0}  # 0.5 USD per GPU-hour
    assert passes({"max_price": {"amount": 0.5, "per": "gpu_hour"}}, **four)
    assert not passes({"max_price": {"amount": 0.49, "per": "gpu_hour"}}, **four)
    assert not passes({"max_price": {"amount": 100, "per": "gpu_hour"}}, gpu=None)


def test_max_price_without_a_price_fails():
    assert first_failing_filter(server(usd=None), {"max_price": {"amount": 1000}}) == "max_price"


@pytest.mark.parametrize(
    ("max_price", "message"),
    [
        ({"amount": -1}, "^max_price.amount: -1 must not be negative"),
        ({"amount": "cheap"}, "^max_price.amount: 'cheap' is not a number"),
        ({"amount": 1, "currency": "EUR"}, "^max_price.currency: 'EUR' is not USD or a coin"),
        ({"amount": 1, "type": "reserved"}, "^max_price.type: 'reserved'"),
        ({"amount": 1, "per": "week"}, "^max_price.per: 'week'"),
        ({"amount": 1, "cap": 2}, "^max_price: unknown keys cap"),
        (5, "^max_price: expected a dict"),
    ],
)
def test_max_price_validation(max_price, message):
    with pytest.raises(MarketFilterError, match=message):
        validate_filters({"max_price": max_price})


def test_unset_filters_are_inactive():
    assert passes({"gpu": None, "gpu_count_min": None, "countries": [], "max_price": None, "server_ids": None})


# --- order of filters, only= ---


def test_first_failing_filter_follows_the_fixed_order():
    odd = server(5, gpu="1x GTX 745", rented=True, reliability=0.1, usd=99)
    filters = {"gpu": ["4090"], "reliability_min": 0.9, "max_price": {"amount": 1}, "server_ids": [5]}
    assert first_failing_filter(odd, filters) == "available_only"
    assert first_failing_filter(odd, {**filters, "available_only": False}) == "gpu"
    assert first_failing_filter(odd, {**filters, "available_only": False, "gpu": None}) == "reliability_min"
    assert first_failing_filter(odd, {**filters, "server_ids": [6]}) == "server_ids"


def test_only_restricts_to_spec_filters():
    odd = server(5, gpu="1x GTX 745", rented=True, usd=99)
    filters = {"gpu": ["745"], "max_price": {"amount": 1}, "server_ids": [1]}
    assert first_failing_filter(odd, filters, only=SPEC_FILTERS) is None
    assert first_failing_filter(odd, {**filters, "gpu": ["4090"]}, only=SPEC_FILTERS) == "gpu"
    # Validation follows `only`, too: a bad price filter does not matter to a specs check.
    assert first_failing_filter(odd, {"max_price": {"amount": -1}}, only=SPEC_FILTERS) is None


# --- select_servers ---


def market() -> list:
    return [
        row(1, usd=30.0),
        row(2, gpu="2x NVIDIA GeForce RTX 4090", usd=40.0),  # 20 USD per GPU-day
        row(3, usd=None),
        row(4, usd=10.0, rented=True),
        row(5, gpu="1x NVIDIA A100", usd=20.0, reliability=0.8),
        row(6, gpu="1x NVIDIA GeForce RTX 3090", usd=5.0, specs={"net": {"cc": "US"}}),
        {"id": None, "specs": {}},
        "not a row",
        row(7, usd=25.0, cuda_version="11.8"),
    ]


def ids(servers: list[dict]) -> list[int]:
    return [s["id"] for s in servers]


def test_select_default_is_available_servers_cheapest_first_unpriced_last():
    servers, excluded = select_servers(market(), {})
    assert ids(servers) == [6, 5, 7, 1, 2, 3]
    assert excluded == {"available_only": 1, INVALID_ROW: 2}


def test_select_descending_still_puts_unpriced_last():
    servers = select_servers(market(), {}, descending=True)[0]
    assert ids(servers) == [2, 1, 7, 5, 6, 3]


def test_select_counts_each_server_under_its_first_failing_filter():
    filters = {"gpu": ["4090"], "cuda_min": "12.0", "countries": ["DE"], "max_price": {"amount": 35}}
    servers, excluded = select_servers(market(), filters)
    assert ids(servers) == [1]
    assert excluded == {
        "available_only": 1,  # 4
        "gpu": 2,  # 5 (A100) and 6 (3090)
        "cuda_min": 1,  # 7
        "countries": 0,
        "max_price": 2,  # 2 (40) and 3 (no price)
        INVALID_ROW: 2,
    }
    total = len(market())
    assert total == len(servers) + sum(excluded.values())


@pytest.mark.parametrize(
    ("sort_by", "descending", "expected"),
    [
        ("price_per_gpu", False, [6, 2, 5, 7, 1, 3]),  # 2 costs 40 for two GPUs: 20 per GPU
        ("reliability", False, [5, 1, 2, 3, 6, 7]),
        ("reliability", True, [1, 2, 3, 6, 7, 5]),  # ties stay in id order
        ("gpu_count", True, [2, 1, 3, 5, 6, 7]),
        ("cuda_version", False, [7, 1, 2, 3, 5, 6]),
        ("spot_price", False, [6, 5, 7, 1, 2, 3]),
        ("gpu_model", False, [5, 6, 1, 2, 3, 7]),  # A100 < RTX 3090 < RTX 4090
    ],
)
def test_select_sort_keys(sort_by, descending, expected):
    servers = select_servers(market(), {}, sort_by=sort_by, descending=descending)[0]
    assert ids(servers) == expected


def test_select_limit_applies_after_sort():
    servers, excluded = select_servers(market(), {}, limit=2)
    assert ids(servers) == [6, 5]
    assert excluded["available_only"] == 1


def test_select_refuses_unknown_sort_and_bad_limit():
    with pytest.raises(MarketFilterError, match="^sort_by: 'cheapness' is not a sort key"):
        select_servers(market(), {}, sort_by="cheapness")
    with pytest.raises(MarketFilterError, match="^limit"):
        select_servers(market(), {}, limit=-1)


def test_select_tolerates_no_listing():
    assert select_servers(None, {}) == ([], {"available_only": 0})


def test_filter_errors_are_config_errors_naming_the_option():
    from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

    with pytest.raises(CloreConfigError) as caught:
        validate_filters({"max_price": {"amount": 1, "per": "week"}})
    assert caught.value.to_result() == {"option": "max_price"}
    with pytest.raises(MarketFilterError) as caught:
        validate_filters({"gpu_count_min": 3, "gpu_count_max": 1})
    assert caught.value.option == "gpu_count_min"


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"available_only": False},
        {"gpu": ["4090"], "max_price": {"amount": 35}},
        {"server_ids": [1, 4, 5], "gpu_count_min": 2},
        {"gpu_count_max": 1, "cuda_min": "12.0", "countries": ["DE"]},
        {"available_only": False, "reliability_min": 0.9, "gpu": ["A100", "3090"]},
    ],
)
def test_select_counts_like_first_failing_filter_on_each_server(filters):
    """select_servers skips normalising servers that fail the leading filters; its counts must not change by it."""
    rows = market()
    expected_excluded: dict[str, int] = {}
    expected_ids = []
    for raw in rows:
        normalised = normalize_server(raw) if isinstance(raw, dict) else None
        if normalised is None:
            expected_excluded[INVALID_ROW] = expected_excluded.get(INVALID_ROW, 0) + 1
            continue
        failed = first_failing_filter(normalised, filters)
        if failed is None:
            expected_ids.append(normalised["id"])
        else:
            expected_excluded[failed] = expected_excluded.get(failed, 0) + 1
    servers, excluded = select_servers(rows, filters)
    assert sorted(ids(servers)) == sorted(expected_ids)
    assert {k: v for k, v in excluded.items() if v} == expected_excluded
    assert servers == [normalize_server(next(r for r in rows if isinstance(r, dict) and r["id"] == s["id"]))
                       for s in servers]
