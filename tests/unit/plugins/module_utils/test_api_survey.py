"""clore_api_check's task (api_survey.py): every endpoint read once, the verdict, recording, and the failure."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.api_survey import first_server_id, read_answers, run_api_check
from module_fake import FakeModule, ModuleFailed

FIXTURES = Path(__file__).resolve().parents[3] / "contract" / "fixtures"
OTHER = json.loads((FIXTURES / "documented" / "other_answers.json").read_text())
ANSWERS = {
    "marketplace": json.loads((FIXTURES / "real" / "marketplace-2024-sample.json").read_text()),
    "my_orders": json.loads((FIXTURES / "documented" / "orders.json").read_text()),
    "wallets": OTHER["wallets"],
    "spot_marketplace": OTHER["spot_marketplace"],
    "my_servers": json.loads((FIXTURES / "real" / "my_servers.json").read_text()),
}


class Api:
    def __init__(self, answers: dict) -> None:
        self.answers, self.calls = answers, []

    def request(self, method: str, endpoint: str, params: dict | None = None) -> dict:
        self.calls.append((method, endpoint, params))
        return copy.deepcopy(self.answers[endpoint])


def test_first_server_id_skips_rows_without_a_whole_number_id():
    assert first_server_id({"servers": ["odd", {"id": True}, {"id": "7"}, {"id": 7}]}) == 7
    assert first_server_id({"servers": []}) is None and first_server_id({}) is None


def test_every_endpoint_is_read_once_and_spot_marketplace_asks_about_the_first_server():
    api = Api(ANSWERS)
    names = [answer[0] for answer in read_answers(api, None, pytest.fail)]
    assert names == ["marketplace", "my_orders", "my_orders_completed", "wallets", "spot_marketplace", "my_servers"]
    assert api.calls[2] == ("GET", "my_orders", {"return_completed": "true"})
    assert api.calls[4] == ("GET", "spot_marketplace", {"market": first_server_id(ANSWERS["marketplace"])})


def test_a_market_without_servers_skips_spot_marketplace_with_a_warning():
    warnings: list[str] = []
    answers = read_answers(Api(ANSWERS | {"marketplace": {"servers": [], "code": 0}}), None, warnings.append)
    assert "spot_marketplace" not in [answer[0] for answer in answers]
    assert warnings == ["the marketplace lists no server: spot_marketplace was not checked"]


def test_the_documented_answers_pass_and_are_recorded_outside_check_mode(tmp_path):
    params = {"server_id": None, "record": str(tmp_path), "api_key": "KEY-123456789"}
    assert run_api_check(FakeModule(params, check_mode=True), Api(ANSWERS))["recorded"] == []
    result = run_api_check(FakeModule(params), Api(ANSWERS))
    assert result["ok"] is True and result["changed"] is True and result["failures"] == []
    assert sorted(Path(p).name for p in result["recorded"]) == sorted(f"{name}.json" for name in result["report"])


def test_an_answer_of_another_shape_fails_with_the_whole_report():
    broken = copy.deepcopy(ANSWERS["my_orders"])
    broken["orders"][0]["si"] = "not a number"
    with pytest.raises(ModuleFailed) as caught:
        run_api_check(FakeModule({"server_id": 1, "record": None, "api_key": "k"}), Api(ANSWERS | {"my_orders": broken}))
    assert caught.value.result["ok"] is False and "orders[].si is string" in caught.value.result["msg"]
    assert set(caught.value.result["report"]) >= {"marketplace", "my_orders", "wallets"}
