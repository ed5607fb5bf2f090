"""Several controllers, one key: three ansible-playbook runs at once against one clore-sim key at the real limits.

First each run has a state dir of its own, as AWX jobs on different nodes or in different containers do: they do not
share the rate limiter, so they meet 429s, which are waited out and retried, and one create whose answer is lost is
found in my_orders instead of being sent again. Then the same three share one state dir (as controllers on one
shared filesystem do) and meet no 429 at all.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .conftest import COLLECTIONS_PATH, REPO
from .playbook import CALLBACKS, VENV_BIN, PlaybookRun, base_env
from .real_limits import CREATE_INTERVAL, RATE_TOLERANCE, REQUEST_INTERVAL

CONTROLLERS = ("a", "b", "c")
# The AWX sample inventory source, used by every run as it is.
INVENTORY_SOURCE = REPO / "extensions" / "awx" / "inventory" / "clore.yml"
TIMEOUT = 600

PLAYBOOK = """
- name: One controller's job while others use the same key
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Read wallets
      clore.ai.clore_wallet_info:

    - name: Search the market
      clore.ai.clore_market_info:
        limit: 3

    - name: Read orders
      clore.ai.clore_order_info:

    - name: Rent the fleet
      clore.ai.clore_order:
        count: 1
        image: "{{ fleet_image }}"
        ssh_key: "{{ fleet_ssh_key }}"
      register: clore_fleet

    - name: Read the inventory again
      ansible.builtin.meta: refresh_inventory

    - name: The rented order is a host of the inventory
      ansible.builtin.assert:
        that:
          - ("clore-" ~ clore_fleet.orders[0].id) in groups["clore_ready"]
"""


@pytest.fixture
def limited_sim(tmp_path: Path):
    """clore-sim at the real limits: 1 request per second and 1 create per 5 seconds per key."""
    with SimServer(tmp_path / "sim-state", request_interval=REQUEST_INTERVAL, create_interval=CREATE_INTERVAL,
                   rate_tolerance=RATE_TOLERANCE) as server:
        yield server


def start(playbook: Path, hosts: Path, env: dict[str, str], extra_vars: dict) -> subprocess.Popen:
    cmd = [str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(hosts), "-i", str(INVENTORY_SOURCE),
           "--extra-vars", json.dumps(extra_vars)]
    run_env = env | {"ANSIBLE_STDOUT_CALLBACK": "json_results", "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS)}
    return subprocess.Popen(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> PlaybookRun:
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    start_at = stdout.find("{")
    try:
        data = json.loads(stdout[start_at:]) if start_at >= 0 else {}
    except ValueError:
        data = {}
    return PlaybookRun(proc.returncode, stdout, stderr, data)


def run_three_at_once(sim: SimServer, tmp_path: Path, ssh_public_key: str, phase: str,
                      state_dirs: dict[str, Path]) -> dict[str, PlaybookRun]:
    """Start one ansible-playbook per controller at the same moment; each rents a fleet of its own image."""
    playbook = tmp_path / "job.yml"
    playbook.write_text(PLAYBOOK)
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    procs = {}
    try:
        for name in CONTROLLERS:
            env = base_env(COLLECTIONS_PATH, tmp_path / f"home-{phase}-{name}")
            env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                        "CLORE_STATE_DIR": str(state_dirs[name]),
                        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"})
            procs[name] = start(playbook, hosts, env, {"fleet_image": image(phase, name),
                                                       "fleet_ssh_key": ssh_public_key})
        return {name: finish(proc) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def image(phase: str, controller: str) -> str:
    return f"cloreai/shared-key-test-{phase}-{controller}"


def check_every_task_succeeded(runs: dict[str, PlaybookRun]) -> None:
    for name, run in runs.items():
        assert run.rc == 0, f"controller {name}: rc {run.rc}\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
        stats = run.stats["localhost"]
        assert stats["failures"] == 0 and stats["unreachable"] == 0, (name, stats)
        for task in ("Read wallets", "Search the market", "Read orders", "Rent the fleet",
                     "The rented order is a host of the inventory"):
            assert not run.result(task).get("failed"), (name, task, run.result(task))


def check_one_order_per_fleet(sim: SimServer, runs: dict[str, PlaybookRun], phase: str) -> list[int]:
    """Each fleet has exactly one active order, the one its run reports; returns the ids adopted after a lost answer."""
    active = [order for order in sim.orders() if order["ended_at"] is None]
    per_image = Counter(order["image"] for order in active)
    adopted = []
    for name, run in runs.items():
        fleet = run.result("Rent the fleet")
        assert per_image[image(phase, name)] == 1, (name, per_image)
        assert len(fleet["orders"]) == 1 and fleet["orders"][0]["image"] == image(phase, name)
        assert sorted(fleet["created"] + fleet["adopted"]) == [fleet["orders"][0]["id"]], fleet
        adopted += fleet["adopted"]
    servers = [order["si"] for order in active]
    assert len(servers) == len(set(servers))
    return adopted


@pytest.mark.slow
def test_three_controllers_share_one_key(limited_sim, tmp_path, ssh_keypair):
    public_key = ssh_keypair[1]

    # 1. Three state dirs: three limiters that know nothing of each other. The first create that passes the limits
    #    is answered by a dropped connection after the order exists: its run must find it, not create again.
    limited_sim.fault("create_order", "drop_after_commit")
    separate = {name: tmp_path / f"state-{name}" for name in CONTROLLERS}
    runs = run_three_at_once(limited_sim, tmp_path, public_key, "separate", separate)
    counters = limited_sim.counters()
    check_every_task_succeeded(runs)
    adopted = check_one_order_per_fleet(limited_sim, runs, "separate")
    assert len(adopted) == 1, "the create whose answer was lost is adopted by its run, not repeated"
    assert counters["orders_created"] == len(CONTROLLERS), counters
    # Three limiters at 1 request/s each against one key at 1 request/s: refusals are certain, and every one of them
    # was waited out and retried, since every task succeeded.
    assert counters["rate_limited"] > 0, counters
    retried_separate = counters["rate_limited"]

    # 2. One shared state dir: one limiter for the three, so the service never has to refuse anything.
    limited_sim.reset()
    shared = {name: tmp_path / "state-shared" for name in CONTROLLERS}
    runs = run_three_at_once(limited_sim, tmp_path, public_key, "shared", shared)
    counters = limited_sim.counters()
    check_every_task_succeeded(runs)
    assert check_one_order_per_fleet(limited_sim, runs, "shared") == []
    assert counters["rate_limited"] == 0, counters
    assert counters["orders_created"] == len(CONTROLLERS), counters

    print(f"{len(CONTROLLERS)} controllers, one key: {retried_separate} x 429 retried with separate state dirs, "
          f"{counters['rate_limited']} x 429 with one shared state dir")
