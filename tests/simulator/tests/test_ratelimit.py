"""Per-key rate limits: 429 with {"code": 5} (Retry-After with --retry-after header); refused requests do not move
the window; a create's interval from any request (--create-spacing any) or from the previous create."""
from __future__ import annotations

import re
import time

import pytest
import requests
from clore_sim.ratelimit import RateLimiter, retry_after_header
from clore_sim.testing import SimServer

from .helpers import Client


def _client(sim: SimServer, key: str | None = None) -> Client:
    return Client(sim.api_url, key or sim.api_key, requests.Session())


def test_requests_closer_than_the_interval_get_429(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=1.0, create_interval=5.0, retry_after="header") as sim:
        client = _client(sim)
        assert client.get("wallets").status_code == 200
        refused = client.get("marketplace")
        assert refused.status_code == 429
        assert refused.json() == {"code": 5}
        assert refused.headers["Retry-After"] == "1"
        assert sim.counters()["rate_limited"] == 1
        # The log names the endpoint, how early, and how close the accepted request it came after was.
        line = next(line for line in sim.log_path.read_text().splitlines() if " 429 on " in line)
        assert re.fullmatch(r"clore-sim: 127\.0\.0\.1 429 on marketplace: 0\.\d{3} s sooner than the key's interval "
                            r"allows \(arrived 0\.\d{3} s after an accepted request, at \d+\.\d{3}\)", line), line


def test_a_429_carries_no_retry_after_by_default_as_recorded(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=1.0) as sim:
        client = _client(sim)
        assert client.get("wallets").status_code == 200
        refused = client.get("wallets")
        assert refused.status_code == 429 and refused.json() == {"code": 5}
        assert "Retry-After" not in refused.headers
        sim.fault("wallets", "rate_limit")  # an injected 429 follows the same rule
        time.sleep(1.1)
        injected = client.get("wallets")
        assert injected.status_code == 429 and "Retry-After" not in injected.headers


def test_nearest_gives_the_signed_gap_to_the_closest_accepted_request() -> None:
    limiter = RateLimiter(1.0, 5.0, tolerance=0.0)
    assert limiter.nearest("a", 100.0) is None
    limiter.admit("a", 100.0, is_create=False)
    limiter.admit("a", 102.0, is_create=False)
    assert limiter.nearest("a", 100.3) == pytest.approx(0.3)
    assert limiter.nearest("a", 101.8) == pytest.approx(-0.2)


def test_limit_is_per_key(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=5.0, accounts={"a": {}, "b": {}}) as sim:
        a, b = _client(sim, "a"), _client(sim, "b")
        assert a.get("wallets").status_code == 200
        assert b.get("wallets").status_code == 200
        assert a.get("wallets").status_code == 429
        assert b.get("wallets").status_code == 429
        counters = sim.counters()
        assert counters["requests_by_key"] == {"a": 2, "b": 2}
        assert counters["rate_limited"] == 2


def test_refused_request_does_not_reset_the_window(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=1.0) as sim:
        client = _client(sim)
        first = time.monotonic()
        assert client.get("wallets").status_code == 200
        time.sleep(0.5)
        assert client.get("wallets").status_code == 429
        time.sleep(max(0.0, first + 1.25 - time.monotonic()))
        # 1.25 s after the served request, only ~0.75 s after the refused one: served.
        assert client.get("wallets").status_code == 200


def test_create_interval_applies_to_create_order_only(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=0.0, create_interval=30.0, retry_after="header",
                   create_spacing="create") as sim:
        client = _client(sim)
        first, second = client.free_server(), client.free_server(skip=1)
        body = {"type": "on-demand", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}
        assert client.post("create_order", {**body, "renting_server": first["id"]}).json() == {"code": 0}
        refused = client.post("create_order", {**body, "renting_server": second["id"]})
        assert refused.status_code == 429 and refused.json() == {"code": 5}
        assert 29 <= int(refused.headers["Retry-After"]) <= 30
        assert client.get("marketplace").status_code == 200
        assert client.get("my_orders").status_code == 200
        assert len(client.orders()) == 1
        sim.configure(create_interval=0)
        assert client.post("create_order", {**body, "renting_server": second["id"]}).json() == {"code": 0}


def test_limiter_rules_at_exact_arrival_times() -> None:
    """The limiter itself, with arrival times given: tolerance, refusals that do not count, per key, creates."""
    limiter = RateLimiter(request_interval=1.0, create_interval=5.0, tolerance=0.02, create_spacing="create")
    assert limiter.admit("a", 100.0, is_create=False) is None
    assert limiter.admit("a", 100.5, is_create=False) == pytest.approx(0.5)
    assert limiter.admit("a", 100.97, is_create=False) == pytest.approx(0.03)  # beyond the tolerance
    assert limiter.admit("a", 100.985, is_create=False) is None  # within it: an exactly spaced client's jitter
    assert limiter.admit("b", 100.985, is_create=False) is None  # another key, another window
    assert limiter.admit("a", 102.0, is_create=True) is None
    assert limiter.admit("a", 103.0, is_create=True) == pytest.approx(4.0)  # the create window
    assert limiter.admit("a", 103.0, is_create=False) is None  # other endpoints are not held back by it
    assert limiter.admit("a", 106.99, is_create=True) is None
    assert retry_after_header(0.03) == "1" and retry_after_header(4.0) == "4" and retry_after_header(4.2) == "5"
    limiter.request_interval = 0.0
    limiter.create_interval = 0.0
    assert all(limiter.admit("a", 107.0, is_create=True) is None for _attempt in range(3))


def test_requests_are_judged_in_the_order_they_arrived_not_the_order_they_are_handled() -> None:
    """A handler that a busy machine runs late must not find its request early behind one that came after it."""
    limiter = RateLimiter(request_interval=1.0, create_interval=5.0, tolerance=0.02, create_spacing="create")
    assert limiter.admit("a", 100.0, is_create=False) is None
    assert limiter.admit("a", 102.0, is_create=False) is None  # handled first, arrived second
    assert limiter.admit("a", 101.0, is_create=False) is None  # a full interval from both neighbours: served
    # Between two served requests and too close to the later one: refused until a slot after that one.
    assert limiter.admit("a", 102.5, is_create=False) == pytest.approx(0.5)
    assert limiter.admit("a", 101.7, is_create=False) == pytest.approx(1.3)
    assert limiter.admit("a", 99.2, is_create=False) == pytest.approx(1.8)
    assert limiter.admit("a", 98.9, is_create=False) is None  # long before: served
    # Creates: the same, on their own window.
    assert limiter.admit("a", 110.0, is_create=True) is None
    assert limiter.admit("a", 106.0, is_create=True) == pytest.approx(9.0)
    assert limiter.admit("a", 104.9, is_create=True) is None


def test_with_create_spacing_any_a_create_keeps_its_interval_from_every_request() -> None:
    """As a real client's log shows: a create refused about 1 s after another request, long after the last create."""
    limiter = RateLimiter(request_interval=1.0, create_interval=5.0, tolerance=0.02, create_spacing="any")
    assert limiter.admit("a", 100.0, is_create=True) is None
    assert limiter.admit("a", 120.0, is_create=False) is None
    assert limiter.admit("a", 121.0, is_create=True) == pytest.approx(4.0)  # 21 s after the create, 1 s after a read
    assert limiter.admit("a", 121.0, is_create=False) is None  # a read needs only its own interval
    assert limiter.admit("a", 125.5, is_create=True) == pytest.approx(0.5)  # from the latest request
    assert limiter.admit("a", 126.0, is_create=True) is None
    # Judged in arrival order: a read that arrived before a served create, closer than the create's interval.
    assert limiter.admit("a", 140.0, is_create=True) is None
    assert limiter.admit("a", 137.0, is_create=False) == pytest.approx(4.0)
    assert limiter.admit("a", 134.0, is_create=False) is None
    # The same traffic with create_spacing "create": the create at 121 is served (21 s after the previous create).
    lenient = RateLimiter(request_interval=1.0, create_interval=5.0, tolerance=0.02, create_spacing="create")
    assert lenient.admit("a", 100.0, is_create=True) is None
    assert lenient.admit("a", 120.0, is_create=False) is None
    assert lenient.admit("a", 121.0, is_create=True) is None
    assert lenient.admit("a", 122.0, is_create=False) is None


def test_create_spacing_any_over_http(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=0.0, create_interval=3.0) as sim:
        client = _client(sim)
        first, second = client.free_server(), client.free_server(skip=1)
        body = {"type": "on-demand", "currency": "CLORE-Blockchain", "image": "cloreai/ubuntu22.04-jupyter"}
        time.sleep(3.1)  # the reads free_server made
        assert client.post("create_order", {**body, "renting_server": first["id"]}).json() == {"code": 0}
        time.sleep(3.1)
        assert client.get("wallets").status_code == 200
        refused = client.post("create_order", {**body, "renting_server": second["id"]})
        assert refused.status_code == 429 and refused.json() == {"code": 5}
        time.sleep(3.1)
        assert client.post("create_order", {**body, "renting_server": second["id"]}).json() == {"code": 0}


def test_unauthenticated_requests_are_not_rate_limited_against_a_key(tmp_path) -> None:
    with SimServer(tmp_path / "s", request_interval=5.0) as sim:
        for _attempt in range(3):
            assert requests.get(f"{sim.api_url}/wallets", headers={"auth": "bad"}, timeout=10).status_code == 401
        assert _client(sim).get("wallets").status_code == 200
