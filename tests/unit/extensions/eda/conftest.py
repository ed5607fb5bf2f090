"""Fixtures of the event source tests (see eda_fakes.py)."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests

from eda_fakes import API_KEY, API_URL, Clock, RoutedAdapter, load_source


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> RoutedAdapter:
    adapter = RoutedAdapter()
    original = requests.Session.get_adapter

    def get_adapter(session, url):
        return adapter if url.startswith(API_URL) else original(session, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
    return adapter


@pytest.fixture
def run_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """run_source(name, args, polls) -> (events, waits): the source run for `polls` polls, then cancelled."""
    from ansible_collections.clore.ai.plugins.module_utils import event_source

    def run(name: str, args: dict, polls: int) -> tuple[list[dict], list[float]]:
        source = load_source(name)
        clock = Clock()
        clock.polls = polls
        monkeypatch.setattr(event_source, "_sleep", clock.sleep)
        arguments = {"api_url": API_URL, "api_key": API_KEY, "api_request_interval": 0,
                     "api_state_dir": str(tmp_path / "state"), "api_retry_timeout": 0, **args}

        async def scenario() -> list[dict]:
            queue: asyncio.Queue = asyncio.Queue()
            task = asyncio.create_task(source.main(queue, arguments))
            reached = asyncio.create_task(clock.reached.wait())
            done, _pending = await asyncio.wait({task, reached}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            reached.cancel()
            if task in done:
                task.result()  # raises what stopped the source
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return [queue.get_nowait() for _index in range(queue.qsize())]

        events = asyncio.run(scenario())
        return events, clock.waits

    return run
