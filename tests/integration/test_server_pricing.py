"""playbooks/host_pricing.yml against clore-sim: the table first, check mode changes nothing, the prices set are the
comparables' median (worked out here from the raw market), a re-run sends nothing, too few comparables keep prices."""
from __future__ import annotations

import json
import statistics
import urllib.request
from pathlib import Path

import pytest

from .playbook import run_playbook

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "host_pricing.yml"
TABLE_TASK = "Show the table (market prices in USD per GPU-hour, server prices in USD per day)"


def api(sim, endpoint: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{sim.api_url}/{endpoint}", data=data, method="GET",
                                     headers={"auth": sim.api_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def expected_prices(sim) -> dict[str, tuple[int, float | None]]:
    """{server name: (comparables, new on-demand USD per day or None)} from the raw market: the same `specs.gpu`
    ("1x NVIDIA GeForce RTX 3090"), the cheapest dollar price per GPU-hour, the median, 24 hours."""
    market = api(sim, "marketplace")
    own = set(market["my_servers"])
    expected = {}
    for row in api(sim, "my_servers")["servers"]:
        prices = [min(v for k, v in other["price"]["usd"].items() if k.startswith("on_demand")) / 24
                  for other in market["servers"]
                  if other["specs"].get("gpu") == row["specs"]["gpu"] and other["id"] not in own]
        count = int(row["specs"]["gpu"].split("x ")[0])
        expected[row["name"]] = (len(prices), round(statistics.median(prices) * 24 * count, 2) if len(prices) >= 3
                                 else None)
    return expected


def test_host_pricing_table_check_mode_set_and_rerun(sim, ansible_env):
    expected = expected_prices(sim)
    assert any(price is not None for _count, price in expected.values())
    sim.reset()

    check = run_playbook(PLAYBOOK, ansible_env, check=True, diff=True)
    assert check.rc == 0, check.stdout + check.stderr
    table = check.result(TABLE_TASK)["msg"]
    assert table[0].split()[:6] == ["server", "GPUs", "comparables", "low/GPU-h", "median/GPU-h", "high/GPU-h"]
    assert len(table) == 1 + len(expected)
    for name, (count, price) in expected.items():
        (line,) = [line for line in table if line.startswith(name + " ")]
        assert line[table[0].index("comparables"):].split()[0] == str(count)
        if price is not None:
            assert f"{price:.2f}" in line
    assert sim.counters()["posts"] == {}  # check mode: nothing set

    real = run_playbook(PLAYBOOK, ansible_env)
    assert real.rc == 0, real.stdout + real.stderr
    facts = real.result("Work out the new prices")["ansible_facts"]
    plans = {p["name"]: p for p in facts["host_pricing_plan"]["plans"]}
    priced = [name for name, (_count, price) in expected.items() if price is not None]
    for name, (count, price) in expected.items():
        assert plans[name]["comparables"] == count
        config = api(sim, "server_config", {"server_name": name})["config"]
        if price is None:
            assert plans[name]["action"] == "keep"
            continue
        assert plans[name]["usd_pricing"]["on_demand"] == pytest.approx(price, abs=0.011)
        assert config["usd_pricing"] == plans[name]["usd_pricing"] and config["autoprice"] == "usd"
        assert config["pricing"]["CLORE-Blockchain"] == pytest.approx(
            plans[name]["usd_pricing"]["on_demand"] / 0.025)  # Clore (the simulator) derives the coin prices
    assert sim.counters()["posts"] == {"set_server_settings": len(priced)}

    again = run_playbook(PLAYBOOK, ansible_env)
    assert again.rc == 0, again.stdout + again.stderr
    assert again.changed_count() == 0
    assert sim.counters()["posts"] == {"set_server_settings": len(priced)}
    assert all("unchanged" in line for line in again.result(TABLE_TASK)["msg"][1:] if "needed" not in line)


def test_too_few_comparables_keep_their_price_and_say_so(sim, ansible_env):
    before = api(sim, "my_servers")["servers"]
    run = run_playbook(PLAYBOOK, ansible_env, extra_vars={"host_pricing_min_comparables": 1000})
    assert run.rc == 0, run.stdout + run.stderr
    lines = run.result(TABLE_TASK)["msg"][1:]
    assert len(lines) == len(before) and all(line.endswith("1000 needed: price kept") for line in lines)
    assert "set_server_settings" not in sim.counters()["posts"]
    assert api(sim, "my_servers")["servers"] == before


def test_a_bad_variable_fails_naming_it(sim, ansible_env):
    run = run_playbook(PLAYBOOK, ansible_env, extra_vars={"host_pricing_spot_fraction": 2})
    assert run.rc != 0
    assert "host_pricing_spot_fraction: 2 is above 1" in run.stdout + run.stderr
    assert sim.counters()["requests"] == {}  # checked before any call (playbooks/specs/host_pricing.yml)
