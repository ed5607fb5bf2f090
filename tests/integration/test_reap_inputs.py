"""playbooks/reap.yml as users type its variables: key=value and JSON mean the same; bad values are refused before
any API call, naming the variable; one failed cancel stops neither the other cancels nor the report."""
from __future__ import annotations

import json

import pytest

from .conftest import PLAYBOOKS
from .order.helpers import IMAGE, active_orders, posts
from .playbook import PlaybookRun, run_playbook

USD_COIN = "USD-Blockchain"
RESULT_TASK = "Keep the result for reports"


def reap_kv(env, *pairs: str, **json_vars) -> PlaybookRun:
    """reap.yml with `-e name=value` for each pair (as typed on a command line) and the rest as JSON."""
    args = [arg for pair in pairs for arg in ("-e", pair)]
    return run_playbook(PLAYBOOKS / "reap.yml", env, extra_vars=json_vars or None, extra_args=args)


def failure_text(run: PlaybookRun) -> str:
    return run.stdout + run.stderr


def reap_result(run: PlaybookRun) -> dict:
    return run.result(RESULT_TASK)["ansible_facts"]["reap_result"]


# Besides those of every shipped playbook's sweep (test_playbook_inputs.py: reap_older_than_hours=abc,
# reap_spend_over_usd=5USD, reap_keep_order_ids=abc, reap_keep_images=Ubuntu).
@pytest.mark.parametrize("pair, variable", [
    ("reap_older_than_hours=48x", "reap_older_than_hours"),
    ("reap_older_than_hours=-5", "reap_older_than_hours"),
    ("reap_spend_over_usd=nan", "reap_spend_over_usd"),
    ("reap_spend_over_usd=-1", "reap_spend_over_usd"),
    ("reap_keep_order_ids=[100003", "reap_keep_order_ids"),
    ("reap_idle_minutes=inf", "reap_idle_minutes"),
    ("reap_idle_gpu_util=150", "reap_idle_gpu_util"),
    ("reap_apply=maybe", "reap_apply"),
    ("reap_ssh_timeout=1x", "reap_ssh_timeout"),
])
def test_a_bad_value_is_refused_before_any_api_call_naming_the_variable(sim, ansible_env, pair, variable):
    (order,) = sim.seed_orders(sim.api_key, 1, currency=USD_COIN, image=IMAGE)
    sim.advance_clock(100 * 3600)
    run = reap_kv(ansible_env, "reap_apply=true", pair)  # the last -e of a name wins
    assert run.rc != 0
    assert variable in run.result("Check the variables (playbooks/specs/reap.yml)")["msg"]
    assert "Traceback" not in failure_text(run)
    assert sim.counters()["requests"] == {}
    assert [o["id"] for o in active_orders(sim)] == [order]


def test_durations_in_the_collections_syntax_are_hours(sim, ansible_env):
    # Every spelling is read by the hours filter (tests/unit/test_input_filters.py); here the playbook reads one of
    # each unit on either side of the order's age.
    young, = sim.seed_orders(sim.api_key, 1, currency=USD_COIN, image=IMAGE)
    sim.advance_clock(10 * 3600)  # 10 h old: younger than 2d, older than 90m
    result = reap_result(reap_kv(ansible_env, "reap_older_than_hours=2d"))
    assert result["cancel"] == []
    result = reap_result(reap_kv(ansible_env, "reap_older_than_hours=90m"))
    assert [o["id"] for o in result["cancel"]] == [young]
    assert posts(sim) == {}  # dry runs


@pytest.mark.parametrize("form", ["comma", "json_text", "json"])
def test_kept_orders_and_images_are_kept_in_every_form(sim, ansible_env, form):
    keep_a, keep_b, gone = sim.seed_orders(sim.api_key, 3, currency=USD_COIN, image=IMAGE)
    # Clore lists this order under the fully qualified spelling; the keep-list names the short one.
    (keep_image,) = sim.seed_orders(sim.api_key, 1, currency=USD_COIN, image="docker.io/library/ubuntu:latest")
    sim.advance_clock(10 * 3600)
    ids, images = [keep_a, keep_b], ["ubuntu", "nginx:1.27"]
    if form == "json":
        run = reap_kv(ansible_env, "reap_older_than_hours=5", "reap_apply=true",
                      reap_keep_order_ids=ids, reap_keep_images=images)
    else:
        text = ((lambda items: json.dumps(items, separators=(",", ":"))) if form == "json_text"
                else (lambda items: ",".join(map(str, items))))
        run = reap_kv(ansible_env, "reap_older_than_hours=5", "reap_apply=true",
                      f"reap_keep_order_ids={text(ids)}", f"reap_keep_images={text(images)}")
    assert run.rc == 0, failure_text(run)[-3000:]
    assert [o["id"] for o in reap_result(run)["cancel"]] == [gone]
    assert sorted(o["id"] for o in active_orders(sim)) == sorted([keep_a, keep_b, keep_image])


def test_one_id_alone_is_kept(sim, ansible_env):
    kept, gone = sim.seed_orders(sim.api_key, 2, currency=USD_COIN, image=IMAGE)
    sim.advance_clock(10 * 3600)
    run = reap_kv(ansible_env, "reap_older_than_hours=5", "reap_apply=true", f"reap_keep_order_ids={kept}")
    assert run.rc == 0, failure_text(run)[-3000:]
    assert [o["id"] for o in active_orders(sim)] == [kept]


def test_a_failed_cancel_is_reported_and_fails_the_play_after_the_other_cancels(sim, ansible_env):
    first, second, third = sim.seed_orders(sim.api_key, 3, currency=USD_COIN, image=IMAGE)
    sim.advance_clock(10 * 3600)
    # The first order's cancel is refused twice: once, and once more after it was seen still active.
    sim.fault("cancel_order", "code1", count=2)
    run = reap_kv(ansible_env, "reap_older_than_hours=5", "reap_apply=true")
    assert run.rc != 0
    result = reap_result(run)
    assert sorted(o["id"] for o in result["cancel"]) == sorted([first, second, third])
    (failed,) = result["failed"]
    assert failed["id"] in (first, second, third) and failed["error"]
    assert [o["id"] for o in active_orders(sim)] == [failed["id"]]
    report = run.result("Report")["msg"]
    assert "NOT cancelled" in report and str(failed["id"]) in report
    assert str(failed["id"]) in run.result("Fail when a cancel failed")["msg"]
