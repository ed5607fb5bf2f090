"""`ansible-galaxy collection build`, install the tarball elsewhere, and run a module from that install."""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from clore_sim.testing import SimServer

from .conftest import REPO
from .playbook import base_env, run_playbook

BIN = Path(sys.executable).parent
# Development leftovers that must never ship in the tarball.
FORBIDDEN = (".venv/", ".git/", ".ansible/", ".pytest_cache/", ".sim-state/", "build/", "tests/output/")

PLAYBOOK = """
- name: Wallets from the installed collection
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Read wallets
      clore.ai.clore_wallet_info:
      register: clore_wallets
"""


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_built_tarball_installs_and_works(tmp_path: Path):
    installed = tmp_path / "collections"
    env = base_env(installed, tmp_path)
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)], env, tmp_path)
    tarballs = list(tmp_path.glob("clore-ai-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        names = tar.getnames()
    for required in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "plugins/module_utils/client.py",
                     "plugins/module_utils/ratelimit.py", "plugins/doc_fragments/clore.py",
                     "plugins/modules/clore_wallet_info.py"):
        assert required in names
    shipped_junk = sorted({n for n in names for bad in FORBIDDEN if n.startswith(bad) or f"/{bad}" in n}
                          | {n for n in names if "__pycache__" in n or n.endswith(".pyc")})
    assert not shipped_junk, shipped_junk[:20]

    run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(installed), str(tarballs[0])],
        env, tmp_path)
    module = installed / "ansible_collections" / "clore" / "ai" / "plugins" / "modules" / "clore_wallet_info.py"
    assert module.is_file() and not module.is_symlink()

    doc = run([str(BIN / "ansible-doc"), "clore.ai.clore_wallet_info"], env, tmp_path)
    assert str(installed) in doc.stdout and "CLORE_API_KEY" in doc.stdout

    with SimServer(tmp_path / "sim-state", servers=3) as sim:
        env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key,
                    "CLORE_STATE_DIR": str(tmp_path / "clore-state"), "CLORE_API_REQUEST_INTERVAL": "0"})
        playbook = tmp_path / "play.yml"
        playbook.write_text(PLAYBOOK)
        result = run_playbook(playbook, env, cwd=tmp_path)
        assert result.rc == 0, result.stdout + result.stderr
        balances = result.result("Read wallets")["balances"]
        assert set(balances) == {"bitcoin", "CLORE-Blockchain", "USD-Blockchain"}
        assert all(value > 0 for value in balances.values())
        assert sim.counters()["requests"]["wallets"] == 1
