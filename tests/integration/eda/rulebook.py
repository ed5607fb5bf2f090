"""Run the real ansible-rulebook with a shipped rulebook against clore-sim, and find what it left running.

Every process the engine starts (its own Java rules engine runs inside it; ansible-runner's ansible-playbook
processes, whatever session they make for themselves) inherits one marker in its environment, so that the processes
of one run are found among everything else on the machine by that marker alone."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..playbook import VENV_BIN

MARKER = "CLORE_EDA_TEST_RUN"
STOP_TIMEOUT = 30.0


def java_home() -> str | None:
    """The Java 17+ that scripts/bootstrap.sh wrote into the virtualenv's activate script, else JAVA_HOME's."""
    activate = VENV_BIN / "activate"
    for line in activate.read_text().splitlines() if activate.exists() else []:
        if line.startswith("export JAVA_HOME="):
            return line.split("=", 1)[1].strip('"')
    return os.environ.get("JAVA_HOME")


class Rulebook:
    """One `ansible-rulebook -r clore.ai.<name>` process, its variables in a --vars file, its output in a log."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path, variables: dict[str, Any]) -> None:
        self.name = name
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.marker = secrets.token_hex(8)
        self.env = dict(env)
        self.env[MARKER] = self.marker
        home = java_home()
        if home:
            self.env["JAVA_HOME"] = home
        self.variables = variables
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Rulebook:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        inventory = self.workdir / "inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
        variables = self.workdir / f"{self.name}-vars.json"
        variables.write_text(json.dumps(self.variables))
        command = [str(VENV_BIN / "ansible-rulebook"), "-i", str(inventory), "-r", f"clore.ai.{self.name}",
                   "--vars", str(variables), "-v"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> int | None:
        """SIGINT, as Ctrl-C or the EDA controller's stop does; SIGKILL only when it does not end in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def assert_running(self) -> None:
        assert self.process is not None and self.process.poll() is None, f"ansible-rulebook ended:\n{self.log[-4000:]}"

    def leftovers(self) -> list[str]:
        """The command lines of the processes that still carry this run's marker."""
        found = []
        needle = f"{MARKER}={self.marker}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue  # gone meanwhile, or not ours to read
        return found

    def wait_for_leftovers(self, timeout: float) -> list[str]:
        """The processes of this run still there after `timeout` seconds (none as soon as none is left)."""
        end = time.monotonic() + timeout
        while (found := self.leftovers()) and time.monotonic() < end:
            time.sleep(0.5)
        return found


def wait_for(what: str, check: Callable[[], Any], deadline: float, rulebook: Rulebook, step: float = 0.5,
             look_beyond: float = 60.0) -> Any:
    """Poll `check` until it answers something true, failing with the rulebook's log once `deadline` seconds pass.

    A miss still looks on for up to `look_beyond` seconds, only to say in the failure when it did happen."""
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() - started >= deadline:
            break
        rulebook.assert_running()
        time.sleep(step)
    late = None
    while late is None and time.monotonic() - started < deadline + look_beyond and rulebook.process.poll() is None:
        time.sleep(step)
        late = time.monotonic() - started if check() else None
    when = f"it happened after {late:.1f} s" if late else f"not even after {deadline + look_beyond:.0f} s"
    raise AssertionError(f"not within {deadline:.0f} s ({when}): {what}\n--- rulebook log ---\n{rulebook.log[-6000:]}")
