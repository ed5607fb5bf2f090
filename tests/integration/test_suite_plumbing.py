"""The suite's own plumbing (tests/schedule.py, tests/cpu_time.py): the order tests run in, and the CPU seconds a
test is charged with."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests import cpu_time, schedule

TESTS = Path(schedule.__file__).resolve().parent


@dataclass
class FakeItem:
    nodeid: str
    path: Path
    fixturenames: tuple[str, ...] = ()
    slow: bool = False

    def get_closest_marker(self, name: str):
        return object() if name == "slow" and self.slow else None


def item(name: str, suite: str, *, ssh: bool = False, slow: bool = False) -> FakeItem:
    return FakeItem(name, TESTS / suite / "test_x.py", ("ssh_keypair",) if ssh else (), slow)


@dataclass
class FakeReport:
    nodeid: str
    duration: float
    skipped: bool = False
    user_properties: list = field(default_factory=list)


def names(items) -> list[str]:
    return [i.nodeid for i in items]


def test_without_timings_the_kind_decides_slow_first_unit_last():
    items = [item("unit", "unit"), item("sim", "simulator"), item("int", "integration"),
             item("int-ssh", "integration", ssh=True), item("demo", "integration", slow=True),
             item("sim-ssh", "simulator", ssh=True), item("unit2", "unit")]
    schedule.longest_first(items, {})
    assert names(items) == ["demo", "int-ssh", "sim-ssh", "int", "sim", "unit", "unit2"]


def test_timed_tests_run_longest_first_and_an_untimed_one_counts_as_its_kinds_median():
    items = [item("unit", "unit"), item("int-a", "integration"), item("int-b", "integration"),
             item("int-new", "integration"), item("demo", "integration", slow=True), item("int-c", "integration")]
    durations = {"unit": 0.1, "int-a": 10.0, "int-b": 200.0, "int-c": 30.0, "demo": 150.0}
    schedule.longest_first(items, durations)
    # int-new: the median of int-a, int-b, int-c (30 s), a tie with int-c that the collection order breaks.
    assert names(items) == ["int-b", "demo", "int-new", "int-c", "int-a", "unit"]


def test_the_last_runs_durations_win_over_the_shipped_ones(tmp_path, monkeypatch):
    shipped = tmp_path / "durations.json"
    shipped.write_text(json.dumps({"a": 100, "b": 50, "bad": "long"}))
    monkeypatch.setattr(schedule, "SHIPPED", shipped)
    assert schedule.known_durations({"b": 7.5, "c": 3.0}) == {"a": 100.0, "b": 7.5, "c": 3.0}
    assert schedule.known_durations(None) == {"a": 100.0, "b": 50.0}
    shipped.write_text("not json")
    assert schedule.known_durations({"c": 3.0}) == {"c": 3.0}


def test_the_shipped_durations_name_tests_that_exist():
    data = json.loads(schedule.SHIPPED.read_text())
    assert len(data) >= 50 and all(seconds >= schedule.SHIPPED_MIN for seconds in data.values())
    missing = [node for node in data if not schedule.still_defined(node)]
    assert not schedule.still_defined("tests/unit/test_gone.py::test_gone")
    assert not missing, f"tests/durations.json names tests that are gone (python -m tests.schedule): {missing}"


def test_durations_add_up_the_phases_keep_older_ones_and_ignore_skipped_tests():
    reports = [FakeReport("a", 1.0), FakeReport("a", 2.5), FakeReport("a", 0.5),
               FakeReport("s", 0.01, skipped=True), FakeReport("s", 0.0)]
    assert schedule.merged({"old": 7.0, "a": 99.0, "s": 12.0}, reports) == {"old": 7.0, "a": 4.0, "s": 12.0}


def test_cpu_seconds_count_a_child_process_that_was_waited_for():
    before = cpu_time.cpu_seconds()
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                    "while time.process_time() < end: pass"], check=True)
    assert cpu_time.cpu_seconds() - before >= 0.25


class FakeTerminal:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, _sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_the_report_lists_the_heaviest_tests_and_writes_every_figure(tmp_path):
    report = cpu_time.CpuReport(top=1, path=str(tmp_path / "cpu.json"))
    for node, wall, cpu in (("light", 1.0, 0.5), ("heavy", 2.0, 9.0)):
        report.pytest_runtest_logreport(FakeReport(node, wall / 2))
        report.pytest_runtest_logreport(FakeReport(node, wall / 2, user_properties=[(cpu_time.CPU_KEY, cpu)]))
    terminal = FakeTerminal()
    report.pytest_terminal_summary(terminal)
    assert terminal.lines == ["CPU seconds: the 1 heaviest of 2 tests (all: 9.5 s)",
                              "     9.0 cpu      2.0 wall  heavy"]
    assert json.loads((tmp_path / "cpu.json").read_text()) == {"heavy": {"cpu": 9.0, "wall": 2.0},
                                                               "light": {"cpu": 0.5, "wall": 1.0}}


def test_no_report_is_printed_unless_asked():
    report = cpu_time.CpuReport(top=0, path=None)
    report.pytest_runtest_logreport(FakeReport("a", 1.0, user_properties=[(cpu_time.CPU_KEY, 1.0)]))
    terminal = FakeTerminal()
    report.pytest_terminal_summary(terminal)
    assert terminal.lines == []
