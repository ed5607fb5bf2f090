"""Run one clore.ai module as a task would run it on the controller, without the controller: the module's main() in
a forked child, its arguments handed over as ansible-playbook hands them (the same JSON, with the `_ansible_*` keys
of check and diff mode), its environment the test's, its result the JSON it prints as it exits.

A fork costs milliseconds where an ansible-playbook run costs two to three CPU seconds; the module's own code, its
HTTP to clore-sim, its state files and its locks are the same, and each run is a process of its own as a real one is
(nothing a run leaves in memory reaches the next). What only the controller does (templating, a task's keywords,
callbacks, the printed output) stays covered by each module's real-playbook tests."""
from __future__ import annotations

import importlib
import io
import json
import os
import selectors
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.testing import patch_module_args

PACKAGE = "ansible_collections.clore.ai.plugins.modules"


@dataclass
class ModuleRun:
    """One module run: its result and how the process ended (the rc ansible-playbook would give: 2 on a failure)."""

    result: dict[str, Any]
    stdout: str
    stderr: str
    exit_code: int

    @property
    def rc(self) -> int:
        return 2 if self.result.get("failed") else 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def internal_args(check: bool, diff: bool, name: str, tmp: Path | None) -> dict[str, Any]:
    """The `_ansible_*` keys ansible-playbook adds to a task's arguments that a clore.ai module reads."""
    args: dict[str, Any] = {"_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_module_name": name}
    if tmp is not None:
        args |= {"_ansible_remote_tmp": str(tmp), "_ansible_tmpdir": None}
    return args


def _child(main, args: dict[str, Any], env: dict[str, str], out_fd: int, err_fd: int) -> None:
    """In the forked child: run main() with stdout and stderr on the pipes; never returns."""
    code = 70
    try:
        # A module process is no controller: once a test in this process has imported the controller's code, module
        # warnings would go to its display instead of into the result (ansible.module_utils.common.warnings).
        module_utils_internal.is_controller = False
        os.environ.clear()
        os.environ.update(env)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
        try:
            with patch_module_args(args):
                main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # pylint: disable=broad-exception-caught  # reported as the module's failure, as Ansible does
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # pylint: disable=broad-exception-caught
                pass
        os._exit(code)  # no atexit, no pytest teardown in the child


def run_module(name: str, args: dict[str, Any], env: dict[str, str], *, check: bool = False, diff: bool = False,
               tmp: Path | None = None, timeout: float = 600) -> ModuleRun:
    """Run clore.ai module `name` with `args` in a forked child under `env` (the whole environment, as the
    `ansible_env` fixture gives it); its result, as the task's would be. A run past `timeout` seconds is killed and
    TimeoutError raised."""
    main = importlib.import_module(f"{PACKAGE}.{name}").main  # imported once here, so that no child pays for it
    full_args = args | internal_args(check, diff, name, tmp)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(out_read)
        os.close(err_read)
        _child(main, full_args, env, out_write, err_write)
    os.close(out_write)
    os.close(err_write)
    stdout, stderr = _read_until_closed(pid, out_read, err_read, timeout)
    status = os.waitpid(pid, 0)[1]
    exit_code = os.waitstatus_to_exitcode(status)
    start = stdout.find("{")
    try:
        result = json.loads(stdout[start:]) if start >= 0 else {}
    except ValueError:
        result = {}
    if not result:
        result = {"failed": True, "msg": "MODULE FAILURE: no JSON printed", "module_stdout": stdout,
                  "module_stderr": stderr, "rc": exit_code}
    for key in ("warnings", "deprecations"):
        if key in result:
            result[key] = [_message(item) for item in result[key]]
    # As run_playbook fails a run that printed a deprecation warning (tests/integration/playbook.py).
    assert not result.get("deprecations"), f"{name} deprecated something: {result['deprecations']}"
    return ModuleRun(result, stdout, stderr, exit_code)


def _message(item: Any) -> str:
    """A warning or deprecation as the task's result gives it, its text: since ansible-core 2.19 a module sends each
    as a structured summary ({"event": {"msg": ...}}), which the controller turns into the text."""
    if isinstance(item, dict):
        event = item.get("event", item)
        return str(event.get("msg", item)) if isinstance(event, dict) else str(item)
    return str(item)


def _read_until_closed(pid: int, out_fd: int, err_fd: int, timeout: float) -> tuple[str, str]:
    """Both pipes read to their end; the child killed (and TimeoutError raised) past `timeout` seconds."""
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                for fd in chunks:
                    os.close(fd)
                raise TimeoutError(f"the module ran past {timeout} s and was killed")
            for key, _events in selector.select(left):
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    return b"".join(chunks[out_fd]).decode(errors="replace"), b"".join(chunks[err_fd]).decode(errors="replace")


@dataclass
class TaskRuns:
    """The module runs of a play's tasks, as run_tasks ran them: read like a PlaybookRun (result by task name)."""

    runs: dict[str, ModuleRun]

    def result(self, name: str) -> dict[str, Any]:
        return self.runs[name].result

    @property
    def rc(self) -> int:
        return max((run.rc for run in self.runs.values()), default=0)

    @property
    def stdout(self) -> str:
        return "".join(run.stdout for run in self.runs.values())

    @property
    def stderr(self) -> str:
        return "".join(run.stderr for run in self.runs.values())


def run_tasks(name: str, tasks: dict[str, dict[str, Any]], env: dict[str, str], *, check: bool = False,
              tmp: Path | None = None) -> TaskRuns:
    """Module `name` once per task ({task name: arguments}), in order, stopping after the first that fails, as a
    play of those tasks would."""
    runs: dict[str, ModuleRun] = {}
    for task, args in tasks.items():
        runs[task] = run_module(name, args, env, check=check, tmp=tmp)
        if runs[task].result.get("failed"):
            break
    return TaskRuns(runs)
