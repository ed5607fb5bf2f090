"""Shared unit-test plumbing.

The collection is imported as ansible_collections.clore.ai through the link under .venv/collections. The client
tests talk to a scripted requests transport adapter (mounted on the client's own session, so the real requests
machinery builds every request and response) and a simulated clock for the retry loop.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

COLLECTIONS = Path(sys.prefix) / "collections"  # the running virtualenv's (.venv or .venv-latest): a link to here
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def _install_collection_loader() -> None:
    """Make `clore.ai.*` names (plugins, doc fragments, module_utils) resolvable as they are under ansible.

    Installed before any test imports the collection: a package imported by plain path before the loader is installed
    has no collection metadata, and the loader then refuses its subpackages."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    if not any(type(finder).__name__ == "_AnsibleCollectionFinder" for finder in sys.meta_path):
        _AnsibleCollectionFinder(paths=[str(COLLECTIONS)], scan_sys_paths=False)._install()


_install_collection_loader()
# order_fakes.py serves the order tests both beside it and in _order/ below it.
ORDER_FAKES = Path(__file__).resolve().parent / "plugins" / "module_utils"
if str(ORDER_FAKES) not in sys.path:
    sys.path.insert(0, str(ORDER_FAKES))


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAdapter(BaseAdapter):
    """Answers each request with the next scripted answer: (status, body, headers) or an exception to raise."""

    script: list[Any] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body
        if isinstance(body, bytes):
            body = body.decode()
        self.sent.append(Sent(request.method, request.url, dict(request.headers),
                              json.loads(body) if body else None))
        if not self.script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        status, payload, *rest = answer
        headers = rest[0] if rest else {}
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url
        if isinstance(payload, (dict, list)):
            response._content = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **headers}
        else:
            response._content = payload.encode() if isinstance(payload, str) else payload
        response.headers = CaseInsensitiveDict(headers)
        return response

    def close(self) -> None:
        pass


class FakeClock:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


API_URL = "http://clore.test/v1"  # test_client.py uses the same two values
API_KEY = "unit-test-key-0123456789abcdef"


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The client's retry loop runs on a simulated clock: sleeps are recorded and advance it, nothing waits."""
    from ansible_collections.clore.ai.plugins.module_utils import client as client_module

    clock = FakeClock()
    monkeypatch.setattr(client_module, "_monotonic", clock.monotonic)
    monkeypatch.setattr(client_module, "_sleep", clock.sleep)
    return clock


@pytest.fixture
def make_client(fake_clock: FakeClock, tmp_path: Path) -> Callable[..., tuple[Any, FakeAdapter]]:
    """make_client(script, **client_kwargs) -> (CloreClient, FakeAdapter); limiter off unless asked for."""
    from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient

    def build(script: list[Any], **kwargs: Any) -> tuple[Any, FakeAdapter]:
        options = {"request_interval": 0.0, "create_interval": 0.0, "state_dir": str(tmp_path / "state"),
                   "retry_timeout": 60.0, **kwargs}
        client = CloreClient(API_KEY, api_url=API_URL, **options)
        adapter = FakeAdapter(list(script))
        client.session.mount("http://clore.test/", adapter)
        return client, adapter

    return build
