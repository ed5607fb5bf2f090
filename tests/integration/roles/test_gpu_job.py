"""clore.ai.gpu_job over real SSH against containers rented from clore-sim."""
from __future__ import annotations

import json
from pathlib import Path

from ..playbook import run_playbook
from .conftest import PLAYBOOKS, ssh

# Reads the GPUs as a real job would, and writes a result file and a nested artifact.
GPU_REPORT = """
mkdir -p out
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > out/gpus.csv
python3 -c 'import json, socket; json.dump({"gpus": open("out/gpus.csv").read().splitlines()}, open("result.json", "w"))'
echo "progress: 100%"
"""


def _check_run(inventory, ansible_env, extra_vars: dict, hosts) -> dict[str, str]:
    """A --check run: it passes, starts nothing, fetches nothing; {host: its "check mode:" line}."""
    run = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars, check=True)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    assert not Path(extra_vars["gpu_job_fetch_dir"]).exists()
    said = {}
    for host in hosts:
        assert run.result("Start the job in the background", host.name)["skipped"]
        fact = run.result("Record the job's result", host.name)["ansible_facts"]["gpu_job_result"]
        assert fact["rc"] is None and fact["artifacts"] == [] and fact["local_log"] is None
        said[host.name] = run.result("Check mode: say what a real run would do", host.name)["msg"]
    return said


def test_gpu_job_runs_on_every_host_and_fetches_artifacts_and_log(rent_hosts, ansible_env, ssh_keypair, tmp_path):
    inventory, hosts = rent_hosts(2)
    fetch_dir = tmp_path / "results"
    extra_vars = {
        "gpu_job_name": "report",
        "gpu_job_command": GPU_REPORT,
        "gpu_job_artifacts": ["result.json", "out/gpus.csv"],
        "gpu_job_fetch_dir": str(fetch_dir),
        "gpu_job_poll_interval": 1,
        "gpu_job_creates": "result.json",
    }
    # Check mode first: it would start the job; nothing runs on the hosts.
    said = _check_run(inventory, ansible_env, extra_vars, hosts)
    for host in hosts:
        assert said[host.name] == (f"check mode: would start job report on {host.name} in /root/work "
                                   "(log /root/work/logs/report.log, timeout 3600 s); nothing is run or fetched in "
                                   "check mode")
        assert ssh(host, ssh_keypair[0], tmp_path / "known_hosts" / f"order-{host.order_id}",
                   "ls /root/work/logs /root/work/result.json 2>&1 | grep -c 'No such file'").strip() == "2"

    run = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    for host in hosts:
        local = fetch_dir / host.name
        result = json.loads((local / "result.json").read_text())
        memory = result["gpus"][0].split(",")[1].strip()
        assert result["gpus"] == [f"{host.gpu_model}, {memory}"] * host.gpu_count
        assert (local / "out" / "gpus.csv").read_text().splitlines() == result["gpus"]
        log = (local / "report.log").read_text()
        assert "progress: 100%" in log and "== report: exited with 0" in log
        fact = run.result("Record the job's result", host.name)["ansible_facts"]["gpu_job_result"]
        assert fact["rc"] == 0
        assert fact["log"] == "/root/work/logs/report.log"
        assert sorted(fact["artifacts"]) == sorted([str(local / "result.json"), str(local / "out/gpus.csv")])
        assert fact["already_done"] is False

    # With gpu_job_creates the job's result on the host means "done": a second run starts nothing, changes nothing.
    again = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert again.rc == 0, again.stdout[-3000:] + again.stderr
    assert again.changed_count() == 0
    for host in hosts:
        assert again.result("Record the job's result", host.name)["ansible_facts"]["gpu_job_result"]["already_done"]
        assert (fetch_dir / host.name / "report.log").read_text().count("== report: started") == 1

    # Check mode after it: the job is done, nothing would change.
    check = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars,
                         check=True)
    assert check.rc == 0, check.stdout[-3000:] + check.stderr
    assert check.changed_count() == 0
    for host in hosts:
        assert check.result("Check mode: say what a real run would do", host.name)["msg"].startswith(
            f"check mode: job report is already done on {host.name} (result.json exists)")


def test_gpu_job_failure_fails_with_the_tail_of_the_log(rent_hosts, ansible_env, ssh_keypair, tmp_path):
    inventory, hosts = rent_hosts(1)
    fetch_dir = tmp_path / "results"
    extra_vars = {
        "gpu_job_name": "broken",
        "gpu_job_command": "for i in $(seq 1 60); do echo step $i; done; echo 'CUDA out of memory' >&2; exit 7",
        "gpu_job_artifacts": ["never-written.bin"],
        "gpu_job_fetch_dir": str(fetch_dir),
        "gpu_job_poll_interval": 1,
        "gpu_job_log_tail_lines": 5,
    }
    # Check mode runs nothing, so it neither fails on the job nor looks for its missing artifact.
    said = _check_run(inventory, ansible_env, extra_vars, hosts)
    assert said[hosts[0].name].startswith(f"check mode: would start job broken on {hosts[0].name}")

    run = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert run.rc != 0
    host = hosts[0]
    msg = run.result("Fail when the job failed", host.name)["msg"]
    lines = msg.splitlines()
    assert lines[0] == f"Job 'broken' on {host.name} exited with code 7."
    assert lines[1] == (f"Last 5 lines of /root/work/logs/broken.log "
                        f"(copy: {fetch_dir}/{host.name}/broken.log):")
    assert lines[2:6] == ["step 58", "step 59", "step 60", "CUDA out of memory"]
    assert lines[6].startswith("== broken: exited with 7")
    assert "step 1\n" not in msg
    # The log came home; the job's log stays on the host too.
    assert "CUDA out of memory" in (fetch_dir / host.name / "broken.log").read_text()
    key = ssh_keypair[0]
    on_host = ssh(host, key, tmp_path / "known_hosts" / f"order-{host.order_id}", "tail -n 2 /root/work/logs/broken.log")
    assert on_host.splitlines()[0] == "CUDA out of memory"


def test_gpu_job_timeout_kills_the_job_and_says_so(rent_hosts, ansible_env, ssh_keypair, tmp_path):
    inventory, hosts = rent_hosts(1)
    extra_vars = {
        "gpu_job_name": "slow",
        "gpu_job_command": "echo warming up; sleep 97.5",
        "gpu_job_fetch_dir": str(tmp_path / "results"),
        "gpu_job_timeout": 3,
        "gpu_job_poll_interval": 1,
    }
    said = _check_run(inventory, ansible_env, extra_vars, hosts)
    assert "timeout 3 s" in said[hosts[0].name]

    run = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert run.rc != 0
    host = hosts[0]
    msg = run.result("Fail when the job failed", host.name)["msg"]
    assert msg.splitlines()[0] == f"Job 'slow' on {host.name} timed out after 3 s."
    assert "warming up" in msg
    key = ssh_keypair[0]
    processes = ssh(host, key, tmp_path / "known_hosts" / f"order-{host.order_id}", "ps -eo args")
    assert "sleep 97.5" not in processes
