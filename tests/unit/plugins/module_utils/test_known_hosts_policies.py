"""known_hosts.py: where each order's known_hosts file lives and the ssh options of each host-key policy."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest


from ansible_collections.clore.ai.plugins.module_utils.known_hosts import (  # noqa: E402
    known_hosts_dir,
    known_hosts_file,
    ssh_common_args,
)


def test_per_order_args_survive_shell_splitting_with_spaces():
    path = "/tmp/my state/known_hosts/order-7-1700000000"
    args = shlex.split(ssh_common_args("per_order", path))
    assert args == ["-o", f"UserKnownHostsFile={path}", "-o", "StrictHostKeyChecking=accept-new"]


def test_each_order_and_creation_time_has_its_own_file(tmp_path: Path):
    files = {known_hosts_file(str(tmp_path), 7, 100), known_hosts_file(str(tmp_path), 7, 200),
             known_hosts_file(str(tmp_path), 8, 100)}
    assert len(files) == 3 and all(Path(f).parent == tmp_path for f in files)


def test_directory_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert known_hosts_dir(str(tmp_path / "explicit"), str(tmp_path / "state")) == str(tmp_path / "explicit")
    assert known_hosts_dir(None, str(tmp_path / "state")) == str(tmp_path / "state" / "known_hosts")
    assert known_hosts_dir(None, None) == str(tmp_path / "xdg" / "clore.ai" / "known_hosts")


def test_unknown_policy_and_missing_file_are_refused():
    with pytest.raises(ValueError, match="per_order, strict, off"):
        ssh_common_args("maybe")
    with pytest.raises(ValueError, match="known_hosts file"):
        ssh_common_args("per_order", None)
