"""Helpers of the event source tests: running a source as ansible-rulebook does - `main(queue, args)` - on a simulated clock, against answers
routed by endpoint (the one function replaced is requests' Session.get_adapter; the client, its retries, the rate
limiter, the source's arguments and environment variables are the real ones)."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

REPO = Path(__file__).resolve().parents[4]
SOURCES = REPO / "extensions/eda/plugins/event_source"
REAL = REPO / "tests/contract/fixtures/real"
API_URL = "http://clore.test/v1"
API_KEY = "eda-unit-test-key-0123456789"


def load_source(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"clore_eda_source_{name}", SOURCES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real(name: str) -> dict:
    return json.loads((REAL / name).read_text())


@dataclass
class RoutedAdapter(BaseAdapter):
    """Answers each endpoint with the next of its scripted answers: (status, body) or an exception to raise;
    an endpoint whose script is used up answers its last entry again. `gate`, when set, holds every request."""

    script: dict[str, list[Any]] = field(default_factory=dict)
    sent: list[tuple[str, str, dict]] = field(default_factory=list)
    gate: threading.Event | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        endpoint = request.path_url.split("?")[0].rsplit("/", 1)[-1]
        self.sent.append((request.method, request.path_url, dict(request.headers)))
        if self.gate is not None:
            self.gate.wait()
        answers = self.script.get(endpoint)
        if not answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        status, payload = answer
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url
        response._content = json.dumps(payload).encode() if isinstance(payload, (dict, list)) else payload.encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response._content_consumed = True  # iter_content (the streamed marketplace) reads _content
        return response

    def endpoints(self) -> list[str]:
        return [path.split("?")[0].rsplit("/", 1)[-1] for _method, path, _headers in self.sent]

    def close(self) -> None:
        pass


class Clock:
    """The source's waits between polls, recorded; after `polls` waits the source is held until cancelled."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.polls = 0
        self.reached = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self.polls:
            self.reached.set()
            await asyncio.Event().wait()  # held: the test cancels the source
        await asyncio.sleep(0)
