"""A 429 without Retry-After (as the recorded ones): the client's own back-off, sized by the rule that refused it."""
from __future__ import annotations

import json

from ansible_collections.clore.ai.plugins.module_utils.ratelimit import CREATE, REQUEST

CREATE_BODY = {"renting_server": 1, "type": "on-demand", "currency": "bitcoin", "image": "cloreai/jupyter"}


def limited_client(make_client, fake_clock, tmp_path, script):
    """A client at the real limits, its limiter on the same simulated clock (limiter waits are not retry sleeps)."""
    client, adapter = make_client(script, request_interval=1.0, create_interval=5.0, state_dir=str(tmp_path / "lim"))
    client.limiter._clock = fake_clock.monotonic
    client.limiter._sleep = lambda seconds: setattr(fake_clock, "now", fake_clock.now + seconds)
    return client, adapter


def test_a_refused_create_without_retry_after_backs_off_at_least_the_create_interval(
        make_client, fake_clock, tmp_path):
    client, adapter = limited_client(make_client, fake_clock, tmp_path, [(429, {"code": 5}), (200, {"code": 0})])
    client.create_order(CREATE_BODY)
    assert len(adapter.sent) == 2
    (wait,) = fake_clock.sleeps
    assert 5.0 <= wait <= 10.0, wait


def test_a_refused_create_holds_back_creates_not_reads(make_client, fake_clock, tmp_path):
    client, adapter = limited_client(make_client, fake_clock, tmp_path, [(429, {"code": 5}), (200, {"code": 0})])
    client.create_order(CREATE_BODY)
    state = json.loads(client.limiter.path.read_text())
    assert state[CREATE]["hold"] > 0
    assert state[REQUEST]["hold"] == 0


def test_a_refused_read_without_retry_after_backs_off_the_request_interval_and_holds_reads(
        make_client, fake_clock, tmp_path):
    client, adapter = limited_client(make_client, fake_clock, tmp_path,
                                     [(429, {"code": 5}), (200, {"code": 0, "wallets": []})])
    client.wallets()
    (wait,) = fake_clock.sleeps
    assert 1.0 <= wait <= 2.0, wait
    state = json.loads(client.limiter.path.read_text())
    assert state[REQUEST]["hold"] > 0 and state[CREATE]["hold"] == 0
