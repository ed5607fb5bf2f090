"""scripts/lib/pip.sh's venv_install: uv installs (fetched into the virtualenv by pip when missing), pip takes over
when uv fails, BOOTSTRAP_INSTALLER=pip uses pip alone, and any other installer is refused naming the variable."""
from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fake_venv(root: Path, uv_rc: int | None) -> Path:
    """A virtualenv whose python and uv log their arguments to calls.log (uv its TMPDIR to uv-tmpdir too); uv exits
    uv_rc (None: no uv yet, and `python -m pip install uv` makes one that succeeds)."""
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    log = root / "calls.log"
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "python $*" >> {log}\n'
                      f'case "$*" in *"install -q --disable-pip-version-check uv") '
                      f'printf \'#!/bin/sh\\necho "uv $*" >> {log}\\n\' > {venv}/bin/uv; chmod +x {venv}/bin/uv;; esac\n')
    python.chmod(0o755)
    if uv_rc is not None:
        uv = venv / "bin" / "uv"
        uv.write_text(f'#!/bin/sh\necho "uv $*" >> {log}\necho "$TMPDIR" > {root}/uv-tmpdir\nexit {uv_rc}\n')
        uv.chmod(0o755)
    return venv


def venv_install(venv: Path, installer: str | None, *args: str) -> subprocess.CompletedProcess:
    tmp = venv.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp)} | ({"BOOTSTRAP_INSTALLER": installer} if installer else {})
    script = f'set -u; . {REPO}/scripts/lib/pip.sh; venv_install "$@"'
    return subprocess.run(["bash", "-c", script, "bash", str(venv), *args], env=env, capture_output=True, text=True,
                          check=False)


def calls(venv: Path) -> list[str]:
    return (venv.parent / "calls.log").read_text().splitlines()


def test_uv_is_fetched_by_pip_then_installs(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=None)
    done = venv_install(venv, None, "--requirement=requirements.txt")
    assert done.returncode == 0, done.stderr
    assert calls(venv) == [
        "python -m pip install -q --disable-pip-version-check uv",
        f"uv pip install -q --python {venv}/bin/python --compile-bytecode --requirement=requirements.txt",
    ]


def test_uv_already_there_installs_alone(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=0)
    assert venv_install(venv, "uv", "-e", "tests/simulator").returncode == 0
    assert calls(venv) == [f"uv pip install -q --python {venv}/bin/python --compile-bytecode -e tests/simulator"]


def test_uv_runs_in_a_temporary_directory_of_its_own_removed_after(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=0)
    assert venv_install(venv, None, "-e", "tests/simulator").returncode == 0
    used = Path((tmp_path / "uv-tmpdir").read_text().strip())
    assert used.parent == tmp_path / "tmp" and not used.exists()
    assert not any((tmp_path / "tmp").iterdir())


def test_pip_takes_over_when_uv_fails_and_says_so(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=1)
    done = venv_install(venv, None, "--requirement=requirements.txt")
    assert done.returncode == 0
    assert calls(venv)[1:] == ["python -m pip install -q --disable-pip-version-check --requirement=requirements.txt"]
    assert "uv could not install the packages" in done.stderr


def test_bootstrap_installer_pip_uses_pip_alone(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=0)
    assert venv_install(venv, "pip", "--requirement=requirements.txt").returncode == 0
    assert calls(venv) == ["python -m pip install -q --disable-pip-version-check --requirement=requirements.txt"]


def test_an_unknown_installer_is_refused_naming_the_variable(tmp_path: Path):
    venv = fake_venv(tmp_path, uv_rc=0)
    done = venv_install(venv, "conda", "x")
    assert done.returncode == 2
    assert "BOOTSTRAP_INSTALLER is uv (the default) or pip, not 'conda'" in done.stderr
    assert not (tmp_path / "calls.log").exists()
