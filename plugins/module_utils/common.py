"""What every module and the inventory plugin share: the connection options, building the client, running a module."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.clore.ai.plugins.module_utils.client import (
    DEFAULT_API_URL,
    DEFAULT_CREATE_INTERVAL,
    DEFAULT_REQUEST_INTERVAL,
    DEFAULT_RETRY_TIMEOUT,
    DEFAULT_TIMEOUT,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CloreClient,
)
from ansible_collections.clore.ai.plugins.module_utils.errors import (
    CloreConfigError,
    CloreError,
    CloreShortSecretError,
)
from ansible_collections.clore.ai.plugins.module_utils.guards import check_not_empty, check_params, widen_scalars

# Shorter than any real key; a key this short would also make Ansible mask every occurrence of it in the output.
API_KEY_MIN_LENGTH = 12
# What Ansible itself shows in place of a no_log value.
_HIDDEN = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# option name -> environment variable; the doc fragment documents the same pairs.
OPTION_ENV = {
    "api_key": "CLORE_API_KEY",
    "api_url": "CLORE_API_URL",
    "api_timeout": "CLORE_API_TIMEOUT",
    "api_user_agent": "CLORE_API_USER_AGENT",
    "api_request_interval": "CLORE_API_REQUEST_INTERVAL",
    "api_create_interval": "CLORE_API_CREATE_INTERVAL",
    "api_state_dir": "CLORE_STATE_DIR",
    "api_retry_timeout": "CLORE_API_RETRY_TIMEOUT",
}


def clore_argument_spec() -> dict:
    """The connection options of every module (a fresh dict each call: callers may extend it)."""

    def env(option: str) -> tuple:
        return (env_fallback, [OPTION_ENV[option]])

    return {
        "api_key": {"type": "str", "required": True, "no_log": True, "fallback": env("api_key")},
        "api_url": {"type": "str", "default": DEFAULT_API_URL, "fallback": env("api_url")},
        "api_timeout": {"type": "float", "default": DEFAULT_TIMEOUT, "fallback": env("api_timeout")},
        "api_user_agent": {"type": "str", "fallback": env("api_user_agent")},
        "api_request_interval": {"type": "float", "default": DEFAULT_REQUEST_INTERVAL,
                                 "fallback": env("api_request_interval")},
        "api_create_interval": {"type": "float", "default": DEFAULT_CREATE_INTERVAL,
                                "fallback": env("api_create_interval")},
        "api_state_dir": {"type": "path", "fallback": env("api_state_dir")},
        "api_retry_timeout": {"type": "float", "default": DEFAULT_RETRY_TIMEOUT,
                              "fallback": env("api_retry_timeout")},
    }


def _number(get_option: Callable[[str], Any], option: str, default: float, *, positive: bool) -> float:
    value = get_option(option)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CloreConfigError(f"{option} must be a number of seconds, got {value!r}.", option=option) from None
    if not math.isfinite(number):
        raise CloreConfigError(f"{option} must be a finite number of seconds, got {value!r}.", option=option)
    if positive and number <= 0:
        raise CloreConfigError(f"{option} must be greater than 0, got {value!r}.", option=option)
    if number < 0:
        raise CloreConfigError(f"{option} must be 0 or more, got {value!r}.", option=option)
    return number


def client_from_options(get_option: Callable[[str], Any], warn: Callable[[str], None] | None = None) -> CloreClient:
    """A client from the connection options (module.params.get, or an inventory plugin's get_option).

    Everything is validated here, before any API call, with messages naming the option. `warn` receives what the
    user should hear about while a call is held back (module.warn, or the inventory's display.warning).
    """
    api_key = get_option("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise CloreConfigError(
            "api_key is missing: set the api_key option (or module_defaults for group/clore.ai.clore) "
            "or the environment variable CLORE_API_KEY.",
            option="api_key",
        )
    api_key = api_key.strip()
    if len(api_key) < API_KEY_MIN_LENGTH:
        raise CloreShortSecretError(
            f"api_key is too short to be a Clore.ai API key: at least {API_KEY_MIN_LENGTH} characters are required "
            "(for clore-sim keys too). Check api_key / CLORE_API_KEY.",
            option="api_key",
        )
    if not api_key.isascii() or not api_key.isprintable():
        # HTTP headers carry ASCII only; anything else is a copy-paste accident, not a key.
        raise CloreConfigError("api_key contains control or non-ASCII characters: check api_key / CLORE_API_KEY.",
                               option="api_key")
    api_url = get_option("api_url") or DEFAULT_API_URL
    if not isinstance(api_url, str) or not api_url.lower().startswith(("http://", "https://")) \
            or len(api_url.split("://", 1)[1].strip("/")) == 0:
        raise CloreConfigError(
            f"api_url must be an http:// or https:// URL such as {DEFAULT_API_URL}, got {api_url!r}.",
            option="api_url",
        )
    user_agent = get_option("api_user_agent")
    if user_agent is not None and not isinstance(user_agent, str):
        raise CloreConfigError(f"api_user_agent must be a string, got {user_agent!r}.", option="api_user_agent")
    if user_agent and not (user_agent.isascii() and user_agent.isprintable()):
        raise CloreConfigError("api_user_agent must be one line of printable ASCII.", option="api_user_agent")
    state_dir = get_option("api_state_dir")
    check_not_empty("api_state_dir", state_dir)
    return CloreClient(
        api_key,
        api_url=api_url.strip(),
        timeout=_number(get_option, "api_timeout", DEFAULT_TIMEOUT, positive=True),
        user_agent=user_agent or None,
        request_interval=_number(get_option, "api_request_interval", DEFAULT_REQUEST_INTERVAL, positive=False),
        create_interval=_number(get_option, "api_create_interval", DEFAULT_CREATE_INTERVAL, positive=False),
        state_dir=str(state_dir) if state_dir else None,
        retry_timeout=_number(get_option, "api_retry_timeout", DEFAULT_RETRY_TIMEOUT, positive=False),
        warn=warn,
    )


class CloreModule(AnsibleModule):
    """AnsibleModule whose input is widened before Ansible's checks (guards.widen_scalars).

    `refusal` holds what widening refused; run_module raises it before anything else.
    """

    refusal: CloreConfigError | None = None

    def _load_params(self) -> None:
        super()._load_params()
        self.refusal = widen_scalars(self.argument_spec, self.params)


def run_module(argument_spec: dict, run: Callable[[AnsibleModule, CloreClient], dict], **module_kwargs: Any) -> None:
    """Build the module and the client, call `run(module, client)`, exit with its result.

    Every module's input passes the guards (guards.py) before the client is built. Known failures (CloreError) end
    in fail_json with a clear message and the error's fields, never a traceback.
    """
    module_kwargs.setdefault("supports_check_mode", True)
    module = CloreModule(argument_spec=clore_argument_spec() | argument_spec, **module_kwargs)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    client = None
    try:
        if module.refusal is not None:
            raise module.refusal
        check_params(module.argument_spec, module.params)
        client = client_from_options(module.params.get, warn=module.warn)
        result = run(module, client)
    except CloreError as err:
        if isinstance(err, CloreShortSecretError):
            _stop_masking(module, err.option)
        module.fail_json(msg=str(err), **err.to_result())
    finally:
        if client is not None:
            client.close()
    module.exit_json(**result)


def _stop_masking(module: AnsibleModule, option: str | None) -> None:
    """Let the message about a refused, too-short secret be read: Ansible would mask every occurrence of it.

    The value is hidden from the invocation instead; it stays masked if another secret has the same value.
    """
    value = module.params.get(option) if option else None
    if not isinstance(value, str):
        return
    others = set()
    for name, spec in module.argument_spec.items():
        if spec.get("no_log") and name != option:
            others.update(_strings(module.params.get(name)))
    module.params[option] = _HIDDEN
    if value not in others:
        module.no_log_values.discard(value)


def _strings(value: Any) -> list[str]:
    """Every scalar in a (nested) option value, as Ansible lists no_log values."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, (list, tuple, set)):
        return [text for item in value for text in _strings(item)]
    if value is None or isinstance(value, bool):
        return []
    return [str(value)]
