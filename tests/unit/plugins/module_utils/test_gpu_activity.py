"""clore_gpu_activity's task (gpu_activity.py): samples checked, only active orders observed, idle and busy told,
ended orders' records forgotten, nothing written in check mode."""
from __future__ import annotations

import json

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.gpu_activity import (
    active_order_ids,
    check_thresholds,
    idle_report,
    read_samples,
    run_gpu_activity,
)
from ansible_collections.clore.ai.plugins.module_utils.reaping import GpuActivity
from module_fake import FakeModule
from order_fakes import FakeClore, server

NOW = 1_700_000_000.0


def kept(state_path) -> dict:
    """What is written of the GPU activity (the file exists once locked, empty until written)."""
    text = GpuActivity(state_path, "acct").path.read_text()
    return json.loads(text) if text else {}


def test_read_samples_takes_a_number_or_a_list_per_order_and_names_a_bad_key():
    assert read_samples({"7": [1, "2.5"], 8: 30, "9": []}) == {7: [1.0, 2.5], 8: [30.0]}
    with pytest.raises(CloreConfigError) as caught:
        read_samples({"seven": [1]})
    assert caught.value.option == "utilization" and "'seven'" in str(caught.value)


@pytest.mark.parametrize("util, minutes", [(-1, 60), (101, 60), (10, -1)])
def test_thresholds_out_of_range_are_refused(util, minutes):
    with pytest.raises(CloreConfigError):
        check_thresholds(util, minutes)


def test_active_order_ids_leave_out_ended_and_malformed_orders():
    assert active_order_ids([{"id": 1, "si": 5}, {"id": 2, "si": 5, "expired": True}, {"x": 1}]) == {1}


def test_idle_report_counts_minutes_from_idle_since():
    seen = {1: {"busy": False, "idle_since": NOW - 3600}, 2: {"busy": True, "idle_since": None}}
    report = idle_report(seen, NOW, 60)
    assert report["idle"] == [1] and report["busy"] == [2] and report["orders"]["1"]["idle_minutes"] == 60.0


def test_run_observes_active_orders_only_and_writes_nothing_in_check_mode(tmp_path):
    fake = FakeClore([server(1, 1.0), server(2, 1.0)], now=NOW)
    active, ended = fake.add_order(1, "ubuntu"), fake.add_order(2, "ubuntu")
    ended["expired"] = True
    fake.state_path, fake.account, fake.server_time = tmp_path, "acct", NOW
    params = {"utilization": {str(active["id"]): [2], str(ended["id"]): [1]}, "idle_gpu_util": 10.0,
              "idle_minutes": 0.0}
    result = run_gpu_activity(FakeModule(params, check_mode=True), fake)
    assert list(result["orders"]) == [str(active["id"])] and result["idle"] == [active["id"]]
    assert kept(tmp_path) == {}
    run_gpu_activity(FakeModule(params), fake)
    assert list(kept(tmp_path)) == [str(active["id"])]
