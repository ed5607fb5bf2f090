"""The errors the collection raises on purpose, and the translation of Clore.ai answer codes into them.

Every message is complete and says what to do: modules pass `str(err)` to `fail_json` unchanged.
"""
from __future__ import annotations

from typing import Any

# Result keys Ansible reads for itself: a `skipped` or `rc` among a failure's fields would change how the task is shown.
ANSIBLE_RESULT_KEYS = frozenset({
    "changed", "failed", "skipped", "unreachable", "msg", "results", "rc", "stdout", "stderr", "stdout_lines",
    "stderr_lines", "invocation", "ansible_facts", "warnings", "deprecations", "exception", "module_stdout",
    "module_stderr", "item", "backup_file", "attempts", "retries", "diff", "censored", "skip_reason", "skipped_reason",
    "false_condition", "failed_when_result", "changed_when_result", "checksum", "module_args",
})
# Answer fields that never go into `extra`: they are decoded elsewhere or would clash with fail_json's own keys.
_RESERVED_FIELDS = frozenset({"code", "error", "endpoint", "http_status", "reason", "ambiguous"}) | ANSIBLE_RESULT_KEYS
_RESERVED_PREFIXES = ("_ansible_", "ansible_")
# Short values only: an answer may carry a whole listing next to its code, which helps nobody in an error.
_MAX_EXTRA_TEXT = 200

CODE_MEANINGS = {
    0: "ok",
    1: "database error",
    2: "invalid input data",
    3: "invalid API token",
    4: "invalid endpoint",
    5: "rate limit exceeded",
    6: "application error",
}


class CloreError(Exception):
    """Base of every error raised on purpose; str(err) is a complete, user-facing message."""

    def to_result(self) -> dict[str, Any]:
        """Fields for `fail_json` next to `msg`."""
        return {}


class CloreConfigError(CloreError):
    """Bad or missing options, found before any API call."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option

    def to_result(self) -> dict[str, Any]:
        return {"option": self.option} if self.option else {}


class CloreShortSecretError(CloreConfigError):
    """A no_log option refused because it is too short to be a real secret.

    Ansible masks every occurrence of a no_log value in a task's output, so with a value like `1` or `abc` the message
    itself would be unreadable. The value is refused (never sent anywhere), so run_module stops masking it.
    """


class CloreApiError(CloreError):
    """A failed API call: the endpoint, what came back and whether a POST may have taken effect anyway."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        http_status: int | None = None,
        code: int | None = None,
        reason: str | None = None,
        extra: dict[str, Any] | None = None,
        ambiguous: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.http_status = http_status
        self.code = code
        self.reason = reason
        self.extra = dict(extra or {})
        self.ambiguous = ambiguous
        # Seconds the server asked us to wait (Retry-After); used by the retry policy only.
        self.retry_after = retry_after

    @property
    def rate_limited(self) -> bool:
        return self.code == 5 or self.http_status == 429

    def to_result(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "http_status": self.http_status,
            "code": self.code,
            "reason": self.reason,
            "ambiguous": self.ambiguous,
            **self.extra,
        }

    def with_message(self, message: str, **changes: Any) -> CloreApiError:
        """A copy with another message (and optionally other fields), for errors re-raised with more context."""
        fields = {
            "endpoint": self.endpoint,
            "http_status": self.http_status,
            "code": self.code,
            "reason": self.reason,
            "extra": self.extra,
            "ambiguous": self.ambiguous,
            "retry_after": self.retry_after,
        }
        fields.update(changes)
        return CloreApiError(message, **fields)


def extra_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The answer's scalar fields besides code and error: max_step, time_to_lowering, min_price and the like."""
    extra: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str) or key in _RESERVED_FIELDS or key.startswith(_RESERVED_PREFIXES):
            continue
        if isinstance(value, (bool, int, float)) or value is None:
            extra[key] = value
        elif isinstance(value, str) and len(value) <= _MAX_EXTRA_TEXT:
            extra[key] = value
    return extra


def _status_text(http_status: int | None) -> str:
    return f", HTTP {http_status}" if http_status is not None else ""


def _reason_advice(reason: str, extra: dict[str, Any], request_body: dict[str, Any] | None) -> str:
    """What a code-6 reason means for the user, and what to do about it."""
    body = request_body or {}
    currency = body.get("currency")
    server = body.get("renting_server")
    server_text = f"server {server}" if server is not None else "the server"
    if reason == "server-already-rented":
        return f"{server_text} is already rented: pick another server"
    if reason == "server-offline":
        return f"{server_text} is offline: pick another server"
    if reason == "not_enough_balance":
        wallet = f"your {currency} wallet" if currency else "the wallet of the order's currency"
        return (f"not enough balance in {wallet}: top it up (clore.ai.clore_wallet_info shows balances and "
                f"deposit addresses) or pay in another currency")
    if reason == "too_low_price":
        minimum = extra.get("min_price")
        floor = f" ({minimum} per day)" if minimum is not None else ""
        return f"the spot price is below the host's minimum{floor}: bid at least the minimum"
    if reason == "currency-not-allowed":
        which = currency or "the requested currency"
        return f"{server_text} does not accept {which}: choose one of the server's allowed currencies"
    if reason == "exceeded_max_step":
        step = extra.get("max_step")
        limit = f" (at most {step} at once)" if step is not None else ""
        return f"the spot price was lowered too far in one step{limit}: lower it in smaller steps"
    if reason == "can_lower_every_600_seconds":
        wait = extra.get("time_to_lowering")
        when = f"try again in {wait} s" if wait is not None else "try again later"
        return f"a spot price can be lowered only once every 600 seconds: {when} (raising it is always allowed)"
    return f"the API refused the request: {reason}"


def api_error_from_answer(
    endpoint: str,
    http_status: int | None,
    payload: dict[str, Any],
    request_body: dict[str, Any] | None = None,
    retry_after: float | None = None,
) -> CloreApiError:
    """The error for a JSON answer whose code is not 0 (or that has no usable code)."""
    code = payload.get("code")
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        code = int(code)
    reason = payload.get("error")
    reason = str(reason) if reason not in (None, "") else None
    extra = extra_fields(payload)
    where = f"Clore.ai API {endpoint}"
    status = _status_text(http_status)
    if code == 1:
        advice = ("the server had a database error; reads are retried, but a request that changes something may "
                  "have taken effect anyway: look at your orders (clore.ai.clore_order_info) before repeating it")
    elif code == 2:
        advice = "the request's data was refused as invalid"
        advice += f" ({reason})" if reason else ""
        advice += ": check the module's arguments against its documentation"
    elif code == 3:
        advice = "the API key was refused: check api_key / CLORE_API_KEY (the raw key, without 'Bearer')"
    elif code == 4:
        advice = "the endpoint does not exist: check api_url / CLORE_API_URL (it ends in /v1)"
    elif code == 5:
        advice = ("the rate limit was still exceeded when retries ran out: another program may be using the same "
                  "key; raise api_request_interval or api_retry_timeout")
    elif code == 6:
        advice = _reason_advice(reason or "no reason given", extra, request_body)
    elif code is None:
        advice = "the answer carries no code"
    else:
        advice = "the answer code is unknown to this collection"
    meaning = CODE_MEANINGS.get(code, "unexpected answer") if isinstance(code, int) else "unexpected answer"
    if code == 6 and reason:
        meaning = reason
    message = f"{where}: {meaning} (code {code}{status}): {advice}."
    return CloreApiError(message, endpoint=endpoint, http_status=http_status, code=code if isinstance(code, int) else None,
                         reason=reason, extra=extra, retry_after=retry_after)


def api_error_from_text(endpoint: str, http_status: int, text: str, retry_after: float | None = None) -> CloreApiError:
    """The error for an answer that is not a JSON object: a Cloudflare page, an HTML 502, an empty body."""
    snippet = " ".join(text.split())[:160]
    shown = repr(snippet) if snippet else "an empty body"
    message = f"Clore.ai API {endpoint}: HTTP {http_status} with a body that is not JSON: {shown}"
    if "1010" in snippet and http_status == 403:
        message += (". Cloudflare refused the request's User-Agent (error 1010): leave api_user_agent / "
                    "CLORE_API_USER_AGENT unset to send the collection's own, or set a descriptive one")
    elif http_status == 429:
        message += ". The rate limit was still exceeded when retries ran out: raise api_request_interval"
    elif http_status >= 500:
        message += ". The service or a proxy in front of it failed: try again later"
    elif http_status in (401, 403):
        message += ". Access was refused: check api_key / CLORE_API_KEY and api_url / CLORE_API_URL"
    elif http_status == 404:
        message += ". Check api_url / CLORE_API_URL (it ends in /v1)"
    return CloreApiError(message + ".", endpoint=endpoint, http_status=http_status, retry_after=retry_after)
