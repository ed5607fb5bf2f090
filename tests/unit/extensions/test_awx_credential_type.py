"""The AWX / Automation Platform credential types (extensions/awx/) feed what the collection and its roles read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from jinja2 import StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

CREDENTIAL_TYPE = Path(__file__).resolve().parents[3] / "extensions" / "awx" / "credential_type.yml"
# What every AWX release accepts in an input field (older ones refuse any other key, e.g. `default`).
FIELD_KEYS = {"id", "label", "type", "help_text", "multiline", "secret", "ask_at_runtime", "choices", "format"}


@pytest.fixture(scope="module")
def collection() -> dict:
    """What the collection reads. Imported when the tests run, not when they are collected: by then the inventory
    tests' conftest has installed Ansible's collection loader, and the collection must be imported through it."""
    from ansible_collections.clore.ai.plugins.module_utils.client import DEFAULT_API_URL
    from ansible_collections.clore.ai.plugins.module_utils.common import OPTION_ENV

    return {"option_env": OPTION_ENV, "default_api_url": DEFAULT_API_URL}


@pytest.fixture(scope="module")
def credential_type() -> dict:
    return yaml.safe_load(CREDENTIAL_TYPE.read_text())


def fields(credential_type: dict) -> dict[str, dict]:
    return {field["id"]: field for field in credential_type["inputs"]["fields"]}


def inject(credential_type: dict, inputs: dict, undefined: type[Undefined] = Undefined) -> dict[str, str]:
    """The environment AWX gives a job: each env injector rendered in a sandbox over the credential's inputs."""
    sandbox = ImmutableSandboxedEnvironment(undefined=undefined)
    return {name: sandbox.from_string(template).render(**inputs)
            for name, template in credential_type["injectors"]["env"].items()}


def test_it_is_a_custom_cloud_type_that_only_injects_environment_variables(credential_type):
    assert credential_type["kind"] == "cloud"  # attachable to job templates and inventory sources
    assert credential_type["name"] and credential_type["description"]
    assert set(credential_type["injectors"]) == {"env"}


def test_every_injected_variable_is_one_the_collection_reads(credential_type, collection):
    option_env = collection["option_env"]
    injected = set(credential_type["injectors"]["env"])
    assert injected <= set(option_env.values())
    assert {option_env["api_key"], option_env["api_url"]} <= injected
    assert not [name for name in injected if name.startswith("ANSIBLE_")]  # reserved by AWX


def test_the_key_is_a_required_secret_and_the_url_is_optional(credential_type):
    by_id = fields(credential_type)
    assert by_id["api_key"]["secret"] is True
    assert credential_type["inputs"]["required"] == ["api_key"]
    assert not by_id["api_url"].get("secret", False)
    for field in by_id.values():
        assert set(field) <= FIELD_KEYS, field
        assert field["type"] == "string" and field["label"]
        assert re.fullmatch(r"[a-zA-Z_]+[a-zA-Z0-9_]*", field["id"])


def test_injectors_use_only_defined_inputs(credential_type):
    # As AWX validates a credential type: every field defined, any undefined name an error.
    example = {field_id: "EXAMPLE" for field_id in fields(credential_type)}
    assert inject(credential_type, example, StrictUndefined) == {"CLORE_API_KEY": "EXAMPLE", "CLORE_API_URL": "EXAMPLE"}


def test_without_a_url_the_real_api_is_injected(credential_type, collection):
    default_api_url = collection["default_api_url"]
    # AWX leaves an empty optional input out of the namespace.
    env = inject(credential_type, {"api_key": "my-key"})
    assert env == {"CLORE_API_KEY": "my-key", "CLORE_API_URL": default_api_url}
    assert inject(credential_type, {"api_key": "k", "api_url": ""})["CLORE_API_URL"] == default_api_url
    assert inject(credential_type, {"api_key": "k", "api_url": "http://sim:8199/v1"})["CLORE_API_URL"] == \
        "http://sim:8199/v1"


# ----- the SSH key pair for clore.ai.gpu_fleet (extensions/awx/ssh_key_credential_type.yml) -----
SSH_KEY_TYPE = CREDENTIAL_TYPE.parent / "ssh_key_credential_type.yml"
GPU_FLEET_SPECS = CREDENTIAL_TYPE.parents[2] / "roles" / "gpu_fleet" / "meta" / "argument_specs.yml"


@pytest.fixture(scope="module")
def ssh_key_type() -> dict:
    return yaml.safe_load(SSH_KEY_TYPE.read_text())


class _Tower:
    filename = "/runner/env/tmpkey"


def test_ssh_key_type_writes_the_private_key_to_a_file_and_passes_gpu_fleet_variables(ssh_key_type, credential_type):
    # A type of its own: AWX attaches at most one credential of each type to a job template.
    assert ssh_key_type["kind"] == "cloud" and ssh_key_type["name"] != credential_type["name"]
    by_id = fields(ssh_key_type)
    private = by_id["ssh_private_key"]
    assert private["secret"] is True and private["multiline"] is True and private["format"] == "ssh_private_key"
    assert sorted(ssh_key_type["inputs"]["required"]) == ["ssh_private_key", "ssh_public_key"]
    for field in by_id.values():
        assert set(field) <= FIELD_KEYS, field
    assert set(ssh_key_type["injectors"]) == {"file", "extra_vars"}  # nothing in the environment

    role_options = yaml.safe_load(GPU_FLEET_SPECS.read_text())["argument_specs"]["main"]["options"]
    extra_vars = ssh_key_type["injectors"]["extra_vars"]
    assert set(extra_vars) == {"gpu_fleet_ssh_private_key_file", "gpu_fleet_ssh_public_key"}
    assert set(extra_vars) <= set(role_options)

    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    inputs = {"ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n", "ssh_public_key": "ssh-ed25519 AAAA x",
              "tower": _Tower()}
    assert sandbox.from_string(ssh_key_type["injectors"]["file"]["template"]).render(**inputs) == \
        inputs["ssh_private_key"]
    rendered = {name: sandbox.from_string(value).render(**inputs) for name, value in extra_vars.items()}
    assert rendered == {"gpu_fleet_ssh_private_key_file": "/runner/env/tmpkey",
                        "gpu_fleet_ssh_public_key": "ssh-ed25519 AAAA x"}
