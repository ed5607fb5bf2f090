"""ansible-lint as `make lint` and `make test` run it leaves nothing in the user's home and installs no copy of the
collection anywhere (the checkout is on the collections path). The demo's side is checked in test_demo.py, molecule's
by scripts/test.sh, which runs it with an empty HOME."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .conftest import REPO


def test_ansible_lint_writes_nothing_in_home_and_installs_no_copy(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "XDG_"))}
    env["HOME"] = str(home)
    # One small playbook: ansible-lint's preparation (where a copy would be installed) runs whatever it lints.
    run = subprocess.run([str(REPO / "scripts" / "lint.sh"), "playbooks/market_search.yml"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    copies = [p for p in (REPO / "build" / "ansible-home").rglob("ansible_collections/clore/ai") if p.exists()]
    assert copies == [], "ansible-lint installed a copy of the collection"
