"""clore_order refuses bad input before any API call, with messages that name the field and stay readable (Ansible
masks every occurrence of a no_log value, so a short secret must not garble them): every case as a module run, a
sample in a real ansible-playbook run."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from ..module_run import run_module
from ..playbook import run_playbook
from .helpers import IMAGE

PLAY = """\
- name: One clore_order task per host, each with its own arguments
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Order
      clore.ai.clore_order: "{{ case_args }}"
      ignore_errors: true
"""

# host -> (the task's arguments as YAML, the start of the refusal). YAML lets .nan and .inf through as floats.
CASES = {
    "nan_spot_price": ("{server_id: 1, image: %s, type: spot, currency: USD, spot_price: .nan}" % IMAGE,
                       "spot_price must be a finite number"),
    "nan_text_spot_price": ("{server_id: 1, image: %s, type: spot, currency: USD, spot_price: 'nan'}" % IMAGE,
                            "spot_price must be a finite number"),
    "inf_max_price": ("{count: 1, image: %s, gpu: [4090], max_price: {amount: .inf}}" % IMAGE,
                      "max_price.amount must be a finite number, got inf"),
    "nan_budget": ("{count: 1, image: %s, budget: {amount: 'nan'}}" % IMAGE,
                   "budget.amount must be a finite number"),
    "inf_required_price": ("{server_id: 1, image: %s, required_price: .inf}" % IMAGE,
                           "required_price must be a finite number"),
    "negative_order_id": ("{order_id: -5, state: absent}", "order_id must be 1 or more"),
    # The audit's inputs: a NaN due time is never reached, an infinite cap is no cap.
    "nan_lifetime": ("{server_id: 1, image: %s, lifetime_hours: .nan}" % IMAGE,
                     "lifetime_hours must be a finite number, got nan"),
    "inf_account_budget": ("{count: 1, image: %s, account_budget: {amount: .inf}}" % IMAGE,
                           "account_budget.amount must be a finite number, got inf"),
    "nan_account_budget": ("{count: 1, image: %s, account_budget: {amount: .nan}}" % IMAGE,
                           "account_budget.amount must be a finite number, got nan"),
    "bare_nan_account_budget": ("{count: 1, image: %s, account_budget: .nan}" % IMAGE,
                                "account_budget.amount must be a finite number, got nan"),
    "boolean_account_budget": ("{count: 1, image: %s, account_budget: true}" % IMAGE,
                               "account_budget must be a number (its amount) or a dict, got true"),
    "nan_bad_server_ttl": ("{count: 1, image: %s, bad_server_ttl: .nan}" % IMAGE,
                           "bad_server_ttl must be a finite number, got nan"),
    "boolean_server_id": ("{server_id: true, image: %s}" % IMAGE, "server_id must be a whole number, got true"),
    "docker_refuses_image": ("{count: 1, image: 'UPPER/Case::bad'}", "image: 'UPPER/Case::bad' is not a Docker image"),
    "empty_state_dir": ("{server_id: 1, image: %s, api_state_dir: ''}" % IMAGE, "api_state_dir must not be empty"),
    "empty_gpu_name": ("{count: 1, image: %s, gpu: ['']}" % IMAGE, "gpu[0] must not be empty"),
    "scalar_ports": ("{server_id: 1, image: %s, ports: 22}" % IMAGE, "ports must be a dict (key: value pairs)"),
    "boolean_count": ("{count: true, image: %s}" % IMAGE, "count must be a whole number, got true"),
    "two_identities": ("{order_id: 1, server_id: 2}", "parameters are mutually exclusive: order_id|server_id|count"),
    "spot_without_bid": ("{server_id: 1, image: %s, type: spot, currency: USD}" % IMAGE,
                         "type is spot but any of the following are missing: spot_price, spot_max_price"),
    # With the key `e`, Ansible would turn every "e" of the message into ********.
    "one_letter_key": ("{api_key: e, count: 1, image: %s}" % IMAGE, "api_key is too short to be a Clore.ai API key"),
    "short_password": ("{server_id: 1, image: %s, ssh_password: 'e1'}" % IMAGE,
                       "ssh_password must be at least 8 characters"),
    "short_token": ("{server_id: 1, image: %s, jupyter_token: 'e'}" % IMAGE,
                    "jupyter_token must be at least 8 characters"),
    "coin_account_budget": ("{count: 1, image: %s, account_budget: {amount: 5, currency: EUR}}" % IMAGE,
                            "account_budget.currency: 'EUR' is not USD or a known coin"),
    "negative_bad_server_ttl": ("{count: 1, image: %s, bad_server_ttl: -1}" % IMAGE,
                                "bad_server_ttl must be 0 (off) or more hours"),
    "zero_lifetime": ("{server_id: 1, image: %s, lifetime_hours: 0}" % IMAGE, "lifetime_hours must be above 0"),
}
# host -> the option the failed result names (its `option` key), for the refusals that name one there.
OPTION_NAMED = {"coin_account_budget": "account_budget", "negative_bad_server_ttl": "bad_server_ttl",
                "zero_lifetime": "lifetime_hours", "short_password": "ssh_password"}


# One case of each kind of rule (a number, a text, a dict, the argument spec's own rules, a short secret that must not
# garble the message): what the real ansible-playbook run tries (YAML's .nan, the controller's own masking); every
# case runs as a module run, in check mode and not (the module refuses through the same guards before anything else).
SAMPLE = ("nan_text_spot_price", "bare_nan_account_budget", "boolean_server_id", "docker_refuses_image",
          "two_identities", "spot_without_bid", "one_letter_key", "short_password")


def inventory(tmp_path: Path, cases: dict[str, tuple[str, str]]) -> Path:
    root = tmp_path / "inventory"
    (root / "host_vars").mkdir(parents=True)
    (root / "hosts.ini").write_text("\n".join(cases) + f"\n\n[all:vars]\nansible_python_interpreter={sys.executable}\n")
    for host, (args, _message) in cases.items():
        (root / "host_vars" / f"{host}.yml").write_text(f"case_args: {args}\n")
    return root / "hosts.ini"


def refused_readably(results: dict[str, dict], cases: dict[str, tuple[str, str]]) -> None:
    for host, (_args, message) in cases.items():
        result = results[host]
        assert result.get("failed") is True, (host, result)
        assert result["msg"].startswith(message), (host, result["msg"])
        assert "*" not in result["msg"], (host, result["msg"])  # readable: nothing masked
        assert "Traceback" not in str(result)
    for host, option in OPTION_NAMED.items():
        if host in cases:
            assert results[host].get("option") == option, host
    invocation = results["short_password"].get("invocation", {}).get("module_args", {})
    assert invocation.get("ssh_password") != "e1"


def test_a_sample_of_bad_input_is_refused_in_a_real_playbook(sim, ansible_env, tmp_path):
    cases = {host: CASES[host] for host in SAMPLE}
    play = tmp_path / "inputs.yml"
    play.write_text(PLAY)
    run = run_playbook(play, ansible_env, inventory=inventory(tmp_path, cases), forks=4, timeout=300)
    refused_readably({host: run.result("Order", host) for host in cases}, cases)
    counters = sim.counters()
    assert counters["requests"] == {} and counters["posts"] == {}, counters


@pytest.mark.parametrize("check", [True, False], ids=["check-mode", "real-run"])
def test_bad_input_is_refused_before_any_call_naming_the_field(sim, ansible_env, tmp_path, check):
    results = {host: run_module("clore_order", yaml.safe_load(args), ansible_env, check=check,
                                tmp=tmp_path / "module-tmp").result
               for host, (args, _message) in CASES.items()}
    refused_readably(results, CASES)
    counters = sim.counters()
    assert counters["requests"] == {} and counters["posts"] == {}, counters


ABSENT_TASKS = """\
    - name: An id the key never had
      clore.ai.clore_order: {order_id: 987654, state: absent, issue: fan noise}
      ignore_errors: true
    - name: The same id with missing_ok
      clore.ai.clore_order: {order_id: 987654, state: absent, missing_ok: true}
"""


def test_cancelling_an_order_id_the_key_never_had_fails_naming_it_unless_missing_ok(sim, ansible_env, local_play):
    play = local_play("Cancel by order id", ABSENT_TASKS)
    run = run_playbook(play, ansible_env)
    never = run.result("An id the key never had")
    assert never.get("failed") is True and never["msg"].startswith("order_id 987654 is not an order of this API key")
    allowed = run.result("The same id with missing_ok")
    assert not allowed.get("failed") and allowed["changed"] is False, allowed
    assert sim.counters()["posts"] == {}
