"""What every source shares: loaded as ansible-rulebook loads it, stopped cleanly, its arguments and back-off."""
from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils import event_source
from ansible_collections.clore.ai.plugins.module_utils.event_source import (
    GIVE_WAY_MAX,
    GIVE_WAY_STEP,
    MIN_INTERVAL,
    backoff_delay,
    check_args,
    error_event,
    give_way,
    in_thread,
    poll_timing,
)

from eda_fakes import API_KEY, API_URL, load_source

COLLECTIONS = Path(sys.prefix) / "collections"


@pytest.mark.parametrize("name", ["market", "orders"])
def test_ansible_rulebook_loading_finds_the_collections_module_utils(name, tmp_path):
    """ansible-rulebook runs a source file with runpy.run_path, with no collection on sys.path."""
    source = COLLECTIONS / f"ansible_collections/clore/ai/extensions/eda/plugins/event_source/{name}.py"
    code = ("import runpy, sys\n"
            "assert not any(p.endswith('collections') for p in sys.path), sys.path\n"
            f"module = runpy.run_path({str(source)!r})\n"
            "assert callable(module['main']) and module['DOCUMENTATION'] and module['EXAMPLES']\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name", ["market", "orders"])
def test_a_source_cancelled_during_a_call_stops_at_once(name, api, tmp_path):
    api.gate = threading.Event()  # every request hangs until released
    source = load_source(name)
    closed = []

    async def scenario() -> None:
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.create_task(source.main(queue, {"api_url": API_URL, "api_key": API_KEY, "interval": 2,
                                                       "api_state_dir": str(tmp_path), "api_request_interval": 0}))
        while not api.sent:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 60)  # a hung source fails here instead of hanging the suite
        assert queue.empty()
        closed.extend(t for t in threading.enumerate() if t.name == "clore-event-source-poll")

    try:
        asyncio.run(scenario())
    finally:
        api.gate.set()
    assert closed and all(t.daemon for t in closed)  # the abandoned call never holds the process up


def test_in_thread_hands_back_the_result_and_the_error():
    async def scenario() -> tuple:
        result = await in_thread(lambda: 42)
        with pytest.raises(ZeroDivisionError):
            await in_thread(lambda: 1 / 0)
        return (result,)

    assert asyncio.run(scenario()) == (42,)


def test_backoff_doubles_from_the_interval_up_to_the_cap():
    assert [backoff_delay(n, 5, 60) for n in range(7)] == [5, 10, 20, 40, 60, 60, 60]
    assert backoff_delay(10_000, 2, 300) == 300


def test_poll_timing_defaults_and_rules():
    assert poll_timing({}) == (60.0, 300.0)
    assert poll_timing({"interval": MIN_INTERVAL}) == (2.0, 300.0)
    assert poll_timing({"interval": 600}) == (600.0, 600.0)
    for args, named in (({"interval": 1.99}, "interval"), ({"interval": True}, "interval"),
                        ({"interval": float("inf")}, "interval"), ({"interval": 5, "backoff_max": 4}, "backoff_max")):
        with pytest.raises(CloreConfigError, match=f"{named} must") as caught:
            poll_timing(args)
        assert caught.value.option == named


def test_check_args_names_what_it_does_not_know():
    assert check_args(None, {"gpu"}) == {}
    assert check_args({"gpu": ["A100"], "interval": 5, "api_key": "x"}, {"gpu"})["gpu"] == ["A100"]
    with pytest.raises(CloreConfigError, match="unknown argument.*gpus.*the arguments are") as caught:
        check_args({"gpus": ["A100"]}, {"gpu"})
    assert caught.value.option == "gpus"
    with pytest.raises(CloreConfigError, match="mapping"):
        check_args(["gpu"], {"gpu"})


def test_an_error_event_says_what_failed_and_scrubs_the_key():
    err = CloreApiError(f"Clore.ai API wallets: refused ({API_KEY})", endpoint="wallets", http_status=403, code=6,
                        reason=f"bad key {API_KEY}")
    event = error_event("orders", err, 1, 8.0, f" {API_KEY} ")
    assert event == {"type": "orders_error", "message": "Clore.ai API wallets: refused (<api_key>)", "retry_in": 8.0,
                     "failures": 1, "endpoint": "wallets", "http_status": 403, "code": 6,
                     "reason": "bad key <api_key>"}
    unexpected = error_event("market", KeyError(API_KEY), 1, 2.0, API_KEY)
    assert unexpected["message"] == "KeyError: the poll failed unexpectedly" and API_KEY not in str(unexpected)


def test_an_unexpected_failure_is_logged_for_debugging_without_the_key(api, run_source, caplog):
    api.script["marketplace"] = [ValueError(f"odd failure near {API_KEY}")]
    with caplog.at_level("DEBUG"):
        events, _waits = run_source("market", {"interval": 2}, 1)
    assert [e["type"] for e in events] == ["market_error"]
    assert "Traceback" in caplog.text and "odd failure near <api_key>" in caplog.text
    assert API_KEY not in caplog.text


def _record_sleeps(monkeypatch: pytest.MonkeyPatch, stop_after: int | None = None) -> list[float]:
    """The source's waits, recorded; with `stop_after`, the wait after that many cancels the source."""
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        if stop_after is not None and len(sleeps) >= stop_after:
            raise asyncio.CancelledError
        sleeps.append(seconds)

    monkeypatch.setattr(event_source, "_sleep", sleep)
    return sleeps


def test_give_way_waits_while_another_process_calls_and_no_longer(monkeypatch):
    sleeps = _record_sleeps(monkeypatch)
    answers = iter([True, True, False, True])
    assert asyncio.run(give_way(lambda: next(answers), 10.0)) == pytest.approx(2 * GIVE_WAY_STEP)
    assert sleeps == [GIVE_WAY_STEP, GIVE_WAY_STEP]


def test_give_way_never_waits_more_than_its_bound_nor_on_a_broken_state_dir(monkeypatch):
    sleeps = _record_sleeps(monkeypatch)
    assert asyncio.run(give_way(lambda: True, 0.6)) == pytest.approx(0.6)  # a key busy for ever: the source goes on
    assert sum(sleeps) == pytest.approx(0.6)
    sleeps.clear()

    def broken() -> bool:
        raise OSError("read-only file system")

    assert asyncio.run(give_way(broken, 5.0)) == 0.0
    assert sleeps == []


def test_a_source_gives_way_after_each_poll_while_the_key_is_busy(monkeypatch):
    step = GIVE_WAY_STEP
    bound = int(GIVE_WAY_MAX / step)
    expected = [2.0, step, 2.0, 2.0] + [step] * bound  # busy once; free at once; busy past the bound
    sleeps = _record_sleeps(monkeypatch, stop_after=len(expected))
    busy = iter([True, False, False] + [True] * (bound + 1))
    polls: list[int] = []

    def poll() -> list[dict]:
        polls.append(len(polls))
        return []

    async def scenario() -> None:
        await event_source.run_source(asyncio.Queue(), "market", poll, 2.0, 60.0, logging.getLogger("t"),
                                      busy=lambda: next(busy))

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    assert sleeps == pytest.approx(expected)
    assert len(polls) == 4  # the fourth poll came after the bound, the key still busy


@pytest.mark.parametrize("name", ["market", "orders"])
def test_each_source_gives_way_to_the_other_processes_of_its_key(name, monkeypatch, tmp_path):
    seen = {}

    async def fake_run_source(queue, kind, poll, interval, backoff_max, logger, close=None, secret=None, busy=None):
        seen["busy"] = busy

    monkeypatch.setattr(event_source, "run_source", fake_run_source)
    source = load_source(name)
    args = {"api_url": API_URL, "api_key": API_KEY, "api_state_dir": str(tmp_path), "api_request_interval": 1.0}
    asyncio.run(source.main(asyncio.Queue(), args))
    assert callable(seen["busy"]) and seen["busy"]() is False  # nobody else has called with this key
