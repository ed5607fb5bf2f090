"""playbooks/check_api.yml against clore-sim: good answers pass and are recorded without secrets; an answer with a
relied-on field of the wrong type fails, naming the field. Nothing is rented."""
from __future__ import annotations

import json

from .conftest import PLAYBOOKS
from .playbook import run_playbook

CHECK = "Call every read-only endpoint and compare the answers"
VERDICT = "Report the verdict"
LINES = "Report what each answer held"
PASSED = "Every field the collection reads has its type, and every field it relies on is there."


def test_good_answers_pass_and_are_recorded_without_secrets(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 1)
    before = sim.counters()
    record = tmp_path / "recorded"
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env, extra_vars={"clore_check_record": str(record)})
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = run.result(CHECK)
    assert result["ok"] is True and result["failures"] == []
    assert run.result(VERDICT)["msg"].startswith(PASSED)
    assert set(result["report"]) == {"marketplace", "my_orders", "my_orders_completed", "wallets", "spot_marketplace",
                                     "my_servers"}
    assert result["report"]["my_orders"]["objects"]["orders[]"] == 1
    # The simulator's marketplace rows carry no `online` (as the real ones): reported missing, never a failure.
    assert any(m["field"] == "servers[].online" for m in result["report"]["marketplace"]["missing"])
    files = sorted(p.name for p in record.iterdir())
    assert files == sorted(f"{name}.json" for name in result["report"])
    for path in record.iterdir():
        text = path.read_text()
        assert sim.api_key not in text
        assert (path.stat().st_mode & 0o777) == 0o600
    wallets = json.loads((record / "wallets.json").read_text())["wallets"]
    assert wallets and all(w["deposit"] == "<removed>" for w in wallets)
    after = sim.counters()  # it rents nothing: no POST at all
    assert after["orders_created"] == before["orders_created"] and after.get("posts") == before.get("posts")


def test_a_relied_on_field_of_the_wrong_type_fails_naming_it(sim, ansible_env):
    order_id = sim.seed_orders(sim.api_key, 1)[0]
    sim.admin("POST", "order_fields", {"order_id": order_id, "fields": {"si": "not-a-number", "surprise": 1}})
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env)
    assert run.rc != 0
    result = run.result(CHECK)
    assert result["failed"] is True
    assert any("orders[].si" in failure and "string" in failure for failure in result["failures"])
    assert "my_orders: orders[].surprise" in result["unknown_fields"]
    assert "orders[].si" in result["msg"]


def test_an_ssh_endpoint_field_of_the_wrong_type_fails_and_the_verdict_says_so(sim, ansible_env):
    order_id = sim.seed_orders(sim.api_key, 1)[0]
    sim.admin("POST", "order_fields", {"order_id": order_id, "fields": {"tcp_ports": 10000}})
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env)
    assert run.rc == 2, run.stdout[-3000:]
    result = run.result(CHECK)
    assert result["ok"] is False
    expected = ("orders[].tcp_ports is int in 1 of 1, expected list of string or dict of int/string; the collection "
                "relies on it")
    assert f"my_orders: {expected}" in result["failures"] and f"my_orders_completed: {expected}" in result["failures"]
    # The details and the verdict say the same.
    lines = {line.split(":")[0]: line for line in (item["msg"] for item in run.result(LINES)["results"])}
    assert lines["my_orders"].startswith("my_orders: FAILED;") and "wrong type orders[].tcp_ports (int" in \
        lines["my_orders"]
    assert lines["wallets"].startswith("wallets: ok;")
    verdict = run.result(VERDICT)["msg"]
    assert verdict.startswith("FAILED (2): ") and "orders[].tcp_ports" in verdict and PASSED not in verdict


def test_the_ssh_endpoint_as_one_sdk_types_it_passes(sim, ansible_env):
    order_id = sim.seed_orders(sim.api_key, 1)[0]
    fields = {"tcp_ports": {"22": 10000}, "pub_cluster": "n1.c1.clorecloud.net"}
    sim.admin("POST", "order_fields", {"order_id": order_id, "fields": fields})
    run = run_playbook(PLAYBOOKS / "check_api.yml", ansible_env)
    assert run.rc == 0, run.stdout[-3000:]
    result = run.result(CHECK)
    assert result["ok"] is True and result["report"]["my_orders"]["wrong_type"] == []
    assert run.result(VERDICT)["msg"].startswith(PASSED)
