"""A timeline of one event's way to its create: when each API call of the key reached clore-sim (its counters, read
every few hundredths of a second through the admin API, which counts in no key's limit) and when the playbook's
play and tasks began (their lines in the rulebook's log), in seconds from the moment the test made the event."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from clore_sim.testing import SimServer

from .rulebook import Rulebook

STEP = 0.05
_HEADER = re.compile(r"^(PLAY|TASK) \[(.*?)\]", re.MULTILINE)


@dataclass
class Mark:
    at: float  # seconds after the event
    what: str  # "api <endpoint>" or "play <name>" / "task <name>"


@dataclass
class Trace:
    """Started just before the event is made (`start`), stopped once the create is seen (`stop`)."""

    sim: SimServer
    rulebook: Rulebook
    marks: list[Mark] = field(default_factory=list)
    _started: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _counts: dict[str, int] = field(default_factory=dict)
    _refused: int = 0
    _log_seen: int = 0

    def start(self) -> float:
        """Begin the timeline; its zero, on time.monotonic()."""
        counters = self.sim.counters()
        self._counts = dict(counters["requests"])
        self._refused = counters["rate_limited"]
        self._log_seen = len(self.rulebook.log)
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="eda-trace", daemon=True)
        self._thread.start()
        return self._started

    def stop(self) -> list[Mark]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._look()
        return sorted(self.marks, key=lambda mark: mark.at)

    def first(self, what: str, after: float = 0.0) -> float | None:
        """When `what` was first seen at or after `after` seconds."""
        return next((m.at for m in sorted(self.marks, key=lambda m: m.at) if m.what == what and m.at >= after), None)

    def calls_between(self, start: float, end: float) -> list[str]:
        """The API calls seen after `start` and before `end`, in order."""
        return [m.what[4:] for m in sorted(self.marks, key=lambda m: m.at) if m.what.startswith("api ")
                and start < m.at < end]

    def text(self) -> str:
        return "\n".join(f"  {mark.at:7.2f} s  {mark.what}" for mark in sorted(self.marks, key=lambda m: m.at))

    def _watch(self) -> None:
        while not self._stop.wait(STEP):
            self._look()

    def _look(self) -> None:
        at = round(time.monotonic() - self._started, 2)
        counters = self.sim.counters()
        for endpoint, count in sorted(counters["requests"].items()):
            for _new in range(count - self._counts.get(endpoint, 0)):
                self.marks.append(Mark(at, f"api {endpoint}"))
        for _new in range(counters["rate_limited"] - self._refused):
            self.marks.append(Mark(at, "429 (one of the calls above was refused)"))
        self._counts, self._refused = dict(counters["requests"]), counters["rate_limited"]
        log = self.rulebook.log
        complete = max(self._log_seen, log.rfind("\n") + 1)  # a line still being written: at the next look
        for match in _HEADER.finditer(log, self._log_seen, complete):
            self.marks.append(Mark(at, f"{match.group(1).lower()} {match.group(2)}"))
        self._log_seen = complete
