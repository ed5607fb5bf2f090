"""What the benchmarks share: where the collection is installed, a key for the rented machines, and the environment of
an Ansible run pointed at one clore-sim."""
from __future__ import annotations

import subprocess
from pathlib import Path

from clore_sim.testing import SimServer

from tests.integration.playbook import base_env

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".venv" / "collections"


def ssh_key(directory: Path) -> Path:
    """A new ed25519 key without a passphrase, `directory`/id_ed25519 (its .pub beside it)."""
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def sim_env(sim: SimServer, home: Path, state_dir: Path) -> dict[str, str]:
    """The environment of an ansible-playbook run against `sim` (HOME-like files under `home`, the limiter's state in
    `state_dir`)."""
    env = base_env(COLLECTIONS, home)
    env.update({"CLORE_API_URL": sim.api_url, "CLORE_API_KEY": sim.api_key, "CLORE_STATE_DIR": str(state_dir)})
    return env
