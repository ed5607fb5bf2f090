"""clore_wallet_info against clore-sim: module runs (tests/integration/module_run.py), with check mode, module_defaults
and what a failure prints in real ansible-playbook runs."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .conftest import COLLECTIONS_PATH
from .module_run import ModuleRun, run_module
from .playbook import base_env, run_playbook


BALANCES = {"bitcoin": 0.125, "CLORE-Blockchain": 1234.5, "USD-Blockchain": 77.25}
KEY = "wallet-test-key-5f1c2a9b"

PLAYBOOK = """
- name: Wallets
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Read wallets
      clore.ai.clore_wallet_info:
        currencies: "{{ wanted | default(omit) }}"
      register: clore_wallets
"""


@pytest.fixture
def wallet_sim(tmp_path: Path):
    with SimServer(tmp_path / "sim-state", servers=5, accounts={KEY: BALANCES}) as server:
        yield server


@pytest.fixture
def env(wallet_sim: SimServer, tmp_path: Path) -> dict[str, str]:
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update({"CLORE_API_URL": wallet_sim.api_url, "CLORE_API_KEY": KEY,
                "CLORE_STATE_DIR": str(tmp_path / "clore-state"),
                "CLORE_API_REQUEST_INTERVAL": "0", "CLORE_API_CREATE_INTERVAL": "0"})
    return env


def write(tmp_path: Path, text: str, name: str = "play.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def read_wallets(env: dict[str, str], tmp_path: Path, wanted: list[str] | None = None) -> ModuleRun:
    """The task of PLAYBOOK, as a module run."""
    args = {} if wanted is None else {"currencies": wanted}
    return run_module("clore_wallet_info", args, env, tmp=tmp_path / "module-tmp")


def raw_wallets(sim: SimServer, key: str) -> list[dict]:
    """The sim's own answer, read without the collection."""
    request = urllib.request.Request(f"{sim.api_url}/wallets", headers={"auth": key})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["wallets"]


def test_wallet_info_returns_the_simulators_balances(wallet_sim, env, tmp_path):
    run = read_wallets(env, tmp_path)
    assert run.rc == 0, run.output
    result = run.result
    assert result["changed"] is False
    assert result["balances"] == BALANCES
    expected = [{"currency": w["name"], "balance": w["balance"], "deposit_address": w["deposit"],
                 "withdrawal_fee": w["withdrawal_fee"]} for w in raw_wallets(wallet_sim, KEY)]
    assert result["wallets"] == expected
    assert result["wallets_by_currency"] == {w["currency"]: w for w in expected}
    assert all(w["deposit_address"] for w in result["wallets"])
    assert wallet_sim.counters()["requests"].get("wallets") == 1 + 1  # the module's call and ours


def test_wallet_info_in_check_mode_and_filtered(wallet_sim, env, tmp_path):
    run = run_playbook(write(tmp_path, PLAYBOOK), env, check=True, extra_vars={"wanted": ["usd-blockchain"]})
    assert run.rc == 0, run.stdout + run.stderr
    result = run.result("Read wallets")
    assert result["balances"] == {"USD-Blockchain": 77.25}
    assert [w["currency"] for w in result["wallets"]] == ["USD-Blockchain"]


def test_module_defaults_group_carries_the_connection(wallet_sim, env, tmp_path):
    playbook = """
- name: Wallets with module_defaults
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/clore.ai.clore:
      api_key: "{{ key }}"
      api_url: "{{ url }}"
      api_request_interval: 0
  tasks:
    - name: Read wallets
      clore.ai.clore_wallet_info:
      register: clore_wallets
"""
    env = {k: v for k, v in env.items() if k not in ("CLORE_API_KEY", "CLORE_API_URL")}
    run = run_playbook(write(tmp_path, playbook), env, extra_vars={"key": KEY, "url": wallet_sim.api_url})
    assert run.rc == 0, run.stdout + run.stderr
    assert run.result("Read wallets")["balances"] == BALANCES


def test_a_wrong_key_fails_clearly_without_traceback(wallet_sim, env, tmp_path):
    wrong = "not-a-valid-key-9c4e1d"
    env = dict(env, CLORE_API_KEY=wrong)
    run = run_playbook(write(tmp_path, PLAYBOOK), env)
    assert run.rc != 0
    result = run.result("Read wallets")
    assert result["failed"] is True
    assert "check api_key / CLORE_API_KEY" in result["msg"]
    assert result["msg"].startswith("Clore.ai API wallets: invalid API token (code 3")
    assert (result["endpoint"], result["code"]) == ("wallets", 3)
    assert "module_stderr" not in result, result
    assert "Traceback" not in str(result.get("exception", "")), result
    everything = run.stdout + run.stderr
    assert "Traceback" not in everything
    assert wrong not in everything


def test_a_missing_key_names_the_option_and_the_variable(wallet_sim, env, tmp_path):
    env = {k: v for k, v in env.items() if k != "CLORE_API_KEY"}
    result = read_wallets(env, tmp_path).result
    assert result["failed"] is True and "api_key" in result["msg"]
    assert wallet_sim.counters()["requests"].get("wallets", 0) == 0


def test_a_bad_option_is_refused_before_any_call(wallet_sim, env, tmp_path):
    env = dict(env, CLORE_API_REQUEST_INTERVAL="-2")
    result = read_wallets(env, tmp_path).result
    assert result["failed"] is True
    assert result["msg"].startswith("api_request_interval must be 0 or more")
    assert wallet_sim.counters()["requests"].get("wallets", 0) == 0


def test_reads_ride_out_gateway_errors_and_database_errors(wallet_sim, env, tmp_path):
    wallet_sim.fault("wallets", "http502", count=1)
    wallet_sim.fault("wallets", "code1", count=1)
    run = read_wallets(env, tmp_path)
    assert run.rc == 0, run.output
    assert run.result["balances"] == BALANCES
    assert wallet_sim.counters()["requests"]["wallets"] == 3


def test_retries_end_at_api_retry_timeout_with_the_last_error(wallet_sim, env, tmp_path):
    wallet_sim.fault("wallets", "http502", count=100)
    result = read_wallets(dict(env, CLORE_API_RETRY_TIMEOUT="2"), tmp_path).result
    assert result["failed"] is True and result["http_status"] == 502
    assert "HTTP 502" in result["msg"] and "api_retry_timeout 2 s" in result["msg"]
    assert 1 < wallet_sim.counters()["requests"]["wallets"] < 10


def test_wallet_info_takes_aliases(wallet_sim, env, tmp_path):
    run = read_wallets(env, tmp_path, ["BTC", "clore"])
    assert run.rc == 0, run.output
    assert run.result["balances"] == {"bitcoin": 0.125, "CLORE-Blockchain": 1234.5}


def test_wallet_info_refuses_an_unknown_currency_before_the_api_call(wallet_sim, env, tmp_path):
    run = read_wallets(env, tmp_path, ["USD-Blockchain", "dogecoin"])
    assert run.rc != 0
    result = run.result
    assert result["failed"] is True and result["option"] == "currencies"
    assert "'dogecoin'" in result["msg"]
    assert all(coin in result["msg"] for coin in ("bitcoin", "CLORE-Blockchain", "USD-Blockchain"))
    assert wallet_sim.counters()["requests"].get("wallets", 0) == 0
