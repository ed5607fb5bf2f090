"""Suite-wide plumbing, for every test (unit, simulator, integration) and every pytest-xdist worker.

- A private HOME per pytest process: what Ansible, ansible-galaxy or the collection write under ~ (~/.ansible/tmp,
  ~/.ansible/cp, ~/.cache/clore.ai, galaxy caches) lands in a temporary directory removed at the end, never in the
  user's home, and parallel workers share nothing there.
- Scheduling, longest first: with `-n N` the long tests start at once and the many short ones fill the gaps at the
  end; each test's length from the last run that timed it, else guessed from its kind (tests/schedule.py).
- A backstop: a clore-sim that a test started and left running (a failure between start() and a try/finally) is
  stopped after the test, with the sshd servers of its orders. The simulator is looked at only once a test has
  imported it: the unit tests run without clore-sim installed.
- Cost: `--cpu-report=N` prints the N tests that used the most CPU seconds (tests/cpu_time.py).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator

import pytest

from tests import schedule

pytest_plugins = ("tests.cpu_time",)  # --cpu-report

_HOME = pytest.StashKey[tuple[str, dict[str, str | None]]]()


def pytest_configure(config: pytest.Config) -> None:
    # A short path under /tmp: ssh's control sockets live under ~/.ansible/cp, and a socket path has at most 107 bytes.
    home = tempfile.mkdtemp(prefix="clore-home-", dir="/tmp")
    config.stash[_HOME] = (home, {name: os.environ.get(name) for name in ("HOME", "XDG_CACHE_HOME")})
    os.environ["HOME"] = home
    os.environ["XDG_CACHE_HOME"] = os.path.join(home, ".cache")
    schedule.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_HOME, None)
    if saved is None:
        return
    home, previous = saved
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(home, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    schedule.order(config, items)


@pytest.fixture(autouse=True)
def _stop_leaked_simulators() -> Iterator[None]:
    """Runs around every test, outside its function-scoped fixtures: stops each clore-sim started during the test and
    still running after the test's own teardown."""
    before = _running_simulators()
    yield
    for server in _running_simulators() - before:
        warnings.warn(f"a test left clore-sim running (state dir {server.state_dir}); stopped", stacklevel=1)
        server.stop()


def _running_simulators() -> set:
    """The clore-sims running in this process; none before any test imported clore_sim.testing."""
    testing = sys.modules.get("clore_sim.testing")
    return testing.SimServer.running() if testing is not None else set()
