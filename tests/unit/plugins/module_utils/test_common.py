"""clore_argument_spec, client_from_options and run_module."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.testing import patch_module_args

from ansible_collections.clore.ai.plugins.module_utils import common
from ansible_collections.clore.ai.plugins.module_utils.client import DEFAULT_API_URL, CloreClient
from ansible_collections.clore.ai.plugins.module_utils.common import (
    OPTION_ENV,
    client_from_options,
    clore_argument_spec,
    run_module,
)
from ansible_collections.clore.ai.plugins.module_utils.errors import (
    CloreApiError,
    CloreConfigError,
    CloreShortSecretError,
)

KEY = "unit-test-key-0123456789"


def validated(params: dict) -> dict:
    result = ArgumentSpecValidator(clore_argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_argument_spec_is_fresh_and_hides_the_key():
    spec = clore_argument_spec()
    spec["api_key"]["extra"] = 1
    assert "extra" not in clore_argument_spec()["api_key"]
    assert spec["api_key"]["no_log"] is True and spec["api_key"]["required"] is True
    assert set(spec) == set(OPTION_ENV)


def test_defaults(monkeypatch):
    for name in OPTION_ENV.values():
        monkeypatch.delenv(name, raising=False)
    params = validated({"api_key": "k"})
    assert params == {"api_key": "k", "api_url": DEFAULT_API_URL, "api_timeout": 30.0, "api_user_agent": None,
                      "api_request_interval": 1.0, "api_create_interval": 5.0, "api_state_dir": None,
                      "api_retry_timeout": 120.0}


def test_every_option_falls_back_to_its_environment_variable(monkeypatch, tmp_path):
    values = {"api_key": "env-key", "api_url": "http://127.0.0.1:9/v1", "api_timeout": "7",
              "api_user_agent": "ci/1", "api_request_interval": "0", "api_create_interval": "0.5",
              "api_state_dir": str(tmp_path), "api_retry_timeout": "9"}
    for option, name in OPTION_ENV.items():
        monkeypatch.setenv(name, values[option])
    params = validated({})
    assert params["api_key"] == "env-key" and params["api_url"] == "http://127.0.0.1:9/v1"
    assert (params["api_timeout"], params["api_request_interval"], params["api_create_interval"],
            params["api_retry_timeout"]) == (7.0, 0.0, 0.5, 9.0)
    assert params["api_user_agent"] == "ci/1" and params["api_state_dir"] == str(tmp_path)


def test_an_explicit_option_beats_the_environment(monkeypatch):
    monkeypatch.setenv("CLORE_API_KEY", "env-key")
    assert validated({"api_key": "task-key"})["api_key"] == "task-key"


def test_client_from_options_builds_the_client(tmp_path):
    options = {"api_key": " key-0123456789 ", "api_url": "http://127.0.0.1:8199/v1/", "api_timeout": "12",
               "api_user_agent": "", "api_request_interval": 0, "api_create_interval": 2,
               "api_state_dir": tmp_path, "api_retry_timeout": 3}
    client = client_from_options(options.get)
    assert isinstance(client, CloreClient)
    assert client._api_key == "key-0123456789"
    assert (client.api_url, client.timeout, client.request_interval, client.create_interval, client.retry_timeout) \
        == ("http://127.0.0.1:8199/v1", 12.0, 0.0, 2.0, 3.0)
    assert client.state_dir == str(tmp_path)
    assert client.user_agent.startswith("clore.ai-ansible/")


def test_client_from_options_with_only_a_key_uses_the_defaults():
    client = client_from_options({"api_key": KEY}.get)
    assert (client.api_url, client.timeout, client.request_interval, client.create_interval,
            client.retry_timeout) == (DEFAULT_API_URL, 30.0, 1.0, 5.0, 120.0)


@pytest.mark.parametrize(
    ("options", "option", "text"),
    [
        ({"api_key": None}, "api_key", "CLORE_API_KEY"),
        ({"api_key": "  "}, "api_key", "CLORE_API_KEY"),
        ({"api_key": "a\nb-0123456789"}, "api_key", "control or non-ASCII characters"),
        ({"api_key": "kéy-with-accent"}, "api_key", "control or non-ASCII characters"),
        ({"api_key": "abc"}, "api_key", "at least 12 characters"),
        ({"api_key": " 0123456789a "}, "api_key", "at least 12 characters"),
        ({"api_url": "ftp://x/v1"}, "api_url", "http:// or https://"),
        ({"api_url": "api.clore.ai/v1"}, "api_url", "http:// or https://"),
        ({"api_url": "https://"}, "api_url", "http:// or https://"),
        ({"api_timeout": 0}, "api_timeout", "greater than 0"),
        ({"api_timeout": "soon"}, "api_timeout", "a number of seconds"),
        ({"api_request_interval": -1}, "api_request_interval", "0 or more"),
        ({"api_create_interval": -0.5}, "api_create_interval", "0 or more"),
        ({"api_retry_timeout": -3}, "api_retry_timeout", "0 or more"),
        ({"api_retry_timeout": float("nan")}, "api_retry_timeout", "finite"),
        ({"api_user_agent": "a\r\nX-Evil: 1"}, "api_user_agent", "one line"),
        ({"api_user_agent": "bot/1 \u2603"}, "api_user_agent", "printable ASCII"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options, option, text):
    options = {"api_key": KEY, **options}
    with pytest.raises(CloreConfigError) as caught:
        client_from_options(options.get)
    assert str(caught.value).startswith(option) and text in str(caught.value)
    assert caught.value.to_result() == {"option": option}


# ----- run_module -----
def run(args: dict, handler, capsys, **module_kwargs) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        run_module({"extra": {"type": "int", "default": 3}}, handler, **module_kwargs)
    return json.loads(capsys.readouterr().out)


def test_run_module_passes_module_and_client_and_exits_with_the_result(capsys, monkeypatch):
    monkeypatch.delenv("CLORE_API_KEY", raising=False)
    seen = {}

    def handler(module, client):
        seen["check"] = module.check_mode
        seen["extra"] = module.params["extra"]
        seen["client"] = client
        return {"changed": False, "answer": 42}

    out = run({"api_key": "secret-key-value", "api_request_interval": 0, "_ansible_check_mode": True}, handler,
              capsys)
    assert out["answer"] == 42 and out["changed"] is False
    assert seen["check"] is True and seen["extra"] == 3
    assert isinstance(seen["client"], CloreClient) and seen["client"].request_interval == 0.0
    assert "secret-key-value" not in json.dumps(out)


def test_run_module_lets_the_client_warn_through_the_module(capsys):
    seen = {}

    def handler(module, client):
        seen["warn"] = client.warn == module.warn  # what the limiter announces ends in the task's warnings
        return {"changed": False}

    run({"api_key": KEY}, handler, capsys)
    assert seen == {"warn": True}


def test_run_module_turns_clore_errors_into_failures_without_traceback(capsys):
    def handler(module, client):
        raise CloreApiError("Clore.ai API create_order: server-offline (code 6, HTTP 200): pick another server.",
                            endpoint="create_order", http_status=200, code=6, reason="server-offline",
                            extra={"min_price": 1.5})

    out = run({"api_key": KEY}, handler, capsys)
    assert out["failed"] is True
    assert out["msg"].startswith("Clore.ai API create_order: server-offline")
    assert (out["endpoint"], out["http_status"], out["code"], out["reason"], out["min_price"]) == \
        ("create_order", 200, 6, "server-offline", 1.5)
    assert "exception" not in out and "Traceback" not in json.dumps(out)


def test_run_module_refuses_bad_options_before_calling(capsys):
    called = []
    out = run({"api_key": KEY, "api_url": "ftp://nowhere"}, lambda m, c: called.append(1) or {}, capsys)
    assert out["failed"] is True and out["option"] == "api_url" and "api_url must be" in out["msg"]
    assert called == []


def test_run_module_without_requests_names_the_library(capsys, monkeypatch):
    monkeypatch.setattr(common, "HAS_REQUESTS", False)
    out = run({"api_key": KEY}, lambda m, c: {}, capsys)
    assert out["failed"] is True and "requests" in out["msg"]


def test_run_module_missing_key_says_where_to_set_it(capsys, monkeypatch):
    monkeypatch.delenv("CLORE_API_KEY", raising=False)
    out = run({}, lambda m, c: {}, capsys)
    assert out["failed"] is True and "api_key" in out["msg"]


# ----- secrets too short to be masked readably -----
def test_a_key_too_short_fails_with_a_readable_message_and_stays_hidden(capsys, monkeypatch):
    monkeypatch.delenv("CLORE_API_KEY", raising=False)
    called = []
    # Ansible masks every occurrence of a no_log value: with the key "e", every "e" of the message would be masked.
    out = run({"api_key": "e"}, lambda m, c: called.append(1) or {}, capsys)
    assert out["failed"] is True and called == []
    assert out["msg"].startswith("api_key is too short to be a Clore.ai API key") and "*" not in out["msg"]
    assert out["option"] == "api_key"
    assert _invocation_arg(out, "api_key") != "e"


def _invocation_arg(out: dict, name: str):
    """An argument as the failure's `invocation` shows it (ansible-core 2.21 leaves `invocation` out on this path)."""
    return out.get("invocation", {}).get("module_args", {}).get(name)


SECRET_SPEC = {"password": {"type": "str", "no_log": True}, "token": {"type": "str", "no_log": True}}


def run_secret(args: dict, capsys) -> dict:
    def handler(module, client):
        raise CloreShortSecretError("password must be at least 8 characters: set a longer one", option="password")

    with patch_module_args({"api_key": KEY} | args), pytest.raises(SystemExit):
        run_module(SECRET_SPEC, handler)
    return json.loads(capsys.readouterr().out)


def test_a_secret_refused_as_too_short_no_longer_masks_the_message(capsys):
    out = run_secret({"password": "s"}, capsys)
    assert out["msg"] == "password must be at least 8 characters: set a longer one"
    assert _invocation_arg(out, "password") != "s"


def test_a_refused_value_shared_by_another_secret_stays_masked(capsys):
    out = run_secret({"password": "qzx", "token": "qzx"}, capsys)
    assert "qzx" not in json.dumps(out)


# ----- the guards, applied to every module by run_module -----
def run_spec(spec: dict, args: dict, capsys) -> tuple[dict, list]:
    """(the module's output, the calls of its run function) for a module with this argument spec."""
    called: list = []
    with patch_module_args({"api_key": KEY} | args), pytest.raises(SystemExit):
        run_module(spec, lambda module, client: called.append(dict(module.params)) or {"changed": False})
    return json.loads(capsys.readouterr().out), called


CAP_SPEC = {"cap": {"type": "dict", "options": {"amount": {"type": "float", "required": True},
                                                "currency": {"type": "str", "default": "USD"}}},
            "order_ids": {"type": "list", "elements": "int"}, "hours": {"type": "float"},
            "env": {"type": "dict", "no_log": True}}


@pytest.mark.parametrize(("args", "start", "option"), [
    ({"hours": float("nan")}, "hours must be a finite number, got nan", "hours"),
    ({"cap": {"amount": float("inf")}}, "cap.amount must be a finite number, got inf", "cap"),
    ({"cap": float("-inf")}, "cap.amount must be a finite number, got -inf", "cap"),
    ({"cap": True}, "cap must be a number (its amount) or a dict, got true (a boolean)", "cap"),
    ({"env": 5}, "env must be a dict (key: value pairs), got a number", "env"),
    ({"order_ids": [3, -1]}, "order_ids[1] must be 1 or more", "order_ids"),
    ({"order_ids": [True]}, "order_ids[0] must be a whole number, got true (a boolean)", "order_ids"),
    ({"api_state_dir": ""}, "api_state_dir must not be empty", "api_state_dir"),
])
def test_run_module_guards_every_option_before_calling(args, start, option, capsys):
    out, called = run_spec(CAP_SPEC, args, capsys)
    assert out["failed"] is True and out["msg"].startswith(start), out
    assert out["option"] == option and called == []
    assert "Traceback" not in json.dumps(out) and "not iterable" not in out["msg"]


def test_run_module_reads_a_number_for_a_dict_as_its_one_required_sub_option(capsys):
    out, called = run_spec(CAP_SPEC, {"cap": 25}, capsys)
    assert not out.get("failed"), out
    assert called[0]["cap"] == {"amount": 25.0, "currency": "USD"}


def test_client_from_options_refuses_an_empty_state_dir():
    with pytest.raises(CloreConfigError) as caught:
        client_from_options({"api_key": KEY, "api_state_dir": ""}.get)
    assert caught.value.option == "api_state_dir"
