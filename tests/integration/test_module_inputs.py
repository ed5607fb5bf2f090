"""Every module refuses numbers, ids and dicts that mean nothing, before any API call, naming the option: NaN and
infinity in each float option and sub-option, booleans for numbers, negative ids, and a scalar for each dict option.
The options come from the modules' own documentation (ansible-doc), which sanity holds equal to their argument specs,
so a new option is swept without anyone listing it here.

The whole sweep runs each module's main() in a forked child (tests/integration/module_run.py), with the arguments
handed over as ansible-playbook hands them to a module (the same JSON encoding, NaN and infinity included);
a sample of it (every module, every kind of refusal) also runs in a real ansible-playbook, so the controller's side
(YAML's .nan, templating, the task's result) is covered too at a fraction of the cost."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import COLLECTIONS_PATH
from .module_run import run_module
from .playbook import VENV_BIN, base_env, run_playbook

MODULES_DIR = Path(__file__).resolve().parents[2] / "plugins" / "modules"
MODULES = sorted(path.stem for path in MODULES_DIR.glob("clore_*.py"))
IMAGE = "cloreai/ubuntu22.04-jupyter"
# What each module needs besides the option tried, so that only the guard can refuse the task.
BASE_ARGS: dict[str, dict[str, Any]] = {
    "clore_order": {"server_id": 7, "image": IMAGE},
    "clore_gpu_activity": {"utilization": {}},
    "clore_server": {"name": "rig-1"},
}
ORDER_IDENTITIES = {"order_id": {"state": "absent"}, "server_id": {"image": IMAGE}, "count": {"image": IMAGE}}
NON_FINITE = (math.nan, math.inf, -math.inf)


@dataclass(frozen=True)
class Case:
    module: str
    option: str  # the top-level option, as `option` in the failure
    path: str  # what the message must start with: account_budget.amount, server_ids[0]
    args: dict[str, Any]
    kind: str = ""  # which rule refuses it: "float nan", "id negative", "dict scalar", ...


def module_docs(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{module: its documented options}, read once with ansible-doc."""
    names = [f"clore.ai.{module}" for module in MODULES]
    done = subprocess.run([str(VENV_BIN / "ansible-doc"), "--json", *names], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    return {name.rsplit(".", 1)[-1]: doc["doc"]["options"] for name, doc in json.loads(done.stdout).items()}


def is_id(name: str) -> bool:
    return name in ("id", "ids") or name.endswith(("_id", "_ids"))


def task_args(module: str, option: str, value: Any) -> dict[str, Any]:
    if module == "clore_order" and option in ORDER_IDENTITIES:
        return ORDER_IDENTITIES[option] | {option: value}
    return BASE_ARGS.get(module, {}) | {option: value}


def option_cases(module: str, name: str, doc: dict[str, Any]) -> list[Case]:
    """The refusals one option must give: (top-level option, path named, value), each with the rule's kind."""
    kind, elements = doc.get("type"), doc.get("elements")
    tried: list[tuple[str, Any, str]] = []
    if kind == "float":
        tried += [(name, value, f"float {value}") for value in (*NON_FINITE, True)]
    elif kind == "int":
        tried += [(name, True, "int True")] + ([(name, -1, "id negative")] if is_id(name) else [])
    elif kind == "list" and elements == "int":
        tried += [(f"{name}[0]", [True], "int list True")] + (
            [(f"{name}[0]", [-1], "id list negative")] if is_id(name) else [])
    elif kind == "dict":
        subs = doc.get("suboptions") or {}
        required = [sub for sub, sub_doc in subs.items() if sub_doc.get("required")]
        tried.append((name, True, "dict True"))
        if not subs:
            tried.append((name, 5, "dict scalar"))
        for sub, sub_doc in subs.items():
            if sub_doc.get("type") == "float":
                filler = {other: 1 for other in required if other != sub}
                tried += [(f"{name}.{sub}", filler | {sub: value}, f"sub-option {value}") for value in NON_FINITE]
        if len(required) == 1 and subs[required[0]].get("type") == "float":
            # a bare number is the amount: NaN still refused
            tried.append((f"{name}.{required[0]}", math.nan, "bare amount nan"))
    return [Case(module, name, path, task_args(module, name, value), label) for path, value, label in tried]


def sweep(docs: dict[str, dict[str, Any]]) -> list[Case]:
    return [case for module in MODULES for name, doc in sorted(docs[module].items())
            for case in option_cases(module, name, doc)]


def play() -> str:
    tasks = "".join(
        f"    - name: {module}\n"
        f"      clore.ai.{module}: \"{{{{ case_args }}}}\"\n"
        f"      when: case_module == '{module}'\n"
        "      ignore_errors: true\n"
        for module in MODULES
    )
    return ("- name: One module task per host, with that host's arguments\n  hosts: all\n  connection: local\n"
            "  gather_facts: false\n  tasks:\n" + tasks)


def inventory(tmp_path: Path, cases: dict[str, Case]) -> Path:
    root = tmp_path / "inventory"
    (root / "host_vars").mkdir(parents=True)
    (root / "hosts.ini").write_text("\n".join(cases) + f"\n\n[all:vars]\nansible_python_interpreter={sys.executable}\n")
    for host, case in cases.items():
        # YAML carries .nan and .inf as floats, as a user's playbook would.
        (root / "host_vars" / f"{host}.yml").write_text(
            yaml.safe_dump({"case_module": case.module, "case_args": case.args}))
    return root / "hosts.ini"


def refused_naming(result: dict[str, Any], case: Case) -> bool:
    msg = str(result.get("msg", ""))
    return result.get("failed") is True and msg.startswith(case.path) and result.get("option") == case.option \
        and "Traceback" not in str(result)


def sample(cases: list[Case]) -> list[Case]:
    """The first case of each module and the first of each kind: what the real ansible-playbook run tries."""
    modules, kinds, chosen = set(), set(), []
    for case in cases:
        if case.module not in modules or case.kind not in kinds:
            chosen.append(case)
            modules.add(case.module)
            kinds.add(case.kind)
    return chosen


@pytest.fixture(scope="module")
def sweep_cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    """Every case of the sweep, from the documentation ansible-doc reads (once for the module's tests)."""
    env = base_env(COLLECTIONS_PATH, tmp_path_factory.mktemp("ansible-doc"))
    cases = sweep(module_docs(env))
    assert {case.module for case in cases} == set(MODULES)
    return cases


def test_every_float_id_and_dict_option_of_every_module_is_guarded(sim, ansible_env, sweep_cases, tmp_path):
    # A module that let a case through would call this clore-sim.
    missed = []
    for case in sweep_cases:
        result = run_module(case.module, case.args, ansible_env, tmp=tmp_path / "module-tmp").result
        if not refused_naming(result, case):
            missed.append((case.module, case.path, case.args, result.get("msg")))
    counters = sim.counters()
    print(f"\ninput sweep: {len(sweep_cases)} tried / {len(sweep_cases) - len(missed)} refused before any call "
          f"naming it ({len(MODULES)} modules; API requests: {sum(counters['requests'].values())})")
    assert missed == []
    assert counters["requests"] == {} and counters["posts"] == {}, counters


def test_a_sample_of_the_sweep_is_refused_in_a_real_playbook(sim, ansible_env, sweep_cases, tmp_path):
    chosen = sample(sweep_cases)
    assert {case.module for case in chosen} == set(MODULES)
    assert {case.kind for case in chosen} == {case.kind for case in sweep_cases}
    cases = {f"case{index:04d}": case for index, case in enumerate(chosen)}
    playbook = tmp_path / "sweep.yml"
    playbook.write_text(play())
    run = run_playbook(playbook, ansible_env, inventory=inventory(tmp_path, cases), forks=4, timeout=900)
    missed = [(case.module, case.path, case.args, run.result(case.module, host).get("msg"))
              for host, case in cases.items() if not refused_naming(run.result(case.module, host), case)]
    assert missed == []
    counters = sim.counters()
    assert counters["requests"] == {} and counters["posts"] == {}, counters


# ----- the audit's inputs beyond clore_order, each as a user would write it -----
AUDIT = {
    "bad_servers_negative": ("clore_bad_servers", {"state": "present", "reason": "fan", "server_ids": [-4]},
                             "server_ids[0] must be 1 or more", "server_ids"),
    "bad_servers_boolean": ("clore_bad_servers", {"state": "absent", "server_ids": [True]},
                            "server_ids[0] must be a whole number, got true", "server_ids"),
    "bad_servers_order_id": ("clore_bad_servers", {"state": "present", "reason": "fan", "server_ids": [4],
                                                   "order_id": -2}, "order_id must be 1 or more", "order_id"),
    "bad_servers_ttl_nan": ("clore_bad_servers", {"bad_server_ttl": math.nan},
                            "bad_server_ttl must be a finite number, got nan", "bad_server_ttl"),
    "order_info_spend_nan": ("clore_order_info", {"spend_over": {"amount": math.nan}},
                             "spend_over.amount must be a finite number, got nan", "spend_over"),
    "order_info_ids": ("clore_order_info", {"order_ids": [5, -1]}, "order_ids[1] must be 1 or more", "order_ids"),
    "order_info_alias": ("clore_order_info", {"ids": [False]}, "order_ids[0] must be a whole number", "order_ids"),
    "order_info_servers": ("clore_order_info", {"server_ids": [True]}, "server_ids[0] must be a whole number",
                           "server_ids"),
    "api_check_server": ("clore_api_check", {"server_id": -1}, "server_id must be 1 or more", "server_id"),
    "api_check_boolean": ("clore_api_check", {"server_id": True}, "server_id must be a whole number", "server_id"),
    "server_info_names": ("clore_server_info", {"names": [""]}, "names[0] must not be empty", "names"),
    "wallet_state_dir": ("clore_wallet_info", {"api_state_dir": ""}, "api_state_dir must not be empty",
                         "api_state_dir"),
    "market_max_price_bool": ("clore_market_info", {"max_price": True},
                              "max_price must be a number (its amount) or a dict", "max_price"),
    "server_usd_pricing": ("clore_server", {"name": "rig-1", "usd_pricing": 5}, "usd_pricing must be a dict",
                           "usd_pricing"),
}


def test_the_audit_inputs_are_refused_before_any_call_naming_the_option(sim, ansible_env, tmp_path):
    # Module runs: the real-playbook sample above covers the controller's side of such refusals.
    cases = {host: Case(module, option, start, args) for host, (module, args, start, option) in AUDIT.items()}
    for host, case in cases.items():
        result = run_module(case.module, case.args, ansible_env, tmp=tmp_path / "module-tmp").result
        assert refused_naming(result, case), (host, result)
        assert "not iterable" not in result["msg"]
    counters = sim.counters()
    assert counters["requests"] == {} and counters["posts"] == {}, counters


MARKET_TASKS = """\
    - name: A number
      clore.ai.clore_market_info:
        max_price: 5
      register: bare
    - name: A dict
      clore.ai.clore_market_info:
        max_price: {amount: 5, currency: USD, type: on-demand, per: day}
      register: spelled
"""


def test_a_number_for_max_price_means_usd_per_day_on_demand(sim, ansible_env, local_play):
    playbook = local_play("The marketplace under a price cap given as a number and as a dict", MARKET_TASKS)
    run = run_playbook(playbook, ansible_env)
    bare, spelled = run.result("A number"), run.result("A dict")
    assert not bare.get("failed") and not spelled.get("failed"), (bare.get("msg"), spelled.get("msg"))
    ids = [server["id"] for server in bare["servers"]]
    assert ids and ids == [server["id"] for server in spelled["servers"]]
