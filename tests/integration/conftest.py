"""Fixtures for integration tests: a fresh clore-sim per test and an environment for real Ansible runs."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .playbook import base_env

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = Path(sys.prefix) / "collections"  # the running virtualenv's (.venv or .venv-latest)
PLAYBOOKS = REPO / "playbooks"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    """A clore-sim of its own for one test: no rate limits, no listing or provisioning delays."""
    with SimServer(tmp_path / "sim-state") as server:
        yield server


@pytest.fixture
def ansible_env(sim: SimServer, tmp_path: Path) -> dict[str, str]:
    """Environment for ansible-playbook/ansible-inventory pointed at `sim`, limiter state private to the test."""
    env = base_env(COLLECTIONS_PATH, tmp_path)
    env.update(
        {
            "CLORE_API_URL": sim.api_url,
            "CLORE_API_KEY": sim.api_key,
            "CLORE_STATE_DIR": str(tmp_path / "clore-state"),
            "CLORE_API_REQUEST_INTERVAL": "0",
            "CLORE_API_CREATE_INTERVAL": "0",
        }
    )
    return env


@pytest.fixture(scope="session")
def ssh_keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An ed25519 key pair for renting: (private key path, public key text)."""
    directory = tmp_path_factory.mktemp("ssh")
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "clore-tests", "-f", str(key)], check=True)
    return key, (directory / "id_ed25519.pub").read_text().strip()


@pytest.fixture
def python_interpreter() -> str:
    """The controller's interpreter, given explicitly so that discovery never picks a broken shim."""
    return sys.executable
