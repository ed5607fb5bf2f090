"""The bad-server record: per account, with a time to live, cleared on demand, robust to a torn file."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers, check_ttl, skip_bad


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_record_counts_within_its_ttl_only(tmp_path):
    clock = Clock()
    records = BadServers(tmp_path, "acct", clock=clock)
    records.record(7, "no SSH banner", order_id=70)
    assert set(records.active(24)) == {7} and records.active(24)[7]["order_id"] == 70
    clock.now += 24 * 3600 + 1
    assert records.active(24) == {} and [e["server_id"] for e in records.entries()] == [7]
    assert records.active(0) == {}  # 0 turns the memory off


def test_accounts_do_not_share_records_and_clear_forgets(tmp_path):
    BadServers(tmp_path, "a").record(1, "x")
    BadServers(tmp_path, "a").record(2, "y")
    assert BadServers(tmp_path, "b").active(24) == {}
    assert BadServers(tmp_path, "a").clear([2, 3]) == [2]
    assert set(BadServers(tmp_path, "a").active(24)) == {1}
    assert BadServers(tmp_path, "a").clear() == [1] and BadServers(tmp_path, "a").entries() == []


def test_a_torn_file_is_forgotten_not_fatal(tmp_path):
    records = BadServers(tmp_path, "a")
    records.path.write_text('{"1": {"server_id": 1, "reas')
    assert records.active(24) == {}
    records.record(4, "gpu mismatch")
    assert set(records.active(24)) == {4}


def test_skip_bad_counts_what_it_passes_over():
    kept, skipped = skip_bad([{"id": 1}, {"id": 2}, {"id": 3}], {2: {}})
    assert [s["id"] for s in kept] == [1, 3] and skipped == 1


def test_negative_ttl_is_refused():
    assert check_ttl(None) == 24.0 and check_ttl(0) == 0.0
    with pytest.raises(ValueError, match="bad_server_ttl"):
        check_ttl(-1)
