"""Fixtures for the rulebook tests: ansible-rulebook's environment (Java, ansible-galaxy on PATH) on top of
`ansible_env`, and a clore-sim kept small and on a fixed port, so that the sources' api_url holds across a restart."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from clore_sim.testing import SimServer

from .rulebook import Rulebook

INTERVAL = 2  # the sources' poll interval in every test: the least they accept
CREATE_SPACING = 5  # clore-sim's create_order spacing, as the real API's
RETRY_TIMEOUT = 10  # the sources' (and playbooks') retries of one call: above a create's wait behind the limiter
PLAYBOOK_END = 120  # seconds a playbook under way when the engine stops may take to end


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sim_options() -> dict:
    # A small market (fast polls), the real create spacing; `--port` after SimServer's own `--port 0` wins.
    return {"servers": 12, "create_interval": CREATE_SPACING, "extra_args": ["--port", str(free_port())]}


@pytest.fixture
def rulebook_env(ansible_env: dict[str, str], sim: SimServer, tmp_path: Path) -> dict[str, str]:
    env = dict(ansible_env)
    # ansible-rulebook's run_playbook writes each run's files under a new /tmp/eda* directory and leaves it when it is
    # stopped: under the test's own directory instead, which pytest removes.
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")
    # The source and the playbooks it starts share the key's limiter at the real API's spacing (1 request/s, one
    # create per 5 s after any request): with a request interval of 0 the sources' reads would not count, and
    # clore-sim would refuse every create that follows a poll within 5 s.
    env["CLORE_API_REQUEST_INTERVAL"] = "1"
    env["CLORE_API_CREATE_INTERVAL"] = str(CREATE_SPACING)
    # A call fails after RETRY_TIMEOUT seconds of retries (default 30), so that an outage is told within the test.
    env["CLORE_API_RETRY_TIMEOUT"] = str(RETRY_TIMEOUT)
    return env


@pytest.fixture
def start_rulebook(rulebook_env: dict[str, str], tmp_path: Path) -> Iterator:
    """start_rulebook(name, variables) -> a running Rulebook; each is stopped afterwards, and must leave nothing."""
    started: list[Rulebook] = []

    def start(name: str, variables: dict) -> Rulebook:
        rulebook = Rulebook(name, rulebook_env, tmp_path / "eda", variables)
        started.append(rulebook)
        rulebook.start()
        return rulebook

    yield start
    for rulebook in started:
        rulebook.stop()
        # A playbook the engine started before it was stopped runs to its end (a create is never cut in half).
        assert rulebook.wait_for_leftovers(PLAYBOOK_END) == [], f"still running: {rulebook.leftovers()}"
