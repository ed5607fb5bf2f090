"""Fixtures for integration tests: a fresh clore-sim per test and an environment for real Ansible runs.

clore-sim runs at its own defaults, the strictest shapes a real client met: a create's 5 s counted from any request
(--create-spacing any), 429 answers without Retry-After (--retry-after none), orders' mrl in hours. A test whose
answers depend on how marketplace rows carry prices (dollar figures, currencies, rate lookups) is marked
`@pytest.mark.price_shapes` and runs once per --price-shape, expecting the same dollar prices whatever the shape
(tests/integration/usd_oracle.py); every other test runs once, at clore-sim's default shape. A test may ask for
other options by overriding the `sim_options` fixture."""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clore_sim.price_shapes import PRICE_SHAPES
from clore_sim.testing import SimServer

from .playbook import base_env

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = Path(sys.prefix) / "collections"  # the running virtualenv's (.venv or .venv-latest)
PLAYBOOKS = REPO / "playbooks"
# The head of a play run on the controller with the Python that runs ansible-playbook (so that discovery never picks
# another interpreter): local_play writes the tasks under it.
LOCAL_PLAY_HEAD = """\
- name: {name}
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "price_shapes: the test's answers depend on how marketplace rows carry prices; "
                                       "it runs once per clore-sim --price-shape")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("price_shapes"):
        assert "price_shape" in metafunc.fixturenames, f"{metafunc.definition.nodeid}: marked price_shapes, no sim"
        metafunc.parametrize("price_shape", PRICE_SHAPES, indirect=True)


@pytest.fixture
def price_shape(request: pytest.FixtureRequest) -> str | None:
    """How the marketplace rows carry prices (clore-sim --price-shape); None: clore-sim's default."""
    return getattr(request, "param", None)


@pytest.fixture
def sim_options(price_shape: str | None) -> dict:
    """SimServer's keyword arguments for the `sim` fixture (override it to ask for other clore-sim options)."""
    return {"price_shape": price_shape}


@pytest.fixture
def sim(tmp_path: Path, sim_options: dict) -> Iterator[SimServer]:
    """A clore-sim of its own for one test: no rate limits, no listing or provisioning delays."""
    with SimServer(tmp_path / "sim-state", **sim_options) as server:
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


@pytest.fixture
def local_play(tmp_path: Path) -> Callable[[str, str], Path]:
    """local_play(name, tasks) -> a playbook file in tmp_path: one play called `name`, on localhost with the local
    connection, whose task list is `tasks` (YAML indented by four spaces, as under `tasks:`; play keys such as
    `handlers:` may follow it)."""

    def write(name: str, tasks: str) -> Path:
        path = tmp_path / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".yml")
        path.write_text(LOCAL_PLAY_HEAD.format(name=name) + tasks.lstrip("\n"))
        return path

    return write
