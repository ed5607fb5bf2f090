"""How long rewriting a small state file takes while the disk is busy: in place (as the rate limiter and the state
records do) against the old way, cut to empty then written (which ext4 flushes on close).

The rate limiter records a call's departure, then writes and closes its file, then the call is sent: every
millisecond of that close lies between the departure other processes go by and the request reaching the service.
A child process keeps the disk busy (large writes that the kernel flushes as it goes) beside the measurements.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".venv" / "collections"))

from ansible_collections.clore.ai.plugins.module_utils.records import overwrite  # noqa: E402

SAMPLES = 300
PAUSE = 0.02
CHUNK = 4 << 20
FILE_SIZE = 256 << 20
# The in-place write should stay far below the 20 ms the limiter adds to every interval (SAFETY_MARGIN).
TARGET_MAX_MS = 20.0
# In the checkout, on the disk the controller's state directory usually shares, not on a tmpfs /tmp.
BUILD = Path(__file__).resolve().parents[2] / "build"


def _keep_disk_busy(path: str, stop) -> None:
    block = os.urandom(CHUNK)
    while not stop.is_set():
        with open(path, "wb") as out:
            for written in range(0, FILE_SIZE, CHUNK):
                out.write(block)
                if stop.is_set():
                    break


def _rewrite(path: Path, data: bytes, in_place: bool) -> float:
    started = time.perf_counter()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.read(fd, 65536)
        if in_place:
            overwrite(fd, data)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
    finally:
        os.close(fd)
    return time.perf_counter() - started


def _figures(name: str, times: list[float]) -> list[dict]:
    times = sorted(times)
    worst = times[-1] * 1000
    rows = [
        {"benchmark": "state_write", "metric": f"{name} median", "value": times[len(times) // 2] * 1000, "unit": "ms",
         "target": "", "ok": None},
        {"benchmark": "state_write", "metric": f"{name} p99", "value": times[int(len(times) * 0.99)] * 1000,
         "unit": "ms", "target": "", "ok": None},
    ]
    in_place = name == "in place"
    rows.append({"benchmark": "state_write", "metric": f"{name} max", "value": worst, "unit": "ms",
                 "target": f"< {TARGET_MAX_MS:g}" if in_place else "", "ok": worst < TARGET_MAX_MS if in_place else None})
    return rows


def run() -> list[dict]:
    data = json.dumps({"request": {"next": time.time(), "last": time.time(), "hold": 0.0,
                                   "waiters": {"1234-abcd": time.time()}}}).encode()
    BUILD.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        stop = multiprocessing.Event()
        writer = multiprocessing.Process(target=_keep_disk_busy, args=(os.path.join(tmp, "busy.bin"), stop))
        writer.start()
        try:
            time.sleep(1.0)  # let dirty pages pile up
            results: dict[str, list[float]] = {"in place": [], "cut to empty first": []}
            for _sample in range(SAMPLES):
                results["in place"].append(_rewrite(Path(tmp, "a.json"), data, True))
                results["cut to empty first"].append(_rewrite(Path(tmp, "b.json"), data, False))
                time.sleep(PAUSE)
        finally:
            stop.set()
            writer.join(30)
            if writer.is_alive():
                writer.kill()
    return [row for name, times in results.items() for row in _figures(name, times)]
