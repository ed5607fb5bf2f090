"""clore_server_info and clore_server through real ansible-playbook runs against clore-sim: set prices, re-run
without a POST, check mode and diff, refusals before any write, and a server of one key rented by another."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from clore_sim.testing import SimServer

from .playbook import run_playbook

RENTER = "server-test-renter-key-7c1e"
IMAGE = "cloreai/ubuntu22.04-jupyter"

HOST_PLAY = """
- name: Host a server
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    prices:
      on_demand_price: {CLORE: 321.5, bitcoin: 0.0001}
      spot_min_price: {CLORE-Blockchain: 150, BTC: 0.00005}
  tasks:
    - name: Read my servers
      clore.ai.clore_server_info:
        config: true
      register: hosted

    - name: Set prices
      clore.ai.clore_server:
        name: "{{ server_name }}"
        available: true
        mrl: 48
        autoprice: false
        coins: [CLORE, bitcoin]
        on_demand_price: "{{ prices.on_demand_price }}"
        spot_min_price: "{{ prices.spot_min_price }}"

    - name: Set prices again
      clore.ai.clore_server:
        name: "{{ server_name }}"
        available: true
        mrl: 48
        autoprice: false
        coins: [CLORE, bitcoin]
        on_demand_price: "{{ prices.on_demand_price }}"
        spot_min_price: "{{ prices.spot_min_price }}"

    - name: Raise the price in check mode
      clore.ai.clore_server:
        name: "{{ server_name }}"
        on_demand_price: {CLORE: 400}
      check_mode: true

    - name: An unknown name
      clore.ai.clore_server:
        name: no-such-rig
        mrl: 24
      ignore_errors: true

    - name: A price of zero
      clore.ai.clore_server:
        name: "{{ server_name }}"
        on_demand_price: {CLORE: 0}
      ignore_errors: true

    - name: An mrl too long
      clore.ai.clore_server:
        name: "{{ server_name }}"
        mrl: 3001
      ignore_errors: true
"""

RENT_TASKS = """\
    - name: Offer it
      clore.ai.clore_server:
        name: "{{ server_name }}"
        available: true
        mrl: 24
        autoprice: false
        on_demand_price: {CLORE: 300}
        spot_min_price: {CLORE: 100}

    - name: Rent my own server
      clore.ai.clore_order:
        server_id: "{{ server_id }}"
        image: cloreai/ubuntu22.04-jupyter
        currency: CLORE-Blockchain
        wait: false
      ignore_errors: true

    - name: Another key rents it
      clore.ai.clore_order:
        api_key: "{{ renter_key }}"
        server_id: "{{ server_id }}"
        image: cloreai/ubuntu22.04-jupyter
        currency: CLORE-Blockchain
        wait: false
      register: rented

    - name: Read my server
      clore.ai.clore_server_info:
        names: ["{{ server_name }}"]
        config: true
"""


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def api(sim: SimServer, endpoint: str, body: dict | None = None, key: str | None = None) -> dict:
    """The simulator's own answer, read without the collection (a GET with a JSON body, as server_config takes)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{sim.api_url}/{endpoint}", data=data, method="GET",
                                     headers={"auth": key or sim.api_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_set_rerun_check_mode_diff_and_refusals(sim, ansible_env, tmp_path):
    rows = api(sim, "my_servers")["servers"]
    name = rows[0]["name"]
    sim.reset()
    run = run_playbook(write(tmp_path, HOST_PLAY, "host.yml"), ansible_env, diff=True,
                       extra_vars={"server_name": name})
    assert run.rc == 0, run.stdout + run.stderr

    hosted = run.result("Read my servers")
    assert hosted["changed"] is False and hosted["names"] == [r["name"] for r in rows]
    first = hosted["servers"][0]
    assert first["name"] == name and first["id"] == rows[0]["id"] and first["mrl"] == 240
    assert first["available"] is False and first["autoprice"] is True and first["config_read"] is True
    assert first["on_demand_price"] == rows[0]["pricing"] and first["usd_pricing"] == rows[0]["usd_pricing"]

    changed = run.result("Set prices")
    assert changed["changed"] is True and changed["form"] == "per-currency"
    assert set(changed["changes"]) == {"available", "mrl", "on_demand_price", "spot_min_price", "autoprice"}
    assert changed["diff"]["before"]["mrl"] == 240 and changed["diff"]["after"]["mrl"] == 48
    assert changed["server"]["on_demand_price"] == {"CLORE-Blockchain": 321.5, "bitcoin": 0.0001}
    config = api(sim, "server_config", {"server_name": name})["config"]
    assert config["visibility"] == "public" and config["mrl"] == 48 and config["autoprice"] is False
    assert config["pricing"] == {"CLORE-Blockchain": 321.5, "bitcoin": 0.0001}
    assert config["spot_pricing"] == {"CLORE-Blockchain": 150.0, "bitcoin": 0.00005}
    listed = next(s for s in api(sim, "marketplace")["servers"] if s["id"] == first["id"])
    assert listed["price"]["on_demand"]["CLORE-Blockchain"] == 321.5  # offered on the market at its price

    again = run.result("Set prices again")
    assert again["changed"] is False and again["changes"] == {} and again["form"] is None

    check = run.result("Raise the price in check mode")
    assert check["changed"] is True and check["form"] is None
    assert check["diff"]["before"]["on_demand_price"]["CLORE-Blockchain"] == 321.5
    assert check["diff"]["after"]["on_demand_price"]["CLORE-Blockchain"] == 400
    assert check["server"]["on_demand_price"]["CLORE-Blockchain"] == 400
    assert api(sim, "server_config", {"server_name": name})["config"]["pricing"]["CLORE-Blockchain"] == 321.5

    unknown = run.result("An unknown name")
    assert unknown["failed"] is True
    assert unknown["msg"] == (f"name: server 'no-such-rig' is not one of the servers this API key hosts "
                              f"({', '.join(repr(r['name']) for r in sorted(rows, key=lambda r: r['name']))}); "
                              "nothing was changed")
    zero = run.result("A price of zero")
    assert zero["failed"] is True and zero["option"] == "on_demand_price"
    assert zero["msg"].startswith("on_demand_price.CLORE must be a finite price per day above 0")
    too_long = run.result("An mrl too long")
    assert too_long["failed"] is True and too_long["option"] == "mrl" and "from 6 to 3000" in too_long["msg"]

    counters = sim.counters()
    # one POST in all: the re-run, check mode and the refusals sent none
    assert counters["posts"] == {"set_server_settings": 1}
    # the refused price and mrl made no call at all: info 1 + set 1 + again 1 + check 1 + unknown name 1
    assert counters["requests"]["my_servers"] == 5
    # info 2 + set 2 (read, read back) + again 1 + check 1, and this test's own 2 reads
    assert counters["requests"]["server_config"] == 8


def test_another_key_rents_the_server_and_the_host_sees_it_rented(sim, ansible_env, local_play):
    sim.add_account(RENTER)
    row = api(sim, "my_servers")["servers"][1]
    sim.reset()
    run = run_playbook(local_play("A server of mine, rented by someone else", RENT_TASKS), ansible_env,
                       extra_vars={"server_name": row["name"], "server_id": row["id"], "renter_key": RENTER})
    assert run.rc == 0, run.stdout + run.stderr

    own = run.result("Rent my own server")
    assert own["failed"] is True
    assert own["msg"].startswith(f"server_id: server {row['id']} is one of your own servers")
    rented = run.result("Another key rents it")
    assert rented["changed"] is True and [o["server_id"] for o in rented["orders"]] == [row["id"]]
    assert rented["orders"][0]["price_per_day"] == 300.0
    assert RENTER not in run.stdout

    (seen,) = run.result("Read my server")["servers"]
    assert seen["rented"] is True and seen["rental_type"] == "on-demand"
    order = api(sim, "my_orders", key=RENTER)["orders"][0]
    assert 0 <= seen["remaining_time"] - (order["ct"] + 24 * 3600) * 1000 < 1000  # ct is whole seconds
    assert seen["rented_until"].startswith("20")
    counters = sim.counters()
    assert counters["posts"] == {"set_server_settings": 1, "create_order": 1}  # the own server: no create at all
    assert counters["orders_created"] == 1
    assert api(sim, "my_orders")["orders"] == []  # the host rented nothing
