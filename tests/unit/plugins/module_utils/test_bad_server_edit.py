"""clore_bad_servers's task (bad_server_edit.py): options checked first, recording idempotent, clearing, check mode."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.bad_server_edit import check_request, run_bad_servers
from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BadServers
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from module_fake import FakeModule


class Account:
    def __init__(self, state_path) -> None:
        self.state_path, self.account = state_path, "acct"


def params(**overrides) -> dict:
    return {"state": None, "server_ids": [], "reason": None, "order_id": None, "bad_server_ttl": 24} | overrides


@pytest.mark.parametrize("overrides, option", [
    ({"bad_server_ttl": -1}, "bad_server_ttl"),
    ({"state": "present", "server_ids": [1], "reason": "  "}, "reason"),
    ({"state": "present", "reason": "no banner"}, "reason"),
])
def test_bad_requests_are_refused_naming_the_option(overrides, option):
    with pytest.raises(CloreConfigError) as caught:
        check_request(params(**overrides))
    assert caught.value.option == option


def test_recording_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    present = params(state="present", server_ids=[4, 5], reason="no SSH banner", order_id=9)
    would = run_bad_servers(FakeModule(present, check_mode=True), Account(tmp_path))
    assert would["recorded"] == [4, 5] and would["changed"] is True and would["bad_servers"] == []
    first = run_bad_servers(FakeModule(present), Account(tmp_path))
    assert [e["server_id"] for e in first["bad_servers"]] == [4, 5]
    again = run_bad_servers(FakeModule(present), Account(tmp_path))
    assert again["changed"] is False and again["recorded"] == []


def test_absent_clears_the_named_servers_or_every_one(tmp_path):
    for server_id in (1, 2, 3):
        BadServers(tmp_path, "acct").record(server_id, "x")
    assert run_bad_servers(FakeModule(params(state="absent", server_ids=[2, 8])), Account(tmp_path))["cleared"] == [2]
    result = run_bad_servers(FakeModule(params(state="absent")), Account(tmp_path))
    assert result["cleared"] == [1, 3] and result["bad_servers"] == []
    listed = run_bad_servers(FakeModule(params()), Account(tmp_path))
    assert listed["changed"] is False and listed["bad_servers"] == []
