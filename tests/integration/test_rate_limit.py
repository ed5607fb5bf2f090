"""The shared rate limiter against clore-sim at its default limits: many processes, one key, zero 429s."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .conftest import COLLECTIONS_PATH
from .playbook import base_env, run_playbook

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
    with SimServer(tmp_path / "sim-state", servers=5, request_interval=1.0, create_interval=5.0) as server:
        yield server


@pytest.fixture
def env(limited_sim: SimServer, tmp_path: Path) -> dict[str, str]:
    """The collection at its default intervals (no CLORE_API_*_INTERVAL), limiter state private to the test."""
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update({"CLORE_API_URL": limited_sim.api_url, "CLORE_API_KEY": limited_sim.api_key,
                "CLORE_STATE_DIR": str(tmp_path / "clore-state")})
    return env


@pytest.mark.slow
@pytest.mark.xdist_group("real-rate-limits")
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
    assert elapsed >= (HOSTS * CALLS_PER_HOST - 1) * 1.0
    print(f"{HOSTS} hosts x {CALLS_PER_HOST} calls with forks={HOSTS}: {elapsed:.1f} s, "
          f"{counters['rate_limited']} x 429")


@pytest.mark.slow
@pytest.mark.xdist_group("real-rate-limits")
def test_two_playbook_runs_at_once_share_the_limit(limited_sim, env, tmp_path):
    playbook = tmp_path / "loop.yml"
    playbook.write_text(PLAYBOOK)
    groups = [[f"a{n}" for n in range(3)], [f"b{n}" for n in range(3)]]
    commands = [
        [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", str(inventory(tmp_path, names)),
         "--forks", "3", "--extra-vars", "calls=2"]
        for names in groups
    ]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for cmd in commands]
    outputs = [proc.communicate(timeout=300)[0] for proc in runs]
    assert [proc.returncode for proc in runs] == [0, 0], outputs
    counters = limited_sim.counters()
    assert counters["rate_limited"] == 0, counters
    assert counters["requests"]["wallets"] == 2 * 3 * 2
