"""clore.ai.gpu_job's checkpoints over real SSH: copied home while the job runs, put back before a restart."""
from __future__ import annotations

import tarfile
from pathlib import Path

from ..playbook import run_playbook
from .conftest import PLAYBOOKS, ssh

# Counts to 10, one step a second, keeping the count in its checkpoint (written under another name, then renamed).
# A first run that does not resume stops at 7 as if its machine were lost; a resumed run goes on from its checkpoint.
COUNTER = """
n=0
if [ "$CLORE_JOB_RESUME" = 1 ]; then n=$(cat "$CLORE_JOB_CHECKPOINT_DIR/count"); fi
echo "resume=$CLORE_JOB_RESUME from=$n dir=$CLORE_JOB_CHECKPOINT_DIR"
while [ "$n" -lt 10 ]; do
  n=$((n + 1)); sleep 1
  echo "$n" > "$CLORE_JOB_CHECKPOINT_DIR/count.tmp"; mv "$CLORE_JOB_CHECKPOINT_DIR/count.tmp" "$CLORE_JOB_CHECKPOINT_DIR/count"
  echo "step $n"
  if [ "$CLORE_JOB_RESUME" = 0 ] && [ "$n" -eq 7 ]; then exit 9; fi
done
echo "$n" > result.txt
"""


def _kept_count(store: Path) -> int:
    with tarfile.open(store / "checkpoint.tar.gz") as archive:
        return int(archive.extractfile("./count").read())


def test_checkpoint_is_copied_home_and_put_back_on_an_empty_host(rent_hosts, ansible_env, ssh_keypair, tmp_path):
    inventory, hosts = rent_hosts(1)
    host = hosts[0]
    fetch_dir = tmp_path / "results"
    store = fetch_dir / "count" / "checkpoint"
    extra_vars = {
        "gpu_job_name": "count",
        "gpu_job_command": COUNTER,
        "gpu_job_checkpoint_dir": "ckpt",
        "gpu_job_checkpoint_interval": 1,
        "gpu_job_poll_interval": 1,
        "gpu_job_artifacts": ["result.txt"],
        "gpu_job_fetch_dir": str(fetch_dir),
    }
    first = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert first.rc != 0
    assert first.result("Fail when the job failed", host.name)["msg"].splitlines()[0] == (
        f"Job 'count' on {host.name} exited with code 9.")
    # Copied while the job ran (how many times depends on how fast the controller goes: an interval is a minimum). A
    # round before the job's first write finds the directory empty and copies nothing: the pack says so.
    packs = first.task_results("Pack the checkpoint on the host", host.name)
    saves = first.task_results("Keep the fetched checkpoint once it reads whole", host.name)
    assert [p["stdout"] for p in packs].count("packed") >= 1
    assert [s.get("changed", False) for s in saves] == [p["stdout"] == "packed" for p in packs], (packs, saves)
    kept = _kept_count(store)
    assert 1 <= kept <= 7  # the last copy may hold the count the job stopped at
    assert not (store / ".incoming.tar.gz").exists()

    # A new machine has no checkpoint directory: the kept checkpoint is put back and the job resumes from it.
    known_hosts = tmp_path / "known_hosts" / f"order-{host.order_id}"
    ssh(host, ssh_keypair[0], known_hosts, "rm -rf /root/work/ckpt /root/work/result.txt")
    second = run_playbook(PLAYBOOKS / "gpu_job.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert second.rc == 0, second.stdout[-3000:] + second.stderr
    log = (fetch_dir / host.name / "count.log").read_text()
    assert f"resume=1 from={kept} dir=/root/work/ckpt" in log
    assert f"step {kept}\n" not in log.split("resumed", 1)[1]  # nothing done twice after the resume
    assert (fetch_dir / host.name / "result.txt").read_text().strip() == "10"
    assert _kept_count(store) <= 10
