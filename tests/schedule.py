"""The order tests run in: the longest first, so that with `-n N` the long ones start at once and the many short ones
fill the gaps at the end.

A test's length is what it took in the last run that ran it (pytest's cache, under DURATIONS_KEY; `make test` keeps
it in .pytest_cache/), else what it took in the `make test` SHIPPED was written from (the tests of SHIPPED_MIN
seconds or more: a clean clone's first run starts its long tests first too). A test timed by neither is guessed from
its kind (RANKS): slow tests, then tests that rent servers reached over SSH (integration, then simulator), the other
integration tests, the other simulator tests, the unit tests; it counts as long as the median of the timed tests of
its kind. Without any timing, the kinds alone decide.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from statistics import median

import pytest

TESTS = Path(__file__).resolve().parent
DURATIONS_KEY = "clore-ai/durations"
SHIPPED = TESTS / "durations.json"
SHIPPED_MIN = 5.0
# (suite, rents servers with SSH) -> rank; later ranks run later, `slow` tests (rank 0) first.
RANKS = {("integration", True): 1, ("simulator", True): 2, ("integration", False): 3, ("simulator", False): 4,
         ("unit", True): 5, ("unit", False): 5}
LAST = 6
SSH_FIXTURES = {"ssh_keypair", "rent_hosts"}


def rank(item: pytest.Item) -> int:
    """The guess from the test's kind: 0 (slow) .. LAST."""
    if item.get_closest_marker("slow"):
        return 0
    try:
        suite = item.path.resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return LAST
    uses_ssh = bool(SSH_FIXTURES & set(getattr(item, "fixturenames", ())))
    return RANKS.get((suite, uses_ssh), LAST)


def longest_first(items: list[pytest.Item], durations: Mapping[str, float]) -> None:
    """Sort `items` in place: the longest known or estimated first; ties (and no timings at all) by kind, then in
    collection order."""
    ranks = {item.nodeid: rank(item) for item in items}
    by_rank: dict[int, list[float]] = {}
    for item in items:
        if item.nodeid in durations:
            by_rank.setdefault(ranks[item.nodeid], []).append(durations[item.nodeid])
    typical = {kind: median(seconds) for kind, seconds in by_rank.items()}

    def estimate(item: pytest.Item) -> float:
        return durations.get(item.nodeid, typical.get(ranks[item.nodeid], 0.0))

    items.sort(key=lambda item: (-estimate(item), ranks[item.nodeid]))  # stable: collection order within ties


def merged(previous: Mapping[str, float], reports: Iterable[pytest.TestReport]) -> dict[str, float]:
    """The cached durations updated with this run's: each test's setup + call + teardown seconds (skipped ones are
    left as they were: their time says nothing)."""
    now: dict[str, float] = {}
    skipped = set()
    for report in reports:
        now[report.nodeid] = now.get(report.nodeid, 0.0) + report.duration
        if report.skipped:
            skipped.add(report.nodeid)
    updated = dict(previous)
    updated.update({node: round(seconds, 2) for node, seconds in now.items() if node not in skipped})
    return updated


class DurationRecorder:
    """On the controller (or a run without xdist): keeps this run's durations in the cache for the next run."""

    def __init__(self, cache: pytest.Cache) -> None:
        self.cache = cache
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)

    def pytest_sessionfinish(self) -> None:
        if self.reports:
            self.cache.set(DURATIONS_KEY, merged(self.cache.get(DURATIONS_KEY, {}), self.reports))


def configure(config: pytest.Config) -> None:
    cache = getattr(config, "cache", None)
    if cache is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(cache), "clore-durations")


def shipped() -> dict[str, float]:
    """The durations kept in the checkout (SHIPPED), or none when the file is missing or unreadable."""
    try:
        data = json.loads(SHIPPED.read_text())
    except (OSError, ValueError):
        return {}
    return {node: float(seconds) for node, seconds in data.items() if isinstance(seconds, (int, float))} \
        if isinstance(data, dict) else {}


def known_durations(cached: object) -> dict[str, float]:
    """What each test took: the last run's (pytest's cache), else SHIPPED's."""
    return shipped() | (dict(cached) if isinstance(cached, dict) else {})


def order(config: pytest.Config, items: list[pytest.Item]) -> None:
    cache = getattr(config, "cache", None)
    longest_first(items, known_durations(cache.get(DURATIONS_KEY, {}) if cache is not None else {}))


def still_defined(node: str) -> bool:
    """Whether the test `node` names is still defined (its file holds its function); the cache keeps gone ones."""
    path, name = node.split("::")[0], node.split("::")[-1].split("[")[0]
    source = TESTS.parent / path
    return source.is_file() and f"def {name}(" in source.read_text()


def write_shipped(cached: Mapping[str, float]) -> dict[str, float]:
    """SHIPPED rewritten from a run's cached durations: the tests of SHIPPED_MIN seconds or more, whole seconds."""
    kept = {node: round(seconds) for node, seconds in sorted(cached.items())
            if seconds >= SHIPPED_MIN and still_defined(node)}
    SHIPPED.write_text(json.dumps(kept, indent=1) + "\n")
    return kept


if __name__ == "__main__":
    # python -m tests.schedule: SHIPPED from the durations of the last `make test` (on the quiet machine, please).
    CACHE = TESTS.parent / ".pytest_cache" / "v" / DURATIONS_KEY
    print(f"{len(write_shipped(json.loads(CACHE.read_text())))} tests written to {SHIPPED}")
