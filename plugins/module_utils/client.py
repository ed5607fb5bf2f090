"""The Clore.ai API client used by every module and by the inventory plugin.

One place for: the HTTP session and headers, decoding every answer into data or a CloreApiError, the shared rate
limiter, and the retry policy:
  - rate limited (HTTP 429 / code 5): nothing happened, so wait (Retry-After when given, else a backoff of at least
    the interval of the rule that refused it: the create interval for a create) and retry, for reads and writes alike;
  - a request that never left (connection refused, connect timeout): retried likewise;
  - a request that could not even be built (a body JSON cannot carry, such as NaN; an unusable URL): raised at once,
    not ambiguous, because nothing was sent and the same request would fail the same way;
  - code 1, HTTP 5xx, read timeouts, dropped connections: retried for GET only; a POST raises at once with
    `ambiguous=True`, because it may have taken effect (the caller looks before acting again);
  - an answer nested deeper than json_stream.MAX_DEPTH: one row of a listing (my_orders, my_servers, wallets, the
    marketplace's servers) is skipped with a warning naming the endpoint and the row, and the other rows are read;
    any other part that deep fails the call naming the endpoint (not retried: the same answer would come again);
  - everything bounded by one deadline (`retry_timeout` seconds from the first attempt), the shared limiter's waits
    included: a slot further away than the deadline fails at once, saying why and which state file to delete.
"""
from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.account import account_digest
from ansible_collections.clore.ai.plugins.module_utils.errors import (
    CloreApiError,
    api_error_from_answer,
    api_error_from_text,
)
from ansible_collections.clore.ai.plugins.module_utils.json_stream import (
    CHUNK_BYTES,
    MAX_DEPTH,
    TooDeep,
    decode_object,
    text_chunks,
)
from ansible_collections.clore.ai.plugins.module_utils.ratelimit import (
    CREATE,
    REQUEST,
    LimiterWaitTooLong,
    SharedRateLimiter,
)
from ansible_collections.clore.ai.plugins.module_utils.records import report_to

try:
    import requests
    from urllib3.exceptions import LocationValueError
except ImportError:
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
    # Raised by requests' adapter while it picks a connection, before any byte goes out.
    _UNSENDABLE = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                   requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader, LocationValueError)

COLLECTION_VERSION = "0.1.0"  # keep equal to galaxy.yml's version (a unit test checks)
PROJECT_URL = "https://github.com/clore-ai/ansible-collection"
DEFAULT_API_URL = "https://api.clore.ai/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_REQUEST_INTERVAL = 1.0
DEFAULT_CREATE_INTERVAL = 5.0
DEFAULT_RETRY_TIMEOUT = 120.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
_ERROR_PREVIEW = 2048  # bytes of a non-JSON body kept for the error message
# The member of each answer that lists rows: read row by row, so that one row too deep is skipped, not the answer.
LISTINGS = {"marketplace": "servers", "my_orders": "orders", "my_servers": "servers", "wallets": "wallets"}
# The retry loop's clock and sleep, named here so that unit tests can replace them with a simulated clock.
_monotonic = time.monotonic
_sleep = time.sleep


def default_user_agent() -> str:
    """A descriptive User-Agent: Cloudflare in front of the API refuses some generic ones (error 1010)."""
    library = f" python-requests/{requests.__version__}" if requests is not None else ""
    return f"clore.ai-ansible/{COLLECTION_VERSION} (+{PROJECT_URL}){library}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_http_date(value: str | None) -> float | None:
    """Unix seconds of an HTTP Date header; None when absent or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return None if when is None else when.timestamp()


def backoff_delay(attempt: int, floor: float = 0.0) -> float:
    """Exponential backoff with jitter for retry number `attempt` (0-based): half fixed, half random."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt))
    return max(floor, ceiling / 2 + random.uniform(0, ceiling / 2))


def rate_limit_delay(retry_after: float | None, attempt: int, interval: float) -> float:
    """The wait after a 429: Retry-After (else the backoff, at least `interval`) plus a random part of up to one
    request interval (at least BACKOFF_BASE), so that controllers refused at the same moment (they share the key, not
    the limiter) do not all come back at the same moment and collide again."""
    base = retry_after if retry_after is not None else backoff_delay(attempt, floor=interval)
    return base + random.uniform(0, max(interval, BACKOFF_BASE))


class _Retryable(Exception):
    """An attempt failed in a way the retry policy may repeat; `reads_only` when a write may have taken effect."""

    def __init__(self, error: CloreApiError, reads_only: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.reads_only = reads_only


class CloreClient:
    """A client for one API key; cheap to build (no I/O until the first request)."""

    def __init__(
        self,
        api_key: str,
        api_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str | None = None,
        request_interval: float = DEFAULT_REQUEST_INTERVAL,
        create_interval: float = DEFAULT_CREATE_INTERVAL,
        state_dir: str | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent or default_user_agent()
        self.request_interval = request_interval
        self.create_interval = create_interval
        self.state_dir = state_dir
        self.retry_timeout = retry_timeout
        self.calls = 0
        # The service's clock (its HTTP Date header) at the last answer: orders' ages are measured on it.
        self.server_time: float | None = None
        self.warn = warn  # told about long waits for the shared limiter
        self._api_key = api_key
        self._session: Any = None
        self._limiter: SharedRateLimiter | None = None

    def __repr__(self) -> str:  # never the key
        return f"CloreClient(api_url={self.api_url!r})"

    # ----- plumbing -----
    @property
    def session(self) -> Any:
        """One requests.Session per client, so that consecutive calls reuse the connection."""
        if self._session is None:
            session = requests.Session()
            session.headers.update({"auth": self._api_key, "User-Agent": self.user_agent,
                                    "Accept": "application/json"})
            self._session = session
        return self._session

    @property
    def limiter(self) -> SharedRateLimiter:
        if self._limiter is None:
            # The state directory is first used now: a corrupt file in it is reported where this client's user hears.
            report_to(self.warn)
            self._limiter = SharedRateLimiter(
                self.api_url, self._api_key, {REQUEST: self.request_interval, CREATE: self.create_interval},
                self.state_dir, warn=self.warn,
            )
        return self._limiter

    @property
    def account(self) -> str:
        """The account digest (API URL and key) that names every file kept for this key."""
        return account_digest(self.api_url, self._api_key)

    @property
    def state_path(self) -> Path:
        """The resolved state directory (created on first use): the limiter's file, locks and records live here."""
        return self.limiter.path.parent

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def request(self, method: str, endpoint: str, *, params: dict | None = None, body: dict | None = None,
                decode: Callable[[Any], Any] | None = None) -> dict:
        """The code-0 answer of one API call, after the retry policy; CloreApiError otherwise.

        `decode(response)` replaces reading the whole body (ValueError for a body that is not JSON), once per attempt;
        the response then comes unread (stream=True), for decode to read as it goes. The rows of a listing
        (LISTINGS) are read one by one, so that one too deep is skipped with a warning rather than the answer.
        """
        method = method.upper()
        endpoint = endpoint.strip("/")
        kinds = (REQUEST, CREATE) if endpoint == "create_order" else (REQUEST,)
        started = _monotonic()
        deadline = started + max(0.0, self.retry_timeout)
        attempt = 0
        while True:
            # Built before the limiter lets the call go, so that as little as possible lies between leaving the
            # limiter and the bytes going out (the service measures arrivals, and a busy machine stretches any work).
            prepared, settings = self._prepare(method, endpoint, params, body)
            try:
                self.limiter.acquire(*kinds, max_wait=deadline - _monotonic())
            except LimiterWaitTooLong as err:
                raise self._redact(CloreApiError(f"Clore.ai API {endpoint}: {err}", endpoint=endpoint)) from None
            try:
                return self._attempt(endpoint, prepared, settings, body, decode)
            except _Retryable as failure:
                error = failure.error
                if failure.reads_only and method != "GET":
                    raise self._redact(error.with_message(
                        f"{error} The {method} to {endpoint} may have taken effect: it was not repeated.",
                        ambiguous=True)) from None
                if error.rate_limited:
                    wait = rate_limit_delay(error.retry_after, attempt, self._refusing_interval(kinds))
                else:
                    wait = backoff_delay(attempt)
                elapsed = _monotonic() - started
                if _monotonic() + wait > deadline:
                    raise self._redact(error.with_message(
                        f"{error} Gave up after {attempt + 1} attempt(s) in {elapsed:.1f} s "
                        f"(api_retry_timeout {self.retry_timeout:g} s).")) from None
                if error.rate_limited:
                    # Every process sharing the key backs off, not only this one: from creates only, when a create
                    # was refused (its own rule refused it; reads may go on meanwhile, see the limiter).
                    self.limiter.penalize(wait, CREATE if CREATE in kinds else REQUEST)
                _sleep(wait)
                attempt += 1

    def _refusing_interval(self, kinds: tuple[str, ...]) -> float:
        """The interval of the rule that refused a call of `kinds` with a 429: a create's own interval for a create
        (the service may count it from any request), the request interval otherwise. Without a Retry-After (the
        recorded 429s had none) the back-off waits at least this long."""
        return max(self.create_interval, self.request_interval) if CREATE in kinds else self.request_interval

    def _prepare(self, method: str, endpoint: str, params: dict | None, body: dict | None) -> tuple[Any, dict]:
        """The request ready to send and its transport settings."""
        url = f"{self.api_url}/{endpoint}"
        # Built apart from sending (as Session.request does inside), so that a failure here provably sent nothing.
        try:
            prepared = self.session.prepare_request(requests.Request(method, url, params=params, json=body))
            settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        except (requests.RequestException, ValueError, TypeError) as exc:
            raise self._never_sent(endpoint, exc) from None
        return prepared, settings

    def _attempt(self, endpoint: str, prepared: Any, settings: dict, body: dict | None,
                 decode: Callable[[Any], Any] | None = None) -> dict:
        self.calls += 1
        try:
            settings["stream"] = decode is not None
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=True, **settings)
        except _UNSENDABLE as exc:
            raise self._never_sent(endpoint, exc) from None
        except requests.RequestException as exc:
            raise self._transport_failure(endpoint, exc) from None
        status = response.status_code
        self.server_time = parse_http_date(response.headers.get("Date")) or self.server_time
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            payload = self._read_answer(endpoint, response) if decode is None else decode(response)
        except TooDeep as err:
            raise self._redact(CloreApiError(
                f"Clore.ai API {endpoint}: the answer (HTTP {status}) was not read: it is {err}, deeper than any "
                "answer of the API; nothing was done with it.", endpoint=endpoint)) from None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            text = response.content[:_ERROR_PREVIEW].decode("utf-8", "replace")
            error = self._redact(api_error_from_text(endpoint, status, text, retry_after))
            self._raise_if_retryable(error, status)
            raise error
        code = payload.get("code")
        if code == 0 or code == "0":
            if status >= 400:
                # A success code under an error status cannot be trusted either way.
                error = self._redact(api_error_from_answer(endpoint, status, payload, body, retry_after))
                self._raise_if_retryable(error, status)
                raise error
            return payload
        error = self._redact(api_error_from_answer(endpoint, status, payload, body, retry_after))
        self._raise_if_retryable(error, status)
        raise error

    def _read_answer(self, endpoint: str, response: Any) -> Any:
        """The decoded body, nesting bounded (json_stream.MAX_DEPTH); a listing's rows read one by one."""
        rows = LISTINGS.get(endpoint)
        listed: list = []
        is_listed = False

        def restart() -> None:
            nonlocal is_listed
            is_listed = True
            listed.clear()

        answer = decode_object(text_chunks([response.content], response.encoding), rows, restart, listed.append,
                               self._row_skipper(endpoint, rows) if rows else None)
        if is_listed and rows not in answer:  # the member was an array, its rows handed over one by one
            answer[rows] = listed
        return answer

    def _row_skipper(self, endpoint: str, rows: str) -> Callable[[int], None]:
        """What to do with a row too deep to read: warn, naming it, and go on with the others."""

        def skipped(index: int) -> None:
            if self.warn is not None:
                self.warn(f"Clore.ai API {endpoint}: skipped {rows} row {index + 1}: it is nested deeper than "
                          f"{MAX_DEPTH} levels, which no row of the API is; the other rows are read")

        return skipped

    @staticmethod
    def _raise_if_retryable(error: CloreApiError, status: int) -> None:
        if error.rate_limited:
            raise _Retryable(error, reads_only=False)
        if error.code == 1 or status >= 500:
            raise _Retryable(error, reads_only=True)

    def _transport_failure(self, endpoint: str, exc: Exception) -> _Retryable:
        never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
        kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
        detail = type(exc).__name__
        cause = _root_cause(exc)
        if cause is not None and cause is not exc:
            detail += f" ({type(cause).__name__}: {cause})"
        message = f"Clore.ai API {endpoint}: the request to {self.api_url} {kind}: {detail}."
        if isinstance(exc, requests.Timeout):
            message += f" Raise api_timeout (now {self.timeout:g} s) if the service is slow."
        else:
            message += " Check api_url / CLORE_API_URL and the network."
        error = self._redact(CloreApiError(message, endpoint=endpoint))
        return _Retryable(error, reads_only=not never_sent)

    def _never_sent(self, endpoint: str, exc: Exception) -> CloreApiError:
        """The request could not be built or addressed: nothing left this machine, so nothing changed."""
        detail = f"{type(exc).__name__}: {exc}"
        cause = _root_cause(exc)
        if cause is not None and cause is not exc and str(cause) not in str(exc):
            detail += f" ({type(cause).__name__}: {cause})"
        if isinstance(exc, (requests.exceptions.InvalidJSONError, TypeError)) or "JSON" in str(exc):
            advice = ("A value of the request cannot be sent as JSON (NaN or infinity are not numbers JSON can "
                      "carry): check the task's numeric options.")
        elif isinstance(exc, _UNSENDABLE):
            advice = f"Check api_url / CLORE_API_URL (now {self.api_url})."
        else:
            advice = "Check the task's options and api_url / CLORE_API_URL."
        message = (f"Clore.ai API {endpoint}: the request could not be built, so it was never sent and changed "
                   f"nothing: {detail}. {advice}")
        return self._redact(CloreApiError(message, endpoint=endpoint))

    def _redact(self, error: CloreApiError) -> CloreApiError:
        """The API key never appears in a message, whatever a server or a library put there."""
        text = str(error)
        if len(self._api_key) >= 4 and self._api_key in text:
            return error.with_message(text.replace(self._api_key, "<api_key>"))
        return error

    # ----- endpoints -----
    def marketplace(self) -> dict:
        """The whole market: {"servers": [...], "my_servers": [...]}."""
        answer = self.request("GET", "marketplace")
        return {"servers": _list(answer.get("servers")), "my_servers": _list(answer.get("my_servers"))}

    def marketplace_each(self, restart: Callable[[], None], add: Callable[[Any], None]) -> dict:
        """The marketplace with each server row handed to add(row) as soon as it is decoded, instead of a list of
        them all (50,000 servers: 36 MB of JSON, 160 MB decoded whole); the body itself is read chunk by chunk, never
        held whole. restart() starts every attempt, so that a retried call hands no row over twice.
        Returns the rest of the answer: {"my_servers": [...]}."""

        def add_row(row: Any) -> None:
            if row is not None:  # as marketplace() drops them
                add(row)

        def decode(response: Any) -> dict:
            restart()
            head = bytearray()  # the body's first bytes, for the error message when it is not JSON

            def body() -> Any:
                for chunk in response.iter_content(CHUNK_BYTES):
                    if len(head) < _ERROR_PREVIEW:
                        head.extend(chunk[:_ERROR_PREVIEW - len(head)])
                    yield chunk

            try:
                return decode_object(text_chunks(body(), response.encoding), "servers", restart, add_row,
                                     self._row_skipper("marketplace", "servers"))
            except ValueError:
                # The body was read as it was decoded: what the error message quotes is its first bytes.
                try:
                    for _chunk in body():
                        if len(head) >= _ERROR_PREVIEW:
                            break
                except requests.RequestException:
                    pass
                response._content = bytes(head)  # pylint: disable=protected-access
                raise
            except requests.RequestException as exc:  # the connection failed while the body was read
                raise self._transport_failure("marketplace", exc) from None
            finally:
                response.close()

        answer = self.request("GET", "marketplace", decode=decode)
        return {"my_servers": _list(answer.get("my_servers"))}

    def my_orders(self, return_completed: bool = False) -> list[dict]:
        params = {"return_completed": "true"} if return_completed else None
        return _list(self.request("GET", "my_orders", params=params).get("orders"))

    def create_order(self, body: dict) -> None:
        """Rent a server. The answer has no order id: the caller finds the order in my_orders."""
        self.request("POST", "create_order", body=body)

    def cancel_order(self, order_id: int, issue: str | None = None) -> None:
        body: dict[str, Any] = {"id": order_id}
        if issue:
            body["issue"] = issue
        self.request("POST", "cancel_order", body=body)

    def spot_marketplace(self, server_id: int) -> dict:
        """The spot market of one server: the answer's `market` (offers, server, currency rates) plus `exists`."""
        answer = self.request("GET", "spot_marketplace", params={"market": server_id})
        market = answer.get("market")
        result = dict(market) if isinstance(market, dict) else {}
        result["exists"] = answer.get("exists")
        return result

    def set_spot_price(self, order_id: int, desired_price: float) -> None:
        self.request("POST", "set_spot_price", body={"order_id": order_id, "desired_price": desired_price})

    def wallets(self) -> list[dict]:
        return _list(self.request("GET", "wallets").get("wallets"))

    # ----- the host side: the servers this key offers -----
    def my_servers(self) -> list:
        """The servers this key hosts, as listed (rows not checked: the caller reads them defensively)."""
        return _list(self.request("GET", "my_servers").get("servers"))

    def server_config(self, server_name: str) -> dict:
        """One hosted server's settings; Clore takes the name as a JSON body of a GET."""
        config = self.request("GET", "server_config", body={"server_name": server_name}).get("config")
        return dict(config) if isinstance(config, dict) else {}

    def set_server_settings(self, body: dict) -> None:
        """Change a hosted server's settings; callers send every setting, so that none is reset by omission."""
        self.request("POST", "set_server_settings", body=body)


def _list(value: Any) -> list:
    return [item for item in value if item is not None] if isinstance(value, list) else []


def _root_cause(exc: BaseException) -> BaseException | None:
    """The innermost exception under requests/urllib3 wrappers, for a useful message."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "reason", None)
        if isinstance(inner, BaseException):
            current = inner
            continue
        if current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
            continue
        nxt = current.__cause__ or current.__context__
        if nxt is None:
            return current
        current = nxt
    return current


def _refused(exc: Exception) -> bool:
    """The connection was never established, so the request was never sent."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or type(current).__name__ == "NewConnectionError":
            return True
        inner = getattr(current, "reason", None)
        if isinstance(inner, BaseException):
            current = inner
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            current = current.__cause__ or current.__context__
    return False
