"""Renting a fleet of N=6 with waiting, against clore-sim at its default limits (1 request/s, 1 create/5 s).

The floor is what the API's own limits allow: the reads that must come before the first create (the market and the
account's orders, 1 s apart), six creates 5 s apart, then the provisioning delay of the last order. Measured: the
whole ansible-playbook run, start to exit (Python and Ansible start-up included, also measured alone with a no-op
play and reported). Two shapes: one fleet task of 6, and three forks each
keeping a fleet of 2 with its own image. Targets: wall time within 10% of the floor plus Ansible's own start-up
(which no API limit sets), zero 429s; the API calls per rented order and the seconds beyond the floor are reported.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from clore_sim.testing import SimServer

from tests.benchmarks.common import COLLECTIONS, sim_env, ssh_key
from tests.integration.playbook import base_env, run_playbook

N = 6
REQUEST_INTERVAL = 1.0
CREATE_INTERVAL = 5.0
# marketplace and my_orders: a create needs both answers (candidates, and the orders the fleet already has).
READS_BEFORE_FIRST_CREATE = 2
# Real containers take minutes to boot; 30 s keeps the benchmark short and still dominates nothing.
PROVISIONING_DELAY = 30.0
IMAGES = ("cloreai/ubuntu22.04-jupyter", "cloreai/ubuntu20.04-jupyter", "nvidia/cuda:12.1.0-devel-ubuntu22.04")

PLAY = """\
- name: Rent a fleet
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Fleet
      clore.ai.clore_order:
        count: "{{ fleet_count | int }}"
        image: "{{ fleet_image }}"
        ssh_key: "{{ fleet_key }}"
        wait_timeout: 300
"""


def _key(directory: Path) -> str:
    return ssh_key(directory).with_suffix(".pub").read_text().strip()


def _one_shape(name: str, hosts: dict[str, dict], forks: int, start_up: float) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-order-") as tmp:
        tmp_path = Path(tmp)
        public_key = _key(tmp_path)
        inventory = tmp_path / "hosts.ini"
        inventory.write_text("".join(
            f"{host} fleet_count={v['count']} fleet_image={v['image']}\n" for host, v in hosts.items()))
        play = tmp_path / "fleet.yml"
        play.write_text(PLAY)
        with SimServer(tmp_path / "sim", request_interval=REQUEST_INTERVAL, create_interval=CREATE_INTERVAL,
                       provisioning_delay=PROVISIONING_DELAY) as sim:
            env = sim_env(sim, tmp_path, tmp_path / "state")
            started = time.monotonic()
            done = run_playbook(play, env, inventory=inventory, forks=forks, json_output=False,
                                extra_vars={"fleet_key": public_key})
            elapsed = time.monotonic() - started
            if done.rc != 0:
                raise RuntimeError(f"{name}: the play failed\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
            counters = sim.counters()
    floor = READS_BEFORE_FIRST_CREATE * REQUEST_INTERVAL + CREATE_INTERVAL * (N - 1) + PROVISIONING_DELAY
    calls = sum(counters["requests"].values())
    bench = f"order_fleet ({name})"
    return [
        {"benchmark": bench, "metric": "wall time", "value": round(elapsed, 2), "unit": "s",
         "target": f"<= {floor * 1.1 + start_up:.1f} (floor {floor:.0f} + 10% + start-up)",
         "ok": elapsed <= floor * 1.1 + start_up},
        {"benchmark": bench, "metric": "beyond the floor", "value": round(elapsed - floor, 2), "unit": "s",
         "target": "", "ok": None},
        {"benchmark": bench, "metric": "orders created", "value": counters["orders_created"], "unit": "",
         "target": f"== {N}", "ok": counters["orders_created"] == N},
        {"benchmark": bench, "metric": "429s served", "value": counters["rate_limited"], "unit": "",
         "target": "== 0", "ok": counters["rate_limited"] == 0},
        {"benchmark": bench, "metric": "API calls per rented order", "value": round(calls / N, 2), "unit": "calls",
         "target": "", "ok": None},
        {"benchmark": bench, "metric": "API calls by endpoint",
         "value": json.dumps(counters["requests"], sort_keys=True), "unit": "", "target": "", "ok": None},
    ]


NOOP = """\
- name: Nothing
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Nothing
      ansible.builtin.command: "true"
      changed_when: false
"""


def _ansible_start_up() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-order-") as tmp:
        play = Path(tmp) / "noop.yml"
        play.write_text(NOOP)
        started = time.monotonic()
        run_playbook(play, base_env(COLLECTIONS, Path(tmp)), json_output=False)
        elapsed = time.monotonic() - started
    return {"benchmark": "order_fleet", "metric": "ansible-playbook start-up (no-op play)", "value": round(elapsed, 2),
            "unit": "s", "target": "", "ok": None}


def run() -> list[dict]:
    start_up = _ansible_start_up()
    rows = [start_up]
    rows += _one_shape("one task, count 6", {"localhost": {"count": N, "image": IMAGES[0]}}, 1, start_up["value"])
    rows += _one_shape("3 forks x count 2",
                       {f"w{i + 1}": {"count": N // 3, "image": IMAGES[i]} for i in range(3)}, 3, start_up["value"])
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
