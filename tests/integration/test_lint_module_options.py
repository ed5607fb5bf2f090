"""`make lint` refuses an unknown module option: ansible-lint's `args` rule runs (.ansible-lint) and fails the run."""
from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import REPO

TASK = """\
    - name: Search the market {name}
      clore.ai.clore_market_info:
        gpu: RTX
{extra}"""


def test_a_bogus_module_option_fails_lint(tmp_path: Path):
    playbook = tmp_path / "bogus_option.yml"
    bogus = TASK.format(name="with a bogus option", extra="        bogus_option: 1\n")
    tasks = TASK.format(name="as documented", extra="") + bogus
    playbook.write_text("---\n- name: Lint me\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks)
    run = subprocess.run([str(REPO / "scripts" / "lint.sh"), "--nocolor", str(playbook)], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    # The one failure is the bogus option of the second task; the first task, as documented, passes.
    assert "Unsupported parameters for (basic.py) module: bogus_option" in output, output[-3000:]
    # ansible-lint names the file relative to the checkout when it lies inside it (build/pytest-tmp/ under make test)
    assert f"{playbook.name}:9 " in output and f"{playbook.name}:6 " not in output, output[-3000:]
    assert "1 failure(s)" in output, output[-3000:]
