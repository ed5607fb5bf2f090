"""An inventory file that says `plugin: clore.ai.clore` but is not named *clore.yml / *clore.yaml: ansible-inventory
names the file-name rule (not Ansible's generic "could not be verified"), before any API call."""
from __future__ import annotations

from pathlib import Path

from ..conftest import COLLECTIONS_PATH
from ..playbook import base_env, run_inventory


def test_a_wrongly_named_inventory_file_is_refused_naming_the_rule(tmp_path: Path):
    config = tmp_path / "gpus.yml"
    # A closed port: were the API called, the error would say so instead.
    config.write_text("plugin: clore.ai.clore\napi_key: never-used-0123456789\napi_url: http://127.0.0.1:9/v1\n")
    proc = run_inventory(config, base_env(COLLECTIONS_PATH, tmp_path), "--list")
    output = proc.stdout + proc.stderr
    assert f"clore.ai.clore inventory {config}: the file name must end in clore.yml or clore.yaml " \
           "(for example gpus.clore.yml)" in " ".join(output.split()), output
    assert "could not be verified" not in output, output
