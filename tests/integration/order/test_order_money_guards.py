"""account_budget and the bad-server memory, with module runs against clore-sim (the
bad-server records' own play in a real ansible-playbook)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..playbook import run_playbook
from .helpers import IMAGE, active_orders, posts

OTHER_IMAGE = "cloreai/ubuntu20.04-jupyter"
USD_COIN = "USD-Blockchain"

RECORDS_TASKS = """\
    - name: Records
      clore.ai.clore_bad_servers: "{{ records_args }}"
      register: records
    - name: Market
      clore.ai.clore_market_info:
        server_ids: "{{ market_server_ids }}"
        available_only: false
      register: market
    - name: Save
      ansible.builtin.copy:
        content: "{{ {'records': records, 'market': market} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def records(env: dict, local_play: Callable[[str, str], Path], args: dict, server_ids: list[int]) -> dict:
    play = local_play("The bad-server record and the market", RECORDS_TASKS)
    out = play.with_name("records.json")
    done = run_playbook(play, env, extra_vars={"records_args": args, "market_server_ids": server_ids,
                                               "result_file": str(out)}, json_output=False)
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def fleet(count: int, image: str = IMAGE, **extra) -> dict:
    return {"count": count, "image": image, "currency": USD_COIN, "wait": False, **extra}


def test_account_budget_refuses_before_any_post_and_allows_once_an_order_is_cancelled(sim, ansible_env, run_order):
    first = run_order(ansible_env, fleet(2))
    assert first.run.rc == 0, first.output[-3000:]
    held = first.result["orders"]
    total = sum(o["price_per_day"] for o in held)
    planned = run_order(ansible_env, fleet(1, OTHER_IMAGE), check=True)
    price = planned.result["would_create"][0]["price_per_day"]
    cap = {"amount": round(total + price - 0.01, 4), "currency": "USD"}
    before = posts(sim)

    checked = run_order(ansible_env, fleet(1, OTHER_IMAGE, account_budget=cap), check=True)
    assert checked.run.rc != 0
    assert "account_budget exceeded" in checked.result["msg"]
    assert f"{total:.4f} USD/day" in checked.result["msg"] and f"{cap['amount']:.4f} USD/day" in checked.result["msg"]
    refused = run_order(ansible_env, fleet(1, OTHER_IMAGE, account_budget=cap))
    assert refused.run.rc != 0 and "account_budget exceeded" in refused.result["msg"]
    assert posts(sim) == before and len(active_orders(sim)) == 2

    cancelled = run_order(ansible_env, {"state": "absent", "order_id": held[0]["id"]})
    assert cancelled.run.rc == 0, cancelled.output[-3000:]
    allowed = run_order(ansible_env, fleet(1, OTHER_IMAGE, account_budget=cap))
    assert allowed.run.rc == 0, allowed.output[-3000:]
    assert len(allowed.result["created"]) == 1 and len(active_orders(sim)) == 2


def test_a_server_without_ssh_is_recorded_skipped_then_used_again(sim, ansible_env, run_order, local_play):
    rented = run_order(ansible_env, fleet(1))
    assert rented.run.rc == 0, rented.output[-3000:]
    order = rented.result["orders"][0]
    server_id = order["server_id"]
    sim.set_ssh_reachable(order["id"], False)

    waited = run_order(ansible_env, fleet(1, wait=True, wait_timeout=3))
    assert waited.run.rc != 0 and "banner" in waited.result["msg"], waited.output[-3000:]
    listed = records(ansible_env, local_play, {}, [server_id])
    assert [r["server_id"] for r in listed["records"]["bad_servers"]] == [server_id]
    assert "no SSH banner" in listed["records"]["bad_servers"][0]["reason"]
    assert listed["market"]["count"] == 0 and listed["market"]["bad_servers_skipped"] == 1

    # Cancelled without an issue of its own: Clore is told the recorded reason.
    gone = run_order(ansible_env, {"state": "absent", "order_id": order["id"]})
    assert gone.run.rc == 0, gone.output[-3000:]
    stored = next(o for o in sim.orders() if o["id"] == order["id"])
    assert "no SSH banner" in (stored.get("issue") or "")

    again = run_order(ansible_env, fleet(1))
    assert again.run.rc == 0, again.output[-3000:]
    assert again.result["bad_servers_skipped"] == 1
    assert again.result["orders"][0]["server_id"] != server_id
    run_order(ansible_env, {"state": "absent", "count": 0, "image": IMAGE})

    # A record older than bad_server_ttl no longer counts (a ttl this short has passed by the next task).
    expired = run_order(ansible_env, fleet(1, bad_server_ttl=0.0001))
    assert expired.run.rc == 0, expired.output[-3000:]
    assert expired.result["bad_servers_skipped"] == 0 and expired.result["orders"][0]["server_id"] == server_id
    run_order(ansible_env, {"state": "absent", "count": 0, "image": IMAGE})

    cleared = records(ansible_env, local_play, {"state": "absent", "server_ids": [server_id]}, [server_id])
    assert cleared["records"]["cleared"] == [server_id] and cleared["records"]["bad_servers"] == []
    assert cleared["market"]["count"] == 1 and cleared["market"]["bad_servers_skipped"] == 0
    reused = run_order(ansible_env, fleet(1))
    assert reused.run.rc == 0 and reused.result["orders"][0]["server_id"] == server_id
