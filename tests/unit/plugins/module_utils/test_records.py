"""The locked JSON records of the state directory: reading, writing back only on change, modes, durable replacement."""
from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.records import locked_record, overwrite

# Children in a fresh interpreter: forking a multi-threaded process (a pytest-xdist worker) may deadlock the child,
# as Python 3.12 and later warn.
PROCESSES = multiprocessing.get_context("spawn")


@pytest.fixture(params=[False, True], ids=["in-place", "durable"])
def durable(request) -> bool:
    return request.param


def test_a_change_is_written_back_and_read_again(tmp_path: Path, durable: bool):
    path = tmp_path / "state" / "thing-acct.json"
    with locked_record(path, durable=durable) as record:
        assert record == {}
        record["a"] = [1, 2]
    assert json.loads(path.read_text()) == {"a": [1, 2]}
    with locked_record(path, durable=durable) as record:
        assert record == {"a": [1, 2]}


def test_directory_0700_and_file_0600(tmp_path: Path, durable: bool):
    path = tmp_path / "state" / "thing-acct.json"
    umask = os.umask(0o022)
    try:
        with locked_record(path, durable=durable) as record:
            record["a"] = 1
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if durable:
        assert stat.S_IMODE(path.with_suffix(".lock").stat().st_mode) == 0o600


def test_nothing_is_written_when_nothing_changed(tmp_path: Path, durable: bool):
    path = tmp_path / "thing-acct.json"
    path.write_text('{"b": 1,   "a": 2}')
    before = path.stat().st_ino, path.read_text()
    with locked_record(path, durable=durable) as record:
        record["a"] = 2  # the same value: no change
    assert (path.stat().st_ino, path.read_text()) == before


def test_a_durable_record_is_not_created_by_reading(tmp_path: Path):
    path = tmp_path / "thing-acct.json"
    with locked_record(path, durable=True) as record:
        assert record == {}
    assert not path.exists() and path.with_suffix(".lock").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "3", ""])
def test_a_torn_or_foreign_file_reads_as_empty(tmp_path: Path, durable: bool, content: str):
    path = tmp_path / "thing-acct.json"
    path.write_text(content)
    with locked_record(path, durable=durable) as record:
        assert record == {}
        record["x"] = 1
    assert json.loads(path.read_text()) == {"x": 1}


def test_a_file_that_is_not_json_is_rewritten(tmp_path: Path, durable: bool):
    path = tmp_path / "thing-acct.json"
    path.write_text("{not json")
    with locked_record(path, durable=durable):
        pass
    assert json.loads(path.read_text()) == {}


def test_nothing_is_written_when_the_block_raises(tmp_path: Path, durable: bool):
    path = tmp_path / "thing-acct.json"
    path.write_text('{"a": 1}')
    with pytest.raises(RuntimeError), locked_record(path, durable=durable) as record:
        record["a"] = 2
        raise RuntimeError("stop")
    assert json.loads(path.read_text()) == {"a": 1}


def test_a_shorter_record_leaves_no_tail_of_the_longer_one(tmp_path: Path):
    path = tmp_path / "thing-acct.json"
    with locked_record(path) as record:
        record["long"] = "x" * 500
    with locked_record(path) as record:
        del record["long"]
        record["short"] = 1
    assert json.loads(path.read_text()) == {"short": 1}


def test_a_file_rewritten_in_place_is_never_cut_to_empty_first(tmp_path: Path, monkeypatch):
    # ext4 flushes a file that was cut to empty and written again when it is closed (auto_da_alloc): under disk load
    # that close stalls the caller, and the rate limiter closes its file between a departure and the send.
    path = tmp_path / "limiter.json"
    path.write_bytes(b"{" + b" " * 1000 + b"}")
    lengths = []
    real_ftruncate = os.ftruncate

    def ftruncate(fd: int, length: int) -> None:
        lengths.append(length)
        real_ftruncate(fd, length)

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    fd = os.open(path, os.O_RDWR)
    try:
        overwrite(fd, b'{"a":1}')
    finally:
        os.close(fd)
    assert path.read_bytes() == b'{"a":1}'
    assert lengths == [7]


def test_durable_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path):
    path = tmp_path / "thing-acct.json"
    path.write_text('{"a": 1}')
    inode = path.stat().st_ino
    with locked_record(path, durable=True) as record:
        record["a"] = 2
    assert path.stat().st_ino != inode  # a new file renamed over the old: never a truncated one
    assert json.loads(path.read_text()) == {"a": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing-acct.json", "thing-acct.lock"]


def test_durable_needs_a_lock_file_of_its_own(tmp_path: Path):
    with pytest.raises(ValueError), locked_record(tmp_path / "thing.lock", durable=True):
        pass


def _add(path: Path, durable: bool, key: str, rounds: int) -> None:
    for i in range(rounds):
        with locked_record(path, durable=durable) as record:
            record[f"{key}{i}"] = i


def test_processes_never_lose_each_others_changes(tmp_path: Path, durable: bool):
    path = tmp_path / "thing-acct.json"
    children = [PROCESSES.Process(target=_add, args=(path, durable, key, 25)) for key in "ab"]
    for child in children:
        child.start()
    _add(path, durable, "c", 25)
    for child in children:
        child.join(timeout=30)
    with locked_record(path, durable=durable) as record:
        assert len(record) == 75
