"""The managed job's watch over hundreds of rounds: playbooks/managed_job.yml on-demand, a job of `sleep SECONDS`,
a round every second (managed_job_poll_interval 1), no checkpoint, against clore-sim at the API's limits.

Measured from each round's start (the result of "Note when the round starts"): the pace of the first and of the last
WINDOW rounds, which must stay the same (a watch whose nesting grew slowed down at every round and died with a
RecursionError after a few hundred), and the controller's CPU seconds for the whole run, per round, against a run of
the same job that stops after a few rounds: what a round costs, and what the rounds left cost once the job has
stopped (the loops' lists are empty then; a per-item `when` once cost tens of CPU seconds here).
"""
from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from clore_sim.testing import SimServer

from tests.benchmarks.common import REPO, sim_env, ssh_key
from tests.integration.playbook import PlaybookRun, run_playbook

SECONDS = 300  # the long job: well over a hundred rounds (a round takes about 2 s of a quiet machine's time)
SHORT = 8  # the short job: a few rounds
WINDOW = 50
POLL = 1
PLAYBOOK = REPO / "playbooks" / "managed_job.yml"
ROUND_TASK = "Note when the round starts"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _job(tmp: Path, key: Path, seconds: int) -> tuple[PlaybookRun, float]:
    """One on-demand managed job of `sleep seconds`: (the run, its CPU seconds: ansible-playbook and its workers)."""
    with SimServer(tmp / f"sim-{seconds}", request_interval=1.0, create_interval=5.0) as sim:
        env = sim_env(sim, tmp, tmp / f"state-{seconds}")
        extra = {"managed_job_name": f"sleep{seconds}", "managed_job_command": f"sleep {seconds}",
                 "managed_job_type": "on-demand", "managed_job_ssh_private_key_file": str(key),
                 "managed_job_checkpoint_dir": "", "managed_job_poll_interval": POLL,
                 "managed_job_fetch_dir": str(tmp / "results")}
        before = _children_cpu()  # clore-sim is reaped after this: only ansible-playbook's tree is counted
        run = run_playbook(PLAYBOOK, env, extra_vars=extra, timeout=seconds * 4 + 600)
        cpu = _children_cpu() - before
    if run.rc != 0:
        raise RuntimeError(f"managed_job.yml (sleep {seconds}) failed\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    return run, cpu


def _round_starts(run: PlaybookRun) -> list[float]:
    return [float(r["ansible_facts"]["managed_job__round"]) for r in run.task_results(ROUND_TASK)]


def _pace(starts: list[float]) -> float:
    """Rounds per minute over `starts`."""
    return (len(starts) - 1) * 60 / (starts[-1] - starts[0])


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-watch-pace-") as tmp:
        tmp_path = Path(tmp)
        key = ssh_key(tmp_path)
        started = time.monotonic()
        long_run, long_cpu = _job(tmp_path, key, SECONDS)
        long_wall = time.monotonic() - started
        short_run, short_cpu = _job(tmp_path, key, SHORT)
    starts, short_starts = _round_starts(long_run), _round_starts(short_run)
    first, last = _pace(starts[:WINDOW]), _pace(starts[-WINDOW:])
    per_round = (long_cpu - short_cpu) / (len(starts) - len(short_starts))
    bench = f"managed_job watch (sleep {SECONDS} s, a round every {POLL} s, on-demand)"
    return [
        # A round's own work takes longer than the poll here: the pace is what the controller manages.
        {"benchmark": bench, "metric": "rounds", "value": len(starts), "unit": "", "target": "", "ok": None},
        {"benchmark": bench, "metric": f"pace, first / last {WINDOW} rounds", "value": f"{first:.1f} / {last:.1f}",
         "unit": "rounds/min", "target": "last >= 0.9 x first (the nesting never grows)", "ok": last >= 0.9 * first},
        {"benchmark": bench, "metric": "wall time", "value": round(long_wall, 1), "unit": "s", "target": "",
         "ok": None},
        {"benchmark": bench, "metric": f"CPU: whole run / a {SHORT} s job ({len(short_starts)} rounds)",
         "value": f"{long_cpu:.1f} / {short_cpu:.1f}", "unit": "CPU s", "target": "", "ok": None},
        {"benchmark": bench, "metric": "CPU per round (the difference / the rounds between)",
         "value": round(per_round, 3), "unit": "CPU s", "target": "", "ok": None},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
