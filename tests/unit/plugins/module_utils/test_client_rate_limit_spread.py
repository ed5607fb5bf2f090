"""The wait after a 429 is spread at random, so that controllers sharing one key (not one limiter) desynchronise."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils import client as client_module
from ansible_collections.clore.ai.plugins.module_utils.client import BACKOFF_BASE, rate_limit_delay

CONTROLLERS = 6


def refused_once_then_served(make_client, fake_clock, tmp_path, name: str, headers: dict) -> float:
    """The one retry wait of a client (a controller of its own: its own state dir) refused once with a 429."""
    client, adapter = make_client([(429, {"code": 5}, headers), (200, {"code": 0, "wallets": []})],
                                  request_interval=1.0, state_dir=str(tmp_path / name))
    # The limiter runs on the simulated clock too; only the retry loop's sleeps are recorded.
    client.limiter._clock = fake_clock.monotonic
    client.limiter._sleep = lambda seconds: setattr(fake_clock, "now", fake_clock.now + seconds)
    before = len(fake_clock.sleeps)
    client.wallets()
    assert len(adapter.sent) == 2
    (wait,) = fake_clock.sleeps[before:]
    return wait


@pytest.mark.parametrize("headers", [{"Retry-After": "1"}, {}], ids=["retry-after", "no-retry-after"])
def test_controllers_refused_together_do_not_come_back_together(make_client, fake_clock, tmp_path, headers):
    waits = [refused_once_then_served(make_client, fake_clock, tmp_path, f"controller-{n}", headers)
             for n in range(CONTROLLERS)]
    # Never earlier than the service asked (or than one request interval), never more than one interval later...
    assert all(1.0 <= wait <= 2.0 for wait in waits), waits
    # ...and not in lockstep: with a fixed wait every controller would retry at the same moment and collide again.
    assert len({round(wait, 6) for wait in waits}) == CONTROLLERS, waits


@pytest.mark.parametrize(
    ("retry_after", "interval", "low", "high"),
    [(1.0, 1.0, 1.0, 2.0), (5.0, 1.0, 5.0, 6.0), (1.0, 3.0, 1.0, 4.0), (2.0, 0.0, 2.0, 2.0 + BACKOFF_BASE)],
)
def test_the_spread_is_up_to_one_request_interval(monkeypatch, retry_after, interval, low, high):
    monkeypatch.setattr(client_module.random, "uniform", lambda a, b: a)
    assert rate_limit_delay(retry_after, 0, interval) == low
    monkeypatch.setattr(client_module.random, "uniform", lambda a, b: b)
    assert rate_limit_delay(retry_after, 0, interval) == high


def test_without_retry_after_the_backoff_still_grows(monkeypatch):
    monkeypatch.setattr(client_module.random, "uniform", lambda a, b: a)
    assert rate_limit_delay(None, 0, 1.0) == 1.0
    assert rate_limit_delay(None, 3, 1.0) == 4.0  # half of 8 s, the exponential backoff's fixed part
