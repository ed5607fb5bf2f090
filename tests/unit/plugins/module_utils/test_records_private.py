"""records: a corrupt state file is moved aside and reported, never silently emptied; everything written is private
to the user (directories 0700, parents included, files 0600, older wider files narrowed)."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils import records
from ansible_collections.clore.ai.plugins.module_utils.records import locked_record, private_dir, report_to


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def warnings(monkeypatch):
    heard: list[str] = []
    monkeypatch.setattr(records, "_report", None)
    report_to(heard.append)
    return heard


@pytest.mark.parametrize("durable", [False, True])
@pytest.mark.parametrize("content, why", [
    ("{not json", "is not JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "is JSON nested deeper than 64 levels"),
])
def test_a_corrupt_file_is_moved_aside_and_reported(tmp_path, warnings, durable, content, why):
    path = tmp_path / "inflight-acct.json"
    path.write_text(content)
    with locked_record(path, durable=durable) as record:
        assert record == {}
        record["x"] = 1
    assert json.loads(path.read_text()) == {"x": 1}
    [aside] = tmp_path.glob("inflight-acct.json.corrupt-*")
    assert aside.read_text() == content and mode(aside) == 0o600
    assert warnings == [f"clore.ai state file {path} {why} ({len(content)} bytes): it was moved aside to "
                        f"{aside.name} and is started afresh"]


@pytest.mark.parametrize("durable", [False, True])
def test_a_sound_or_missing_file_is_not_reported(tmp_path, warnings, durable):
    path = tmp_path / "claims-acct.json"
    with locked_record(path, durable=durable) as record:
        record["a"] = 1
    with locked_record(path, durable=durable) as record:
        assert record == {"a": 1}
    assert warnings == [] and not list(tmp_path.glob("*.corrupt-*"))


def test_without_a_listener_the_report_goes_to_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(records, "_report", None)
    path = tmp_path / "bad-acct.json"
    path.write_text("{torn")
    with locked_record(path):
        pass
    assert f"[WARNING]: clore.ai state file {path} is not JSON" in capsys.readouterr().err


def test_a_corrupt_file_that_cannot_be_kept_aside_says_so(tmp_path, warnings, monkeypatch):
    path = tmp_path / "bad-acct.json"
    path.write_text("{torn")
    real_open = os.open

    def refuse_aside(name, flags, *args):
        if ".corrupt-" in str(name):
            raise PermissionError(13, "Permission denied")
        return real_open(name, flags, *args)

    monkeypatch.setattr(records.os, "open", refuse_aside)
    with locked_record(path):
        pass
    assert warnings == [f"clore.ai state file {path} is not JSON (5 bytes) and could not be kept aside "
                        "(Permission denied): it is started afresh"]


def test_private_dir_makes_every_missing_parent_0700(tmp_path):
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "a" / "b" / "c"
    private_dir(target)
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", target)] == [0o700] * 3
    assert mode(tmp_path) == 0o755  # what existed is left as it was
    private_dir(target)  # again: nothing to do


def test_private_dir_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "file")
    with pytest.raises(OSError):
        private_dir(tmp_path / "file" / "below")


@pytest.mark.parametrize("durable", [False, True])
def test_an_older_wider_file_is_narrowed(tmp_path, durable):
    path = tmp_path / "orders-acct.json"
    lock = path.with_suffix(".lock") if durable else path
    lock.write_text("{}")
    os.chmod(lock, 0o644)
    with locked_record(path, durable=durable) as record:
        record["a"] = 1
    assert mode(lock) == 0o600 and mode(path) == 0o600


def test_records_are_private_under_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "state" / "deep" / "thing-acct.json"
        with locked_record(path, durable=True) as record:
            record["a"] = 1
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.with_suffix(".lock")) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
