"""clore.ai.gpu_host over real SSH against containers rented from clore-sim."""
from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from ..playbook import run_playbook
from .conftest import PLAYBOOKS, ssh

SECRET = "s3cr3t-v4lue-Zq8"


def _wheel(directory: Path) -> Path:
    """A tiny pure-Python wheel, so that the venv step installs a real package without network access."""
    name, version = "clore_role_probe", "0.1"
    files = {
        f"{name}/__init__.py": b"ANSWER = 42\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                             b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def test_gpu_host_prepares_the_host_and_a_second_run_changes_nothing(rent_hosts, ansible_env, ssh_keypair, tmp_path):
    inventory, hosts = rent_hosts(1)
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "train.py").write_text("print('training')\n")
    (project / "data" / "sample.txt").write_text("1 2 3\n")
    wheel = _wheel(project)
    extra_vars = {
        "gpu_host_env": {"API_TOKEN": SECRET, "MODE": "it's quoted"},
        "gpu_host_project_src": str(project),
        "gpu_host_python_packages": [f"/root/work/project/{wheel.name}"],
        "gpu_host_pip_extra_args": "--no-index",
    }

    key = ssh_keypair[0]
    known_hosts = tmp_path / "known_hosts" / f"order-{hosts[0].order_id}"

    # Check mode on the fresh host: the GPUs are really read and match, everything else is only compared.
    plan = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, extra_vars=extra_vars,
                        check=True)
    assert plan.rc == 0, plan.stdout[-3000:] + plan.stderr
    gpus = plan.result("Record the GPUs the host reports", hosts[0].name)["ansible_facts"]["gpu_host_gpus"]
    assert [gpu["name"] for gpu in gpus] == [hosts[0].gpu_model] * hosts[0].gpu_count
    assert plan.result("Create the work directory", hosts[0].name)["changed"]
    assert plan.result("Check mode: say what was only compared", hosts[0].name)["msg"].startswith(
        f"check mode: {hosts[0].name} answered and its GPUs were checked")
    assert SECRET not in plan.stdout + plan.stderr
    assert ssh(hosts[0], key, known_hosts, "test -e /root/work && echo made || echo none").strip() == "none"

    first = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, extra_vars=extra_vars,
                         verbosity=2)
    assert first.rc == 0, first.stdout[-3000:] + first.stderr
    assert first.changed_count() >= 4
    assert SECRET not in first.stdout + first.stderr

    check = ssh(hosts[0], key, known_hosts,
                "stat -c '%a' /root/work/job.env; set -a; . /root/work/job.env; echo \"$API_TOKEN|$MODE\"; "
                "cat /root/work/project/data/sample.txt; "
                "/root/work/venv/bin/python -c 'import clore_role_probe; print(clore_role_probe.ANSWER)'")
    assert check.splitlines() == ["600", f"{SECRET}|it's quoted", "1 2 3", "42"]

    gpus = first.result("Record the GPUs the host reports", hosts[0].name)["ansible_facts"]["gpu_host_gpus"]
    assert [gpu["name"] for gpu in gpus] == [hosts[0].gpu_model] * hosts[0].gpu_count

    second = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, extra_vars=extra_vars)
    assert second.rc == 0, second.stdout[-3000:] + second.stderr
    assert second.changed_count() == 0, _changed(second)

    # Check mode on the prepared host predicts what a real run does: nothing, except that pip's own check mode
    # cannot see through pip_extra_args and always predicts an install (a cautious guess, never a failure).
    again = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, extra_vars=extra_vars,
                         check=True)
    assert again.rc == 0, again.stdout[-3000:] + again.stderr
    assert _changed(again) == [f"Install the Python packages into the virtualenv on {hosts[0].name}"]


def _changed(run) -> list[str]:
    return [f"{task['task']['name']} on {name}" for play in run.data["plays"] for task in play["tasks"]
            for name, result in task["hosts"].items() if result.get("changed")]


def test_gpu_host_fails_naming_both_when_the_gpus_differ_from_the_order(rent_hosts, ansible_env):
    inventory, hosts = rent_hosts(1)
    for check in (True, False):  # a real mismatch fails check mode too: nvidia-smi runs in both
        run = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, check=check,
                           extra_vars={"gpu_host_expected_gpu_model": "NVIDIA A100-SXM4-80GB",
                                       "gpu_host_expected_gpu_count": 2})
        assert run.rc != 0
        result = run.result("Check the GPU model and count against the order", hosts[0].name)
        assert result["failed"]
        assert result["msg"] == (
            f"GPU mismatch on {hosts[0].name}: rented 2x NVIDIA A100-SXM4-80GB, "
            f"nvidia-smi reports 1x {hosts[0].gpu_model}"
        )
        # Nothing after the check ran: the host is not prepared for work on the wrong hardware.
        assert not run.task_results("Create the work directory", hosts[0].name)
        # The server is remembered as bad on the controller (not in check mode), for fleets to pass over.
        state = Path(ansible_env["CLORE_STATE_DIR"])
        recorded = [json.loads(p.read_text() or "{}") for p in state.glob("bad-servers-*.json")]
        if check:
            assert not any(recorded)
        else:
            assert [r["server_id"] for r in recorded[0].values()] == [hosts[0].server_id]
            assert recorded[0][str(hosts[0].server_id)]["reason"].startswith("GPU mismatch")


def test_gpu_host_fails_when_only_the_count_differs(rent_hosts, ansible_env):
    inventory, hosts = rent_hosts(1)
    for check in (True, False):
        run = run_playbook(PLAYBOOKS / "gpu_host.yml", ansible_env, inventory=inventory, check=check,
                           extra_vars={"gpu_host_expected_gpu_count": 4})
        assert run.rc != 0
        msg = run.result("Check the GPU model and count against the order", hosts[0].name)["msg"]
        assert msg == f"GPU mismatch on {hosts[0].name}: rented 4x {hosts[0].gpu_model}, " \
                      f"nvidia-smi reports 1x {hosts[0].gpu_model}"
