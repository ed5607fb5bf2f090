"""Fixtures for clore-sim's own tests: a fresh simulator per test (no limits, no delays) and SSH helpers."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from clore_sim.testing import SimServer

from .helpers import Client


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tmp_path / "sim-state") as server:
        yield server


@pytest.fixture
def client(sim: SimServer) -> Iterator[Client]:
    with requests.Session() as session:
        yield Client(sim.api_url, sim.api_key, session)


@pytest.fixture(scope="session")
def ssh_keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(private key path, public key text)"""
    directory = tmp_path_factory.mktemp("ssh")
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sim-tests", "-f", str(key)], check=True)
    return key, (directory / "id_ed25519.pub").read_text().strip()


@pytest.fixture(scope="session")
def other_keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("ssh-other")
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sim-tests-other", "-f", str(key)],
                   check=True)
    return key, (directory / "id_ed25519.pub").read_text().strip()
