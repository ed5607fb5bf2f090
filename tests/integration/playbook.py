"""Run real ansible-playbook / ansible-inventory processes against clore-sim and read their results.

Playbooks run with the tests' JSON stdout callback (callback_plugins/json_results.py), so a test reads every task
result as data instead of scraping text.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent
CALLBACKS = Path(__file__).parent / "callback_plugins"


@dataclass
class PlaybookRun:
    """The outcome of one ansible-playbook run."""

    rc: int
    stdout: str
    stderr: str
    data: dict[str, Any] = field(default_factory=dict)

    def task_results(self, name: str, host: str = "localhost") -> list[dict[str, Any]]:
        """Every result of the tasks called `name` on `host`, in play order."""
        found = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] == name and host in task["hosts"]:
                    found.append(task["hosts"][host])
        return found

    def result(self, name: str, host: str = "localhost") -> dict[str, Any]:
        """The result of the one task called `name` on `host`."""
        found = self.task_results(name, host)
        assert len(found) == 1, f"expected one task named {name!r} on {host}, found {len(found)}\n{self.stderr}"
        return found[0]

    @property
    def stats(self) -> dict[str, Any]:
        return self.data.get("stats", {})

    def changed_count(self) -> int:
        return sum(s.get("changed", 0) for s in self.stats.values())


def run_playbook(
    playbook: str | Path,
    env: dict[str, str],
    *,
    extra_vars: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
    inventory: str | Path | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    json_output: bool = True,
    limit: str | None = None,
    forks: int | None = None,
    cwd: str | Path | None = None,
    timeout: float = 600,
    deprecations: tuple[str, ...] = (),
) -> PlaybookRun:
    """Run ansible-playbook; `env` is the whole environment (see the `ansible_env` fixture).

    `extra_args` go on the command line as they are, for example ["-e", "name=value"] as a user types it.
    `deprecations`: texts of the deprecation warnings the test expects; each must be printed, and no other one.
    """
    cmd = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    cmd += ["-i", str(inventory) if inventory else "localhost,"]
    if extra_vars:
        cmd += ["--extra-vars", json.dumps(extra_vars)]
    cmd += extra_args or []
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if limit:
        cmd += ["--limit", limit]
    if forks:
        cmd += ["--forks", str(forks)]
    run_env = dict(env)
    if json_output:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "json_results"
        run_env["ANSIBLE_CALLBACK_PLUGINS"] = str(CALLBACKS)
    proc = _run_in_own_group(cmd, run_env, timeout, cwd)
    no_deprecations(proc.stdout + proc.stderr, deprecations)
    data: dict[str, Any] = {}
    if json_output and proc.stdout.strip():
        start = proc.stdout.find("{")
        try:
            data = json.loads(proc.stdout[start:])
        except ValueError:
            data = {}
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, data)


def _run_in_own_group(cmd: list[str], env: dict[str, str], timeout: float, cwd) -> subprocess.CompletedProcess:
    """subprocess.run in a session of its own: on timeout the whole group goes (ansible-playbook's forked workers
    would outlive a kill of the main process alone), then TimeoutExpired is raised as subprocess.run does."""
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                          start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def run_inventory(config: str | Path, env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `ansible-inventory -i config <args>` (for example `--list`)."""
    cmd = [str(VENV_BIN / "ansible-inventory"), "-i", str(config), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    no_deprecations(proc.stdout + proc.stderr)
    return proc


def no_deprecations(output: str, expected: tuple[str, ...] = ()) -> None:
    """Fail on any deprecation warning an Ansible process printed: each ansible-core series deprecates something,
    and what the collection or its tests use must be gone before it is removed. The `expected` ones (texts of
    warnings a test asks for) must be printed instead."""
    text = " ".join(output.split())  # a long warning is wrapped over lines
    missing = [wanted for wanted in expected if wanted not in text]
    assert not missing, "expected deprecation warnings not printed:\n" + "\n".join(missing)
    lines = [line for line in output.splitlines() if ("DEPRECATION WARNING" in line or "DeprecationWarning" in line)
             and not any(wanted in " ".join(line.split()) for wanted in expected)]
    assert not lines, "deprecation warnings:\n" + "\n".join(lines)


def base_env(collections_path: Path, home: Path) -> dict[str, str]:
    """An environment for Ansible processes that owes nothing to the caller's shell but PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CLORE_"))}
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
            "ANSIBLE_LOCAL_TEMP": str(home / "ansible-local-tmp"),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            # Shown, so that no_deprecations() can fail a run that printed one (ours or ansible-core's about us).
            "ANSIBLE_DEPRECATION_WARNINGS": "True",
            # One SSH command per remote task instead of four or five, as `make demo` and molecule run; Clore.ai
            # machines log in as root, so nothing stands in its way. test_playbooks' full path runs without it
            # (Ansible's default).
            "ANSIBLE_PIPELINING": "True",
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
    )
    return env
