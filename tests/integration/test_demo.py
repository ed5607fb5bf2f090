"""`make demo` end to end: scripts/demo.sh against a fresh clore-sim at the real API's rate limits.

The demo is the collection's best end-to-end test: market search, a spot and an on-demand order, SSH readiness,
gpu_host, gpu_job, fetched results, the summary, the release, and clore-sim's own counters.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .real_limits import RATE_TOLERANCE

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.sh"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(args)
    return found


def _run_demo(tmp_path: Path, name: str, ssh_key: Path) -> tuple[subprocess.CompletedProcess, Path]:
    results = tmp_path / name
    scratch = tmp_path / f"{name}-tmp"
    scratch.mkdir()
    home = tmp_path / f"{name}-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CLORE_", "XDG_"))}
    env.update({"DEMO_RESULTS_DIR": str(results), "DEMO_SSH_KEY": str(ssh_key), "TMPDIR": str(scratch),
                "HOME": str(home), "DEMO_RATE_TOLERANCE": str(RATE_TOLERANCE),
                # The demo runs on the virtualenv that runs the tests: each lane demos its own ansible-core.
                "DEMO_VENV": str(Path(sys.executable).parent.parent)})
    run = subprocess.run([str(DEMO)], env=env, capture_output=True, text=True, timeout=900, cwd=REPO,
                         check=False)
    # Nothing left running and nothing left behind: clore-sim, its sshd servers and its state lived in TMPDIR.
    assert _processes_mentioning(str(scratch)) == []
    assert list(scratch.glob("clore-demo.*")) == []
    # Nor in the user's home: no ~/.ansible, no ~/.cache/clore.ai.
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    return run, results


def _summary_rows(text: str) -> list[str]:
    """The rows of the demo's summary table, in a run's output or in a document showing one."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\s*order\s+server\s+GPU\s+price/day", line))
    rows = []
    for line in lines[start + 1:]:
        if not re.match(r"\s*\d+\s+\d+\s+\d+x ", line):
            break
        rows.append(line.strip())
    return rows


# The documents that show the demo's output, and what may differ between two runs: each order's SSH port (clore-sim
# maps free ports) and how often my_orders was asked while the servers came up (that depends on the machine's speed).
SHOWN_IN = (REPO / "README.md", REPO / "docs" / "demo.md")
VARYING_ENDPOINTS = {"my_orders"}
_COUNTERS = re.compile(r"^clore-sim counters: (\d+) API requests \(([^)]*)\); (.*)$", re.M)


def _comparable_rows(text: str) -> list[str]:
    return [" ".join(re.sub(r"ssh -p \d+", "ssh -p PORT", row).split()) for row in _summary_rows(text)]


def _counters(text: str) -> tuple[int, dict[str, int], str]:
    """(total requests, requests per endpoint, the rest of the line) of the counters line in `text`."""
    (total, by_endpoint, rest), = _COUNTERS.findall(text)
    counts = {name: int(n) for name, n in (item.rsplit(" ", 1) for item in by_endpoint.split(", "))}
    return int(total), counts, rest


def _assert_documents_show_this_run(stdout: str) -> None:
    """README.md and docs/demo.md show what a run prints: the same orders on the same servers at the same prices, the
    same API calls (but for VARYING_ENDPOINTS), the same closing counts."""
    run_total, run_counts, run_rest = _counters(stdout)
    for document in SHOWN_IN:
        text = document.read_text()
        name = document.relative_to(REPO)
        assert _comparable_rows(text) == _comparable_rows(stdout), f"{name}: the summary table is not a current run's"
        total, counts, rest = _counters(text)
        assert total == sum(counts.values()), f"{name}: the counters line does not add up"
        steady = {endpoint: n for endpoint, n in counts.items() if endpoint not in VARYING_ENDPOINTS}
        run_steady = {endpoint: n for endpoint, n in run_counts.items() if endpoint not in VARYING_ENDPOINTS}
        assert (steady, rest) == (run_steady, run_rest), f"{name}: the counters line is not a current run's"
        assert counts.keys() == run_counts.keys(), f"{name}: the endpoints called are not a current run's"


@pytest.mark.slow
def test_make_demo_rents_configures_runs_and_releases_everything(tmp_path):
    ssh_key = tmp_path / "ssh" / "id_ed25519"  # made by the demo
    run, results = _run_demo(tmp_path, "demo", ssh_key)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert ssh_key.exists()

    summary = json.loads((results / "summary.json").read_text())
    orders = summary["orders"]
    assert sorted(o["type"] for o in orders) == ["on-demand", "spot"]
    assert summary["still_active"] == [] and summary["jobs_failed"] == []
    for order in orders:
        assert order["job_ok"] is True
        assert order["ssh"].startswith("ssh ") and "root@" in order["ssh"]
        result = json.loads((results / order["host"] / "result.json").read_text())
        # The job read nvidia-smi on the rented machine: it saw what the order rented.
        assert order["gpu"] == f"{len(result['gpus'])}x {result['gpus'][0]['name']}"
        assert result["greeting"] == f"hello from {order['host']}"
        log = (results / order["host"] / "gpu-report.log").read_text()
        assert "progress: 100%" in log and "== gpu-report: exited with 0" in log

    counters = json.loads((results / "sim-counters.json").read_text())
    assert counters["rate_limited"] == 0
    assert counters["orders_created"] == 2 and counters["orders_cancelled"] == 2
    assert counters["orders_active"] == []

    rows = _summary_rows(run.stdout)
    assert len(rows) == 2
    assert {row.split()[0] for row in rows} == {str(o["order"]) for o in orders}
    assert "429s served: 0" in run.stdout and "still active: 0" in run.stdout
    assert "clore-sim stopped" in run.stdout
    _assert_documents_show_this_run(run.stdout)
