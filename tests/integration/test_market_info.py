"""clore_market_info against clore-sim, checked against the raw marketplace JSON: module runs (tests/integration/
module_run.py), with check mode and the market_search playbook in real ansible-playbook runs.

Expectations are computed here from the simulator's own answer and its own USD rates with plain code (usd_oracle),
independently of module_utils, so that they hold under every --price-shape. The tests whose answers depend on how
rows carry prices run under each shape (@pytest.mark.price_shapes); input checks and check mode run once.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from .conftest import PLAYBOOKS
from .module_run import TaskRuns, run_tasks
from .playbook import run_playbook
from .usd_oracle import USD_TOLERANCE, in_order, rate_lookups, sim_rates, usd_per_day


LOCALHOST_VARS = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def playbook(tmp_path: Path, searches: dict[str, dict]) -> Path:
    """One task per search, {task name: module arguments}, written as JSON (which is YAML) so arguments arrive as is."""
    tasks = [{"name": name, "clore.ai.clore_market_info": args} for name, args in searches.items()]
    play_ = [{"name": "Market searches", "hosts": "localhost", "gather_facts": False, "vars": LOCALHOST_VARS,
              "tasks": tasks}]
    path = tmp_path / "market.yml"
    path.write_text(json.dumps(play_, indent=2))
    return path


def searched(ansible_env: dict[str, str], tmp_path: Path, searches: dict[str, dict]) -> TaskRuns:
    """One clore_market_info run per search, {task name: module arguments}, in order."""
    return run_tasks("clore_market_info", searches, ansible_env, tmp=tmp_path / "module-tmp")


def raw_market(sim: SimServer) -> list[dict]:
    """The simulator's marketplace, read without the collection."""
    answer = requests.get(f"{sim.api_url}/marketplace", headers={"auth": sim.api_key}, timeout=30)
    answer.raise_for_status()
    return answer.json()["servers"]


# --- plain, independent readings of a raw row ---


def available(row: dict) -> bool:
    return row.get("rented") is not True and row.get("online") is not False


def gpu(row: dict) -> tuple[str, int]:
    count, _x, model = row["specs"]["gpu"].partition("x ")
    return model, int(count)


def coin_prices(prices: dict) -> dict:
    """A price map without the dollar figure some shapes put in it (`usd`: no coin)."""
    return {coin: value for coin, value in prices.items() if coin != "usd"}


def country(row: dict) -> str | None:
    return (row["specs"].get("net") or {}).get("cc")


def cuda(row: dict) -> tuple[int, ...] | None:
    text = row.get("cuda_version")
    return tuple(int(p) for p in text.split(".")) if text else None


def ids(servers: list[dict]) -> list[int]:
    return [s["id"] for s in servers]


@pytest.fixture
def market(sim: SimServer) -> list[dict]:
    rows = raw_market(sim)
    sim.reset()  # our own read does not count against the module's calls
    return rows


@pytest.fixture
def rates(sim: SimServer, market: list[dict]) -> dict[str, float]:
    """clore-sim's own US dollars per coin."""
    answer = sim_rates(sim, market[0]["id"])
    sim.reset()
    return answer


@pytest.mark.price_shapes
def test_filters_narrow_like_the_raw_market(sim, ansible_env, tmp_path, market, rates):
    searches = {
        "default": {},
        "rtx 4090 new cuda": {"gpu": ["rtx 4090"], "cuda_min": "12.4"},
        "regex gpu and europe": {"gpu": ["^NVIDIA GeForce RTX 30[89]0$", "A100"],
                                 "countries": ["de", "FR", "NL", "PL", "CZ", "FI", "SE", "RO"]},
        "cheap per gpu hour": {"max_price": {"amount": 0.3, "per": "gpu_hour"}, "exclude_countries": ["US"]},
        "clore spot per hour": {"max_price": {"amount": 6, "currency": "CLORE", "type": "spot", "per": "hour"},
                                "currency": "CLORE-Blockchain"},
        "multi gpu big ram": {"gpu_count_min": 2, "gpu_count_max": 4, "gpu_ram_min": 24, "ram_min": 64,
                              "reliability_min": 0.9},
        "nothing": {"gpu": ["RTX 9999"]},
        "everything": {"available_only": False},
        "two ids": {"server_ids": [market[0]["id"], market[1]["id"]], "available_only": False},
    }
    run = searched(ansible_env, tmp_path, searches)
    assert run.rc == 0, run.stdout + run.stderr
    results = {name: run.result(name) for name in searches}
    free = [r for r in market if available(r)]

    def check(name: str, keep, narrows: bool = True) -> None:
        result = results[name]
        expected = sorted(r["id"] for r in free if keep(r))
        if narrows:  # a search that keeps all or nothing would prove little
            assert 0 < len(expected) < len(free), (name, len(expected))
        assert sorted(ids(result["servers"])) == expected, name
        assert result["count"] == result["matched"] == len(expected), name
        assert result["total"] == len(market)
        assert result["changed"] is False
        # Each server is counted once: under one filter, or as a match.
        assert result["matched"] + sum(result["excluded"].values()) == len(market), name
        assert result["excluded"]["available_only"] == len(market) - len(free), name

    check("default", lambda r: True, narrows=False)
    check("rtx 4090 new cuda", lambda r: "rtx 4090" in gpu(r)[0].lower() and (cuda(r) or ()) >= (12, 4))
    europe = {"DE", "FR", "NL", "PL", "CZ", "FI", "SE", "RO"}
    check("regex gpu and europe",
          lambda r: re.search(r"^NVIDIA GeForce RTX 30[89]0$|A100", gpu(r)[0], re.I) and country(r) in europe)

    def per_gpu_hour(row: dict) -> float:
        return usd_per_day(row, rates) / 24 / gpu(row)[1]

    # No server so near the cap that a row's rounded dollar figure could put it on the other side.
    assert all(abs(per_gpu_hour(r) - 0.3) > USD_TOLERANCE for r in free)
    check("cheap per gpu hour", lambda r: per_gpu_hour(r) <= 0.3 and country(r) != "US")
    check("clore spot per hour",
          lambda r: "CLORE-Blockchain" in r["allowed_coins"] and r["price"]["spot"]["CLORE-Blockchain"] / 24 <= 6)
    check("multi gpu big ram",
          lambda r: 2 <= gpu(r)[1] <= 4 and r["specs"]["gpuram"] >= 24 and r["specs"]["ram"] >= 64
          and r.get("reliability", -1) >= 0.9)
    check("nothing", lambda r: False, narrows=False)
    assert results["nothing"]["excluded"] == {"available_only": len(market) - len(free), "gpu": len(free)}

    everything = results["everything"]
    assert sorted(ids(everything["servers"])) == sorted(r["id"] for r in market)
    assert everything["excluded"] == {}
    assert sorted(ids(results["two ids"]["servers"])) == sorted([market[0]["id"], market[1]["id"]])
    assert results["two ids"]["excluded"] == {"server_ids": len(market) - 2}

    # The normalised fields match the raw rows.
    by_id = {r["id"]: r for r in market}
    for server in everything["servers"]:
        row = by_id[server["id"]]
        assert (server["gpu_model"], server["gpu_count"]) == gpu(row)
        assert server["rented"] is row["rented"] and server["online"] is row.get("online")
        assert server["prices"]["on-demand"] == coin_prices(row["price"]["on_demand"])
        assert server["prices"]["spot"] == coin_prices(row["price"]["spot"])
        assert server["allowed_currencies"] == row["allowed_coins"]
        assert server["usd_per_day"] == pytest.approx(usd_per_day(row, rates), abs=USD_TOLERANCE)
        assert server["usd_per_gpu_hour"] == pytest.approx(usd_per_day(row, rates) / 24 / gpu(row)[1],
                                                           abs=USD_TOLERANCE)
        assert server["country"] == country(row)
        assert server["mrl_hours"] == row["mrl"]

    # One marketplace call per task, and in a task at most one spot_marketplace call for rates, made only when some
    # coin is priced in dollars by no row (a task whose comparisons need no dollar figure of such a coin makes none).
    counters = sim.counters()
    lookups = sum(rate_lookups([by_id[i] for i in ids(results[name]["servers"])], market) for name in searches)
    assert counters["requests"]["marketplace"] == len(searches)
    assert counters["requests"].get("spot_marketplace", 0) <= (len(searches) if lookups else 0)
    assert set(counters["requests"]) <= {"marketplace", "spot_marketplace"}
    assert counters["posts"] == {}


@pytest.mark.price_shapes
def test_sort_orders_and_limit(sim, ansible_env, tmp_path, market, rates):
    searches = {
        "cheapest": {"limit": 5},
        "dearest": {"descending": True},
        "per gpu": {"sort_by": "price_per_gpu"},
        "reliable": {"sort_by": "reliability", "descending": True},
        "gpu ram": {"sort_by": "gpu_ram", "limit": 3},
        "spot": {"sort_by": "spot_price"},
    }
    run = searched(ansible_env, tmp_path, searches)
    assert run.rc == 0, run.stdout + run.stderr
    free = [r for r in market if available(r)]

    price = {r["id"]: usd_per_day(r, rates) for r in free}
    cheapest = run.result("cheapest")
    # The five cheapest, in order (servers priced within the rounding of the rows' figures may swap places).
    fifth = sorted(price.values())[4]
    assert all(abs(p - fifth) > USD_TOLERANCE for i, p in price.items() if i not in ids(cheapest["servers"]))
    assert in_order([price[i] for i in ids(cheapest["servers"])])
    assert (cheapest["count"], cheapest["matched"]) == (5, len(free))

    dearest = run.result("dearest")["servers"]
    assert sorted(ids(dearest)) == sorted(price)
    assert in_order([price[s["id"]] for s in dearest], descending=True)
    assert [s["usd_per_day"] for s in dearest] == pytest.approx([price[s["id"]] for s in dearest], abs=USD_TOLERANCE)

    per_gpu = [s["usd_per_gpu_hour"] for s in run.result("per gpu")["servers"]]
    assert per_gpu == sorted(per_gpu) and len(per_gpu) == len(free)

    reliable = run.result("reliable")["servers"]
    known = [s["reliability"] for s in reliable if s["reliability"] is not None]
    assert known == sorted(known, reverse=True)
    # Servers without a value come last, whatever the direction.
    assert [s["reliability"] for s in reliable[len(known):]] == [None] * (len(reliable) - len(known))
    assert len(known) == sum(1 for r in free if "reliability" in r)

    assert [s["gpu_ram_gb"] for s in run.result("gpu ram")["servers"]] == sorted(
        (float(r["specs"]["gpuram"]) for r in free), reverse=False)[:3]
    spot = [s["spot_usd_per_day"] for s in run.result("spot")["servers"]]
    assert spot == sorted(spot)


@pytest.mark.price_shapes
def test_spot_market_for_given_servers(sim, ansible_env, tmp_path, market):
    chosen = [market[0]["id"], market[5]["id"]]
    wanted = {}
    for server_id in chosen:
        answer = requests.get(f"{sim.api_url}/spot_marketplace", params={"market": server_id},
                              headers={"auth": sim.api_key}, timeout=30).json()
        wanted[server_id] = answer
    sim.reset()
    search = {"spot": {"server_ids": chosen, "available_only": False, "spot_market": True}}
    run = searched(ansible_env, tmp_path, search)
    assert run.rc == 0, run.stdout + run.stderr
    servers = run.result("spot")["servers"]
    assert sorted(ids(servers)) == sorted(chosen)
    for server in servers:
        raw = wanted[server["id"]]
        spot_market = server["spot_market"]
        assert spot_market["exists"] == raw["exists"]
        assert spot_market["min_pricing"] == raw["market"]["server"]["min_pricing"]
        assert spot_market["currency_rates_in_usd"] == raw["market"]["currency_rates_in_usd"]
        assert len(spot_market["offers"]) == len(raw["market"]["offers"])
    # The default sort compares dollars: one more spot_marketplace call for rates if the rows give none.
    lookups = rate_lookups([r for r in market if r["id"] in chosen], market)
    assert sim.counters()["requests"] == {"marketplace": 1, "spot_marketplace": 2 + lookups}


@pytest.mark.price_shapes
def test_spot_market_gives_the_running_bid_and_the_bid_needed_to_win(sim, ansible_env, tmp_path, market):
    # A coin the market accepts (the 2024 market takes no USD-Blockchain), and its default bid step.
    coin, step = next((c, s) for c, s in (("USD-Blockchain", 0.01), ("CLORE-Blockchain", 1.0))
                      if any(c in r["allowed_coins"] for r in market))
    held = next(s for s in market if not s["rented"] and coin in s["allowed_coins"])
    minimum = held["price"]["spot"][coin]
    sim.rival_bid(held["id"], minimum + 1, currency=coin)
    search = {"spot": {"server_ids": [held["id"]], "available_only": False, "spot_market": True}}
    run = searched(ansible_env, tmp_path, search)
    assert run.rc == 0, run.stdout + run.stderr
    (server,) = run.result("spot")["servers"]
    summary = server["spot_market"]
    assert (summary["top_active_bid"], summary["top_active_currency"]) == (minimum + 1, coin)
    assert summary["top_active_mine"] is False
    assert summary["bid_needed"][coin] == pytest.approx(minimum + 1 + step)


def test_check_mode_reads_once_and_changes_nothing(sim, ansible_env, tmp_path, market):
    run = run_playbook(playbook(tmp_path, {"search": {"gpu": ["4090"], "limit": 2}}), ansible_env, check=True)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.result("search")
    assert result["changed"] is False and result["count"] == 2
    counters = sim.counters()
    # Sorting by price compares dollars: one spot_marketplace call for rates if the rows give none for a coin.
    lookups = rate_lookups([r for r in market if "4090" in gpu(r)[0]], market)
    assert counters["requests"] == {"marketplace": 1} | ({"spot_marketplace": lookups} if lookups else {})
    assert counters["posts"] == {} and counters["orders_created"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"gpu": ["RTX ("]}, "gpu: 'RTX (' is not a valid regular expression"),
        ({"cuda_min": "newest"}, "cuda_min: 'newest' is not a version"),
        ({"gpu_count_min": 4, "gpu_count_max": 1}, "gpu_count_min (4) is greater than gpu_count_max (1)"),
        ({"max_price": {"amount": 1, "currency": "EUR"}}, "max_price.currency: 'EUR' is not USD or a coin"),
        ({"reliability_min": 2}, "reliability_min: 2.0 is outside 0..1"),
        ({"sort_by": "cheapness"}, "sort_by: 'cheapness' is not a sort key"),
        ({"spot_market": True}, "spot_market: needs server_ids"),
        ({"max_price": {"amount": 1, "per": "week"}}, "value of per must be one of: day, hour, gpu_hour"),
    ],
)
def test_bad_input_is_refused_before_any_call(sim, ansible_env, tmp_path, market, args, message):
    run = searched(ansible_env, tmp_path, {"bad": args})
    assert run.rc != 0
    result = run.result("bad")
    assert result["failed"] is True
    assert message in result["msg"]
    assert "Traceback" not in run.stdout + run.stderr
    assert sim.counters()["requests"] == {}


@pytest.mark.price_shapes
def test_market_search_playbook_prints_the_cheapest_offers(sim, ansible_env, market, rates):
    run = run_playbook(PLAYBOOKS / "market_search.yml", ansible_env, json_output=False,
                       extra_vars={"market_search_gpu": ["4090", "3090"], "market_search_limit": 3,
                                   "market_search_max_price": {"amount": 0.5, "per": "gpu_hour"}})
    assert run.rc == 0, run.stdout + run.stderr
    expected = sorted((usd_per_day(r, rates), r["id"]) for r in market if available(r)
                      and re.search("4090|3090", gpu(r)[0]) and usd_per_day(r, rates) / 24 / gpu(r)[1] <= 0.5)
    assert expected, "the simulator's market should hold cheap RTX 3090/4090 servers"
    assert all(abs(usd_per_day(r, rates) / 24 / gpu(r)[1] - 0.5) > USD_TOLERANCE for r in market
               if available(r) and re.search("4090|3090", gpu(r)[0])), "a server so near the cap that rounding decides"
    rows = re.findall(r'"(\d+) +(\d+)x +NVIDIA GeForce RTX (?:3090|4090) +24 +[A-Z?]{2} +([\d.]+) ', run.stdout)
    assert [int(i) for i, _count, _p in rows] == [i for _p, i in expected[:3]]
    printed = pytest.approx([p for p, _i in expected[:3]], abs=2 * USD_TOLERANCE)  # printed to 4 decimals
    assert [float(p) for _i, _count, p in rows] == printed
    assert f"{min(3, len(expected))} shown of {len(expected)} matching, {len(market)} servers in" in run.stdout
    lookups = rate_lookups([r for r in market if re.search("4090|3090", gpu(r)[0])], market)
    assert sim.counters()["requests"] == {"marketplace": 1} | ({"spot_marketplace": lookups} if lookups else {})
