"""Per-test CPU seconds, for weighing the suite's cost on a shared machine where wall time is noise.

`pytest --cpu-report=N` prints the N tests that used the most CPU: the pytest process's own (user + system) and that
of every child process it waited for during the test (ansible-playbook and its forks, clore-sim and its sshd servers,
ssh), setup and teardown included. A session-scoped fixture's cost lands on the first test that used it. The figures
travel from pytest-xdist workers as user properties; `--cpu-report-file=PATH` also writes them all as JSON.
"""
from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

CPU_KEY = "cpu_seconds"
_START = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cpu time")
    group.addoption("--cpu-report", type=int, default=0, metavar="N",
                    help="print the N tests that used the most CPU seconds (own + waited-for children)")
    group.addoption("--cpu-report-file", default=None, metavar="PATH",
                    help="write every test's CPU seconds (and wall seconds) as JSON to PATH")


def cpu_seconds() -> float:
    """User + system seconds of this process and of every child process it has waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    item.stash[_START] = cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # The teardown report, made once the test's fixtures are gone, carries the whole test's figure.
    if call.when == "teardown" and _START in item.stash:
        item.user_properties.append((CPU_KEY, round(cpu_seconds() - item.stash[_START], 3)))
    yield


class CpuReport:
    """Collects the figures on the controller (xdist or not) and prints the heaviest at the end."""

    def __init__(self, top: int, path: str | None) -> None:
        self.top = top
        self.path = path
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.wall[report.nodeid] = self.wall.get(report.nodeid, 0.0) + report.duration
        for key, value in report.user_properties:
            if key == CPU_KEY:
                self.cpu[report.nodeid] = value

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.path:
            Path(self.path).write_text(json.dumps(
                {node: {"cpu": cpu, "wall": round(self.wall.get(node, 0.0), 3)} for node, cpu in self.cpu.items()},
                indent=1, sort_keys=True))
        if not self.top:
            return
        heaviest = sorted(self.cpu.items(), key=lambda pair: -pair[1])[: self.top]
        terminalreporter.write_sep("=", f"CPU seconds: the {len(heaviest)} heaviest of {len(self.cpu)} tests "
                                        f"(all: {sum(self.cpu.values()):.1f} s)")
        for node, cpu in heaviest:
            terminalreporter.write_line(f"{cpu:8.1f} cpu {self.wall.get(node, 0.0):8.1f} wall  {node}")


def pytest_configure(config: pytest.Config) -> None:
    top, path = config.getoption("--cpu-report"), config.getoption("--cpu-report-file")
    if (top or path) and not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        config.pluginmanager.register(CpuReport(top, path), "cpu-report")
