"""A normal run prints no deprecation warning of ours or of the dependencies we pin (requirements-dev.txt)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [
    ["ansible-playbook", "--version"],
    ["ansible-doc", "clore.ai.clore_order"],
])
def test_no_deprecation_warning_on_start(command):
    env = dict(os.environ, PYTHONWARNINGS="default")  # warnings as a user's shell shows them, not silenced by tests
    done = subprocess.run([str(BIN / command[0]), *command[1:]], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "deprecat" not in done.stderr.lower(), done.stderr
