"""CloreClient: headers, session reuse, decoding of every answer, the retry policy and the endpoint helpers."""
from __future__ import annotations

import re
from email.utils import formatdate
from pathlib import Path

import pytest
import requests
import urllib3

from ansible_collections.clore.ai.plugins.module_utils import client as client_module
from ansible_collections.clore.ai.plugins.module_utils.client import (
    COLLECTION_VERSION,
    CloreClient,
    backoff_delay,
    default_user_agent,
    parse_retry_after,
)
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError

REPO = Path(__file__).resolve().parents[4]
# The make_client fixture (tests/unit/conftest.py) serves this URL and uses this key.
API_URL = "http://clore.test/v1"
API_KEY = "unit-test-key-0123456789abcdef"


# ----- headers and session -----
def test_sends_raw_key_in_auth_header_and_descriptive_user_agent(make_client):
    client, adapter = make_client([(200, {"code": 0, "wallets": []})])
    client.wallets()
    headers = adapter.sent[0].headers
    assert headers["auth"] == API_KEY
    assert "Authorization" not in headers
    assert re.fullmatch(r"clore\.ai-ansible/\d+\.\d+\.\d+ \(\+https://\S+\) python-requests/\S+",
                        headers["User-Agent"])
    assert adapter.sent[0].url == f"{API_URL}/wallets"


def test_user_agent_can_be_overridden(make_client):
    client, adapter = make_client([(200, {"code": 0, "wallets": []})], user_agent="my-pipeline/2.0")
    client.wallets()
    assert adapter.sent[0].headers["User-Agent"] == "my-pipeline/2.0"


def test_user_agent_names_the_version_in_galaxy_yml():
    galaxy = (REPO / "galaxy.yml").read_text()
    version = re.search(r"^version:\s*(\S+)", galaxy, re.M).group(1)
    assert COLLECTION_VERSION == version
    assert f"clore.ai-ansible/{version} " in default_user_agent()


def test_constructor_does_no_io_and_the_session_is_created_once(tmp_path):
    client = CloreClient(API_KEY, state_dir=str(tmp_path / "never"))
    assert client._session is None and client._limiter is None
    assert not (tmp_path / "never").exists()
    assert client.session is client.session
    assert API_KEY not in repr(client)


def test_one_session_serves_every_call(make_client):
    client, adapter = make_client([(200, {"code": 0, "wallets": []}), (200, {"code": 0, "orders": []})])
    session = client.session
    client.wallets()
    client.my_orders()
    assert client.session is session
    assert len(adapter.sent) == 2 and client.calls == 2


# ----- decoding of codes and reasons -----
@pytest.mark.parametrize(
    ("http_status", "payload", "code", "advice"),
    [
        (200, {"code": 2}, 2, "check the module's arguments"),
        (401, {"code": 3}, 3, "check api_key / CLORE_API_KEY"),
        (200, {"code": 3}, 3, "check api_key / CLORE_API_KEY"),
        (404, {"code": 4}, 4, "check api_url / CLORE_API_URL"),
        (200, {"code": 99}, 99, "unknown"),
        (200, {"servers": []}, None, "no code"),
    ],
)
def test_error_codes_become_clear_errors(make_client, http_status, payload, code, advice):
    client, adapter = make_client([(http_status, payload)])
    with pytest.raises(CloreApiError) as caught:
        client.marketplace()
    err = caught.value
    assert (err.endpoint, err.http_status, err.code) == ("marketplace", http_status, code)
    assert advice in str(err)
    assert "Clore.ai API marketplace" in str(err)
    assert API_KEY not in str(err)
    assert len(adapter.sent) == 1  # none of these is retried
    assert err.to_result()["code"] == code


CREATE_BODY = {"renting_server": 42, "type": "spot", "currency": "CLORE-Blockchain", "image": "x", "spotprice": 1}


@pytest.mark.parametrize(
    ("reason", "extra", "expected"),
    [
        ("server-already-rented", {}, "server 42 is already rented: pick another server"),
        ("server-offline", {}, "server 42 is offline"),
        ("not_enough_balance", {}, "not enough balance in your CLORE-Blockchain wallet"),
        ("too_low_price", {"min_price": 12.5}, "below the host's minimum (12.5 per day)"),
        ("too_low_price", {}, "below the host's minimum: bid at least"),
        ("currency-not-allowed", {}, "server 42 does not accept CLORE-Blockchain"),
        ("some-new-reason", {}, "the API refused the request: some-new-reason"),
    ],
)
def test_create_order_reasons(make_client, reason, extra, expected):
    client, adapter = make_client([(200, {"code": 6, "error": reason, **extra})])
    with pytest.raises(CloreApiError) as caught:
        client.create_order(CREATE_BODY)
    err = caught.value
    assert (err.code, err.reason, err.http_status, err.endpoint) == (6, reason, 200, "create_order")
    assert err.extra == extra
    assert err.ambiguous is False
    assert expected in str(err)
    assert err.to_result() == {"endpoint": "create_order", "http_status": 200, "code": 6, "reason": reason,
                               "ambiguous": False, **extra}


@pytest.mark.parametrize(
    ("reason", "extra", "expected"),
    [
        ("exceeded_max_step", {"max_step": 0.5}, "at most 0.5 at once"),
        ("can_lower_every_600_seconds", {"time_to_lowering": 312}, "try again in 312 s"),
    ],
)
def test_set_spot_price_reasons_carry_their_fields(make_client, reason, extra, expected):
    client, adapter = make_client([(200, {"code": 6, "error": reason, **extra})])
    with pytest.raises(CloreApiError) as caught:
        client.set_spot_price(7, 3.0)
    assert caught.value.extra == extra
    assert caught.value.to_result()[next(iter(extra))] == next(iter(extra.values()))
    assert expected in str(caught.value)
    assert adapter.sent[0].body == {"order_id": 7, "desired_price": 3.0}


def test_extra_fields_never_clash_with_fail_json_keys(make_client):
    answer = {"code": 6, "error": "x", "msg": "m", "changed": True, "failed": 1, "big": "y" * 5000,
              "nested": {"a": 1}, "min_price": 2}
    client, _adapter = make_client([(200, answer)])
    with pytest.raises(CloreApiError) as caught:
        client.create_order(CREATE_BODY)
    assert caught.value.extra == {"min_price": 2}


# ----- non-JSON bodies -----
def test_cloudflare_1010_names_status_body_and_user_agent(make_client):
    client, adapter = make_client([(403, "error code: 1010", {"Content-Type": "text/plain"})])
    with pytest.raises(CloreApiError) as caught:
        client.wallets()
    text = str(caught.value)
    assert "HTTP 403" in text and "'error code: 1010'" in text and "User-Agent" in text
    assert caught.value.http_status == 403 and caught.value.code is None
    assert len(adapter.sent) == 1


def test_html_502_on_a_read_is_retried_then_reported(make_client, fake_clock):
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    client, adapter = make_client([(502, page, {"Content-Type": "text/html"})] * 50, retry_timeout=20)
    with pytest.raises(CloreApiError) as caught:
        client.wallets()
    text = str(caught.value)
    assert "HTTP 502" in text and "<html><head><title>502 Bad Gateway" in text
    assert len(text) < 800  # the first bytes, not the whole page
    assert "Gave up after" in text
    assert len(adapter.sent) >= 3
    assert sum(fake_clock.sleeps) <= 20


def test_empty_body_is_reported(make_client):
    client, _adapter = make_client([(400, "")])
    with pytest.raises(CloreApiError, match="HTTP 400 with a body that is not JSON: an empty body"):
        client.wallets()


def test_json_that_is_not_an_object_is_reported(make_client):
    client, _adapter = make_client([(200, [1, 2])])
    with pytest.raises(CloreApiError, match="HTTP 200 with a body that is not JSON"):
        client.wallets()


def test_key_echoed_by_a_server_is_redacted(make_client):
    client, _adapter = make_client([(400, f"bad header auth={API_KEY}"), (200, {"code": 6, "error": f"key {API_KEY}"})])
    for _i in range(2):
        with pytest.raises(CloreApiError) as caught:
            client.cancel_order(1)
        assert API_KEY not in str(caught.value)
        assert "<api_key>" in str(caught.value)


# ----- retry policy -----
TRANSIENT_FOR_READS = [
    pytest.param((200, {"code": 1}), id="code1"),
    pytest.param((500, {"code": 1}), id="code1-http500"),
    pytest.param((500, "Internal Server Error"), id="http500-text"),
    pytest.param((503, {"code": 0}), id="http503-with-code0"),
    pytest.param(requests.ReadTimeout("read timed out"), id="read-timeout"),
    pytest.param(requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer")), id="reset"),
]


@pytest.mark.parametrize("failure", TRANSIENT_FOR_READS)
def test_reads_are_retried_on_transient_failures(make_client, fake_clock, failure):
    client, adapter = make_client([failure, failure, (200, {"code": 0, "orders": [{"id": 1}]})])
    assert client.my_orders() == [{"id": 1}]
    assert len(adapter.sent) == 3 and client.calls == 3
    assert len(fake_clock.sleeps) == 2 and all(s > 0 for s in fake_clock.sleeps)


@pytest.mark.parametrize("failure", TRANSIENT_FOR_READS)
@pytest.mark.parametrize("call", ["create", "cancel", "spot"])
def test_writes_are_never_retried_on_an_unclear_outcome(make_client, fake_clock, failure, call):
    client, adapter = make_client([failure, (200, {"code": 0})])
    with pytest.raises(CloreApiError) as caught:
        {"create": lambda: client.create_order(CREATE_BODY), "cancel": lambda: client.cancel_order(5, "broken"),
         "spot": lambda: client.set_spot_price(5, 1.0)}[call]()
    assert caught.value.ambiguous is True
    assert "may have taken effect" in str(caught.value)
    assert len(adapter.sent) == 1
    assert fake_clock.sleeps == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_429_honours_retry_after_for_reads_and_writes(make_client, fake_clock, method):
    client, adapter = make_client([(429, {"code": 5}, {"Retry-After": "7"}), (200, {"code": 0})])
    client.request(method, "create_order" if method == "POST" else "wallets", body={"a": 1})
    # Retry-After, plus up to one request interval (at least 1 s) of spread: see test_client_rate_limit_spread.py.
    assert len(fake_clock.sleeps) == 1 and 7.0 <= fake_clock.sleeps[0] <= 8.0
    assert len(adapter.sent) == 2


def test_code5_under_http_200_is_retried_too(make_client, fake_clock):
    client, adapter = make_client([(200, {"code": 5}), (200, {"code": 0})], request_interval=0.0)
    client.create_order(CREATE_BODY)
    assert len(adapter.sent) == 2 and len(fake_clock.sleeps) == 1


def test_429_without_retry_after_backs_off_at_least_the_request_interval(make_client, fake_clock, tmp_path):
    client, adapter = make_client([(429, {"code": 5})] * 4 + [(200, {"code": 0, "wallets": []})],
                                  request_interval=1.5, state_dir=str(tmp_path / "lim"))
    # The limiter runs on the same simulated clock; its own waits are not recorded as retry sleeps.
    client.limiter._clock = fake_clock.monotonic
    client.limiter._sleep = lambda s: setattr(fake_clock, "now", fake_clock.now + s)
    client.wallets()
    assert len(fake_clock.sleeps) == 4
    assert all(s >= 1.5 for s in fake_clock.sleeps)
    assert fake_clock.sleeps[-1] >= 4.0  # exponential: the 4th retry waits at least half of 8 s


def test_a_non_json_429_is_retried(make_client, fake_clock):
    client, adapter = make_client([(429, "Too Many Requests", {"Retry-After": "2"}), (200, {"code": 0})])
    client.cancel_order(3)
    assert len(fake_clock.sleeps) == 1 and 2.0 <= fake_clock.sleeps[0] <= 3.0


def test_retries_stop_at_the_deadline(make_client, fake_clock):
    client, adapter = make_client([(429, {"code": 5})] * 200, retry_timeout=30)
    started = fake_clock.now
    with pytest.raises(CloreApiError) as caught:
        client.wallets()
    assert fake_clock.now - started <= 30
    assert caught.value.code == 5 and caught.value.http_status == 429
    assert "Gave up after" in str(caught.value) and "api_retry_timeout 30 s" in str(caught.value)
    assert "raise api_request_interval or api_retry_timeout" in str(caught.value)
    assert 3 <= len(adapter.sent) < 20


def test_a_retry_after_beyond_the_deadline_fails_at_once(make_client, fake_clock):
    client, adapter = make_client([(429, {"code": 5}, {"Retry-After": "3600"})], retry_timeout=120)
    with pytest.raises(CloreApiError, match="Gave up after 1 attempt"):
        client.wallets()
    assert fake_clock.sleeps == []


def test_retry_timeout_zero_means_one_attempt(make_client, fake_clock):
    client, adapter = make_client([(200, {"code": 1})], retry_timeout=0)
    with pytest.raises(CloreApiError) as caught:
        client.my_orders()
    assert caught.value.code == 1 and len(adapter.sent) == 1


def test_a_write_that_never_left_is_retried(make_client, fake_clock):
    pool = urllib3.HTTPConnectionPool("clore.test")
    refused = urllib3.exceptions.MaxRetryError(
        pool, "/v1/create_order", urllib3.exceptions.NewConnectionError(None, "Connection refused"))
    client, adapter = make_client([requests.ConnectionError(refused), requests.ConnectTimeout("connect timeout"),
                                   (200, {"code": 0})])
    client.create_order(CREATE_BODY)
    assert len(adapter.sent) == 3


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        pytest.param({"renting_server": 1, "spotprice": float("nan")}, "not JSON compliant", id="nan"),
        pytest.param({"renting_server": 1, "spotprice": float("inf")}, "not JSON compliant", id="infinity"),
        pytest.param({"renting_server": 1, "ports": {22, 80}}, "not JSON serializable", id="a-set"),
    ],
)
def test_a_body_that_cannot_be_encoded_is_never_sent_and_not_ambiguous(make_client, fake_clock, body, cause):
    client, adapter = make_client([(200, {"code": 0})])
    with pytest.raises(CloreApiError) as caught:
        client.create_order(body)
    err = caught.value
    assert err.ambiguous is False and err.endpoint == "create_order"
    assert "was never sent" in str(err) and "may have taken effect" not in str(err)
    assert cause in str(err) and "NaN or infinity" in str(err)
    assert adapter.sent == [] and client.calls == 0
    assert fake_clock.sleeps == []  # nothing to retry: the same body would fail the same way


@pytest.mark.parametrize("api_url", ["http://[::1/v1", "http://clore..test/v1"])
def test_an_unusable_url_is_never_sent_and_not_ambiguous(fake_clock, tmp_path, api_url):
    client = CloreClient(API_KEY, api_url=api_url, request_interval=0.0, create_interval=0.0,
                         state_dir=str(tmp_path / "state"), retry_timeout=60.0)
    with pytest.raises(CloreApiError) as caught:
        client.cancel_order(5)
    err = caught.value
    assert err.ambiguous is False and "was never sent" in str(err)
    assert "api_url / CLORE_API_URL" in str(err) and "may have taken effect" not in str(err)
    assert fake_clock.sleeps == []


def test_transport_failure_message_names_endpoint_and_cause(make_client, fake_clock):
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    client, _adapter = make_client([refused], retry_timeout=0)
    with pytest.raises(CloreApiError) as caught:
        client.wallets()
    text = str(caught.value)
    assert "Clore.ai API wallets" in text and "Connection refused" in text and "CLORE_API_URL" in text
    assert caught.value.http_status is None and caught.value.code is None


def test_retry_after_parsing():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)


def test_backoff_grows_and_is_capped():
    for attempt in range(10):
        ceiling = min(client_module.BACKOFF_CAP, client_module.BACKOFF_BASE * 2 ** attempt)
        for _i in range(20):
            assert ceiling / 2 <= backoff_delay(attempt) <= ceiling
    assert backoff_delay(0, floor=3.0) >= 3.0


# ----- endpoint helpers -----
def test_endpoint_helpers_send_the_documented_requests(make_client):
    client, adapter = make_client([
        (200, {"code": 0, "servers": [{"id": 1}, None], "my_servers": [1]}),
        (200, {"code": 0, "orders": [{"id": 9}]}),
        (200, {"code": 0, "market": {"offers": [], "server": {"min_pricing": {}}}, "exists": True}),
        (200, {"code": 0}),
        (200, {"code": 0}),
        (200, {"code": 0, "wallets": [{"name": "bitcoin", "balance": 1}]}),
        (200, {"code": 0, "orders": None}),
    ])
    assert client.marketplace() == {"servers": [{"id": 1}], "my_servers": [1]}
    assert client.my_orders(return_completed=True) == [{"id": 9}]
    assert client.spot_marketplace(42) == {"offers": [], "server": {"min_pricing": {}}, "exists": True}
    assert client.cancel_order(9) is None
    assert client.create_order(CREATE_BODY) is None
    assert client.wallets() == [{"name": "bitcoin", "balance": 1}]
    assert client.my_orders() == []
    sent = [(s.method, s.url, s.body) for s in adapter.sent]
    assert sent == [
        ("GET", f"{API_URL}/marketplace", None),
        ("GET", f"{API_URL}/my_orders?return_completed=true", None),
        ("GET", f"{API_URL}/spot_marketplace?market=42", None),
        ("POST", f"{API_URL}/cancel_order", {"id": 9}),
        ("POST", f"{API_URL}/create_order", CREATE_BODY),
        ("GET", f"{API_URL}/wallets", None),
        ("GET", f"{API_URL}/my_orders", None),
    ]


def test_create_order_waits_for_the_create_limit(make_client, fake_clock, tmp_path):
    client, adapter = make_client([(200, {"code": 0})] * 3, create_interval=5.0, state_dir=str(tmp_path / "lim"))
    client.limiter._clock = fake_clock.monotonic
    client.limiter._sleep = fake_clock.sleep
    client.create_order(CREATE_BODY)
    first = fake_clock.now
    client.wallets()  # a plain request is not held back by the create limit
    assert fake_clock.now == first
    client.create_order(CREATE_BODY)
    assert fake_clock.now - first >= 5.0  # the second create waited for the first's 5 s


# ----- the shared limiter within the retry deadline -----
def test_a_limiter_wait_past_the_retry_deadline_fails_at_once_and_sends_nothing(make_client, fake_clock, tmp_path):
    client, adapter = make_client([(200, {"code": 0})], request_interval=1.0, retry_timeout=30,
                                  state_dir=str(tmp_path / "lim"))
    client.limiter._clock = fake_clock.monotonic
    client.limiter._sleep = fake_clock.sleep
    client.limiter.penalize(500.0)  # another process was told to wait 500 s (or left garbage behind)
    with pytest.raises(CloreApiError) as caught:
        client.create_order(CREATE_BODY)
    err = caught.value
    assert str(err).startswith("Clore.ai API create_order: the shared rate limiter would hold this call")
    assert "api_retry_timeout" in str(err) and str(client.limiter.path) in str(err)
    assert err.ambiguous is False and adapter.sent == [] and fake_clock.sleeps == []


def test_the_client_hands_its_warn_callback_to_the_limiter(tmp_path):
    heard: list[str] = []
    client = CloreClient(API_KEY, state_dir=str(tmp_path), warn=heard.append)
    assert client.limiter._warn is not None
    client.limiter._warn("hello")
    assert heard == ["hello"]


def test_the_request_is_built_before_the_limiter_lets_it_go(make_client, monkeypatch):
    """Only the sending lies between leaving the limiter and the wire: on a busy machine any work there delays the
    request after its slot, and the service measures arrivals."""
    client, adapter = make_client([(200, {"code": 0, "orders": []})])
    events: list[str] = []
    prepare = client.session.prepare_request
    monkeypatch.setattr(client.session, "prepare_request", lambda request: events.append("built") or prepare(request))
    monkeypatch.setattr(client.limiter, "acquire", lambda *kinds, max_wait=None: events.append("slot") or 0.0)
    client.my_orders()
    assert events == ["built", "slot"]
    assert len(adapter.sent) == 1
