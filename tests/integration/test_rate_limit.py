"""The shared rate limiter against clore-sim at its default limits: many processes, one key, zero 429s.

clore-sim's defaults are the strictest rules a real client met: a create 5 s after ANY request of the key
(--create-spacing any) and 429 answers without Retry-After (--retry-after none)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from .conftest import COLLECTIONS_PATH
from .playbook import base_env, run_playbook
from .real_limits import CREATE_INTERVAL, RATE_TOLERANCE, REQUEST_INTERVAL

HOSTS = 10
CALLS_PER_HOST = 3

PLAYBOOK = """
- name: Every host calls the API in a loop
  hosts: clients
  gather_facts: false
  tasks:
    - name: Read wallets
      clore.ai.clore_wallet_info:
      loop: "{{ range(calls | int) | list }}"
      register: clore_wallets
"""


def inventory(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / f"hosts-{names[0]}.ini"
    path.write_text("[clients]\n" + "\n".join(names) + "\n\n[clients:vars]\nansible_connection=local\n"
                    f"ansible_python_interpreter={sys.executable}\n")
    return path


@pytest.fixture
def limited_sim(tmp_path: Path):
    """clore-sim at its default limits: 1 request per 1.0 s and 1 create per 5.0 s per key."""
    with SimServer(tmp_path / "sim-state", servers=5, request_interval=REQUEST_INTERVAL,
                   create_interval=CREATE_INTERVAL, rate_tolerance=RATE_TOLERANCE) as server:
        yield server


@pytest.fixture
def env(limited_sim: SimServer, tmp_path: Path) -> dict[str, str]:
    """The collection at its default intervals (no CLORE_API_*_INTERVAL), limiter state private to the test."""
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update({"CLORE_API_URL": limited_sim.api_url, "CLORE_API_KEY": limited_sim.api_key,
                "CLORE_STATE_DIR": str(tmp_path / "clore-state")})
    return env


@pytest.mark.slow
def test_ten_forks_in_loops_meet_no_429(limited_sim, env, tmp_path):
    playbook = tmp_path / "loop.yml"
    playbook.write_text(PLAYBOOK)
    hosts = [f"client{n:02d}" for n in range(HOSTS)]
    started = time.monotonic()
    run = run_playbook(playbook, env, inventory=inventory(tmp_path, hosts), forks=HOSTS,
                       extra_vars={"calls": CALLS_PER_HOST})
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    for host in hosts:
        results = run.result("Read wallets", host)["results"]
        assert len(results) == CALLS_PER_HOST and all(r["wallets"] for r in results)
    counters = limited_sim.counters()
    assert counters["rate_limited"] == 0, counters
    assert counters["requests"]["wallets"] == HOSTS * CALLS_PER_HOST
    assert counters["requests_by_key"][limited_sim.api_key] == HOSTS * CALLS_PER_HOST
    # 30 requests at least 1 s apart cannot take less than 29 s: the limiter did space them.
    assert elapsed >= (HOSTS * CALLS_PER_HOST - 1) * REQUEST_INTERVAL
    print(f"{HOSTS} hosts x {CALLS_PER_HOST} calls with forks={HOSTS}: {elapsed:.1f} s, "
          f"{counters['rate_limited']} x 429")


@pytest.mark.slow
def test_two_playbook_runs_at_once_share_the_limit(limited_sim, env, tmp_path):
    playbook = tmp_path / "loop.yml"
    playbook.write_text(PLAYBOOK)
    groups = [[f"a{n}" for n in range(3)], [f"b{n}" for n in range(3)]]
    commands = [
        [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", str(inventory(tmp_path, names)),
         "--forks", "3", "--extra-vars", "calls=2"]
        for names in groups
    ]
    started = time.monotonic()
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for cmd in commands]
    outputs = [proc.communicate(timeout=300)[0] for proc in runs]
    elapsed = time.monotonic() - started
    assert [proc.returncode for proc in runs] == [0, 0], outputs
    counters = limited_sim.counters()
    assert counters["rate_limited"] == 0, counters
    assert counters["requests"]["wallets"] == 2 * 3 * 2
    # 12 requests at least 1 s apart, across two controllers: the two runs did share one limiter.
    assert elapsed >= (2 * 3 * 2 - 1) * REQUEST_INTERVAL


RENT_WHILE_READING = """
- name: One host rents one server after another while the others read
  hosts: clients
  gather_facts: false
  tasks:
    - name: Rent or read
      clore.ai.clore_order:
        server_id: "{{ item }}"
        image: cloreai/rate-limit-test
        wait: false
      loop: "{{ servers if inventory_hostname == 'renter' else [] }}"

    - name: Read wallets
      clore.ai.clore_wallet_info:
      loop: "{{ range(calls | int) | list if inventory_hostname != 'renter' else [] }}"
"""


@pytest.mark.slow
def test_creates_among_reads_of_other_forks_meet_no_429(limited_sim, env, tmp_path):
    """Every create leaves 5 s after the last request of any fork, and the reads queued after it wait behind it."""
    market = requests.get(f"{limited_sim.api_url}/marketplace", headers={"auth": limited_sim.api_key},
                          timeout=30).json()["servers"]
    servers = [s["id"] for s in market if not s["rented"] and "CLORE-Blockchain" in s["allowed_coins"]][:2]
    time.sleep(REQUEST_INTERVAL)  # the read above counts for the key too
    playbook = tmp_path / "rent.yml"
    playbook.write_text(RENT_WHILE_READING)
    hosts = ["renter", "reader1", "reader2"]
    started = time.monotonic()
    run = run_playbook(playbook, env, inventory=inventory(tmp_path, hosts), forks=len(hosts),
                       extra_vars={"calls": 6, "servers": servers}, timeout=300)
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    counters = limited_sim.counters()
    assert counters["rate_limited"] == 0, counters
    assert counters["requests"]["create_order"] == len(servers)
    assert sorted(o["si"] for o in limited_sim.orders()) == sorted(servers)
    print(f"{len(servers)} creates among {2 * 6} reads of other forks: {elapsed:.1f} s, "
          f"{counters['rate_limited']} x 429")


# ----- a limiter state that would hold tasks back -----
def prime_state(limited_sim: SimServer, env: dict[str, str], tmp_path: Path) -> Path:
    """Run one call so that the limiter's state file exists; its path."""
    playbook = tmp_path / "loop.yml"
    playbook.write_text(PLAYBOOK)
    run = run_playbook(playbook, env, inventory=inventory(tmp_path, ["prime"]), extra_vars={"calls": 1})
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    (path,) = Path(env["CLORE_STATE_DIR"]).glob("ratelimit-*.json")
    return path


def rewrite_state(path: Path, **request: object) -> float:
    """Change the request entry of the limiter's state (its true `last` kept); the time it was written."""
    state = json.loads(path.read_text())
    now = time.time()
    state["request"].update(request)
    state["written"] = now
    path.write_text(json.dumps(state))
    return now


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_a_stale_slot_holds_no_task_back(limited_sim, env, tmp_path):
    state = prime_state(limited_sim, env, tmp_path)
    now = time.time()
    # A slot ten minutes ahead: reserved by a process that died, or left by anything else; nobody is queued.
    rewrite_state(state, next=now + 600, waiters={f"{dead_pid()}-gone": now + 599})
    playbook = tmp_path / "loop.yml"
    # A hang would end in subprocess.TimeoutExpired long before the stale slot came.
    run = run_playbook(playbook, env, inventory=inventory(tmp_path, ["after"]), extra_vars={"calls": 2}, timeout=120)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    assert len(run.result("Read wallets", "after")["results"]) == 2
    assert limited_sim.counters()["rate_limited"] == 0


def test_a_wait_past_the_retry_timeout_fails_at_once_naming_the_file(limited_sim, env, tmp_path):
    state = prime_state(limited_sim, env, tmp_path)
    before = limited_sim.counters()["requests"]["wallets"]
    now = time.time()
    # The service asked every process to wait ten minutes (a 429's Retry-After): longer than this task may wait.
    rewrite_state(state, next=now + 600, hold=now + 600)
    run = run_playbook(tmp_path / "loop.yml", dict(env, CLORE_API_RETRY_TIMEOUT="10"),
                       inventory=inventory(tmp_path, ["held"]), extra_vars={"calls": 1}, timeout=120)
    assert run.rc != 0
    result = run.result("Read wallets", "held")["results"][0]
    assert result["failed"] is True and result["ambiguous"] is False
    assert result["msg"].startswith("Clore.ai API wallets: the shared rate limiter would hold this call")
    assert "api_retry_timeout" in result["msg"] and f"delete {state}" in result["msg"]
    assert limited_sim.counters()["requests"]["wallets"] == before  # nothing was sent


def test_a_long_wait_is_announced_to_the_user(limited_sim, env, tmp_path):
    state = prime_state(limited_sim, env, tmp_path)
    now = time.time()
    # A 25 s hold and 30 s allowed: the task waits it out, and says why and which file holds it (a wait of a quarter
    # of the allowed time, 7.5 s, is announced: Ansible may take many seconds to start the task on a loaded machine).
    rewrite_state(state, next=now + 25, hold=now + 25)
    run = run_playbook(tmp_path / "loop.yml", dict(env, CLORE_API_RETRY_TIMEOUT="30"),
                       inventory=inventory(tmp_path, ["patient"]), extra_vars={"calls": 1}, timeout=120)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    result = run.result("Read wallets", "patient")
    warnings = json.dumps(result.get("warnings", []) + [w for r in result["results"] for w in r.get("warnings", [])])
    assert "for the shared rate limiter" in warnings and "429" in warnings and str(state) in warnings, result
