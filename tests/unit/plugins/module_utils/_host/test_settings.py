"""clore_server's logic: options checked before any call, only what differs is sent, nothing reset by omission, the
older form only when the current one is refused, check mode and diff."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._host.server import keep_settings, list_hosted, run_server_info
from ansible_collections.clore.ai.plugins.module_utils._host.settings import (
    SERVER_ARGUMENT_SPEC,
    check_declared,
    per_currency_body,
)
from module_fake import FakeModule

REAL = json.loads((Path(__file__).resolve().parents[3] / "fixtures" / "real_my_servers.json").read_text())["servers"]


class FakeHost:
    """The host side of an account: my_servers from the real rows, a server_config per server, and a
    set_server_settings that applies the per-currency form (or refuses it, like an API that knows only the older)."""

    def __init__(self, refuse_current_form: bool = False) -> None:
        self.rows = copy.deepcopy(REAL[:2])
        self.configs = {row["name"]: {"name": row["name"], "id": row["id"], "mrl": 240, "visibility": "public",
                                      "pricing": dict(row["pricing"]), "spot_pricing": dict(row["min_spot_pricing"]),
                                      "allowed_coins": ["bitcoin", "CLORE-Blockchain"], "autoprice": "usd",
                                      "usd_pricing": dict(row["usd_pricing"]), "rental_status": 0}
                        for row in self.rows}
        self.calls: list[tuple] = []
        self.refuse_current_form = refuse_current_form

    def my_servers(self) -> list:
        self.calls.append(("my_servers",))
        return copy.deepcopy(self.rows)

    def server_config(self, name: str) -> dict:
        self.calls.append(("server_config", name))
        if name not in self.configs:
            raise CloreApiError("not found", endpoint="server_config", code=6, reason="server-not-found")
        return copy.deepcopy(self.configs[name])

    def set_server_settings(self, body: dict) -> None:
        self.calls.append(("set_server_settings", copy.deepcopy(body)))
        config = self.configs[body["name"]]
        older = "on_demand" in body or "spot" in body
        if not older and self.refuse_current_form:
            raise CloreApiError("refused", endpoint="set_server_settings", code=2, reason="bitcoin_on_demand")
        if "availability" in body:
            config["visibility"] = "public" if body["availability"] else "hidden"
        config["mrl"] = body.get("mrl", config.get("mrl"))
        if older:
            config["pricing"]["CLORE-Blockchain"] = body.get("on_demand", config["pricing"]["CLORE-Blockchain"])
            config["spot_pricing"]["CLORE-Blockchain"] = body.get("spot", config["spot_pricing"]["CLORE-Blockchain"])
            return
        for coin in ("bitcoin", "CLORE-Blockchain", "USD-Blockchain"):
            for kind, target in (("on_demand", "pricing"), ("spot", "spot_pricing")):
                if f"{coin}_{kind}" in body:
                    config[target][coin] = body[f"{coin}_{kind}"]
        if "enabled-bitcoin" in body:
            config["allowed_coins"] = [c for c in ("bitcoin", "CLORE-Blockchain", "USD-Blockchain")
                                       if body[f"enabled-{c}"]]
        config["autoprice"] = body.get("autoprice", config["autoprice"])
        config["usd_pricing"] = body.get("usd_pricing", config["usd_pricing"])

    def posts(self) -> list[dict]:
        return [call[1] for call in self.calls if call[0] == "set_server_settings"]


def params(**given) -> dict:
    values = {name: None for name in SERVER_ARGUMENT_SPEC}
    values.update(given)
    return values


def apply(fake: FakeHost, check_mode: bool = False, diff: bool = False, **given) -> dict:
    warnings: list[str] = []
    declared = check_declared(params(**given))
    result = keep_settings(fake, given["name"], declared, check_mode=check_mode, want_diff=diff,
                           warn=warnings.append)
    result["warnings"] = warnings
    return result


# ----- before any API call -----
@pytest.mark.parametrize("given, option, words", [
    ({"mrl": 5}, "mrl", "from 6 to 3000"),
    ({"mrl": 3001}, "mrl", "from 6 to 3000"),
    ({"on_demand_price": {"CLORE": 0}}, "on_demand_price.CLORE", "above 0"),
    ({"on_demand_price": {"bitcoin": -0.1}}, "on_demand_price.bitcoin", "above 0"),
    ({"spot_min_price": {"CLORE": math.inf}}, "spot_min_price.CLORE", "finite"),
    ({"spot_min_price": {"CLORE": "nan"}}, "spot_min_price.CLORE", "finite"),
    ({"spot_min_price": {"CLORE": "cheap"}}, "spot_min_price.CLORE", "finite"),
    ({"spot_min_price": {"CLORE": True}}, "spot_min_price.CLORE", "finite"),
    ({"on_demand_price": {"DOGE": 5}}, "on_demand_price", "not a coin"),
    ({"coins": ["CLORE", "ETH"]}, "coins", "not a coin"),
    ({"coins": []}, "coins", "at least one"),
    ({"on_demand_price": {}}, "on_demand_price", "map coins"),
    ({"on_demand_price": {"btc": 1, "bitcoin": 2}}, "on_demand_price", "twice"),
    ({"coins": ["CLORE"], "on_demand_price": {"bitcoin": 0.1}}, "on_demand_price", "not in coins"),
    ({"usd_pricing": {"on_demand": 0}}, "usd_pricing.on_demand", "above 0"),
    ({"usd_pricing": {"spot": float("-inf")}}, "usd_pricing.spot", "finite"),
    ({"usd_pricing": {}}, "usd_pricing", "on_demand and/or spot"),
    ({"autoprice": True, "on_demand_price": {"CLORE": 5}}, "autoprice", "autoprice: false"),
])
def test_bad_options_fail_before_any_call_naming_the_field(given, option, words):
    with pytest.raises(CloreConfigError) as caught:
        check_declared(params(name="rig-a", **given))
    assert str(caught.value).startswith(option) or option in str(caught.value)
    assert caught.value.option == option.split(".")[0]
    assert words in str(caught.value)


def test_aliases_and_numeric_strings_are_accepted():
    declared = check_declared(params(name="rig-a", coins=["btc", "clore"], on_demand_price={"CLORE": "250.5"},
                                     spot_min_price={"BTC": 0.0001}, mrl=6, available=False))
    assert declared == {"available": False, "mrl": 6, "coins": ["CLORE-Blockchain", "bitcoin"],
                        "on_demand_price": {"CLORE-Blockchain": 250.5}, "spot_min_price": {"bitcoin": 0.0001}}


def test_unknown_name_fails_before_any_write_listing_the_hosted_names():
    fake = FakeHost()
    with pytest.raises(CloreError) as caught:
        apply(fake, name="rig-z", mrl=24)
    assert "'rig-z' is not one of the servers this API key hosts ('rig-a', 'rig-b')" in str(caught.value)
    assert fake.posts() == []


# ----- reading, deciding, writing -----
def test_only_what_differs_is_sent_once_and_a_rerun_sends_nothing():
    fake = FakeHost()
    first = apply(fake, name="rig-b", mrl=168, usd_pricing={"on_demand": 6.5})
    assert first["changed"] is True and first["form"] == "per-currency"
    assert first["changes"] == {"mrl": {"before": 240, "after": 168},
                                "usd_pricing": {"before": {"on_demand": 5, "spot": 2},
                                                "after": {"on_demand": 6.5, "spot": 2}}}
    (body,) = fake.posts()
    # nothing reset by omission: the current values of what was not declared travel along
    assert body == {"name": "rig-b", "availability": True, "mrl": 168, "bitcoin_on_demand": 4.74e-05,
                    "bitcoin_spot": 1.896e-05, "CLORE-Blockchain_on_demand": 266.83, "CLORE-Blockchain_spot": 106.73,
                    "enabled-bitcoin": True, "enabled-CLORE-Blockchain": True, "enabled-USD-Blockchain": False,
                    "autoprice": "usd", "usd_pricing": {"on_demand": 6.5, "spot": 2}}
    assert first["server"]["mrl"] == 168 and first["warnings"] == []
    second = apply(fake, name="rig-b", mrl=168, usd_pricing={"on_demand": 6.5})
    assert second["changed"] is False and second["changes"] == {} and second["form"] is None
    assert len(fake.posts()) == 1
    assert [c[0] for c in fake.calls[-2:]] == ["my_servers", "server_config"]


def test_check_mode_and_diff_show_the_change_without_a_post():
    fake = FakeHost()
    result = apply(fake, check_mode=True, diff=True, name="rig-a", available=False, autoprice=False,
                   on_demand_price={"CLORE": 1200})
    assert result["changed"] is True and fake.posts() == [] and result["form"] is None
    assert result["diff"]["before"]["available"] is True and result["diff"]["after"]["available"] is False
    assert result["diff"]["before"]["on_demand_price"]["CLORE-Blockchain"] == 1174.03
    assert result["diff"]["after"]["on_demand_price"] == {"bitcoin": 0.00020855, "CLORE-Blockchain": 1200.0}
    assert result["diff"]["after"]["autoprice"] is False
    assert result["server"]["visibility"] == "hidden"
    assert result["server"]["on_demand_price"]["CLORE-Blockchain"] == 1200
    assert result["msg"].startswith("would change available, on_demand_price, autoprice")


def test_prices_equal_within_rounding_are_not_a_change():
    fake = FakeHost()
    result = apply(fake, name="rig-a", usd_pricing={"on_demand": 22.0000000001, "spot": 12})
    assert result["changed"] is False and fake.posts() == []


def test_coin_prices_need_autoprice_off_and_the_coin_accepted():
    fake = FakeHost()
    with pytest.raises(CloreConfigError, match="has autoprice on"):
        apply(fake, name="rig-a", on_demand_price={"CLORE": 1000})
    fake.configs["rig-a"]["autoprice"] = False
    with pytest.raises(CloreConfigError, match="does not accept USD-Blockchain"):
        apply(fake, name="rig-a", on_demand_price={"USD-Blockchain": 20})
    with pytest.raises(CloreConfigError, match="no on_demand_price in USD-Blockchain"):
        apply(fake, name="rig-a", coins=["CLORE", "USD-Blockchain"])
    assert fake.posts() == []
    result = apply(fake, name="rig-a", coins=["CLORE", "USD-Blockchain"],
                   on_demand_price={"USD-Blockchain": 20}, spot_min_price={"USD-Blockchain": 10})
    (body,) = fake.posts()
    assert body["enabled-USD-Blockchain"] is True and body["enabled-bitcoin"] is False
    assert body["USD-Blockchain_on_demand"] == 20 and body["autoprice"] is False
    assert result["server"]["coins"] == ["USD-Blockchain", "CLORE-Blockchain"]


def test_autoprice_needs_a_usd_price():
    fake = FakeHost()
    fake.configs["rig-a"]["autoprice"] = False
    fake.configs["rig-a"]["usd_pricing"] = {}
    fake.rows[0]["usd_pricing"] = None
    with pytest.raises(CloreConfigError, match="needs usd_pricing.on_demand"):
        apply(fake, name="rig-a", autoprice=True)
    assert fake.posts() == []


def test_the_older_form_is_used_only_when_the_current_one_is_refused_and_the_change_fits():
    fake = FakeHost(refuse_current_form=True)
    fake.configs["rig-b"]["autoprice"] = False
    result = apply(fake, name="rig-b", mrl=72, on_demand_price={"CLORE": 300})
    assert result["form"] == "older" and result["changed"] is True
    current, older = fake.posts()
    assert "CLORE-Blockchain_on_demand" in current
    assert older == {"name": "rig-b", "availability": True, "mrl": 72, "on_demand": 300.0, "spot": 106.73}
    assert any("older form" in w for w in result["warnings"])
    assert result["server"]["mrl"] == 72 and result["server"]["on_demand_price"]["CLORE-Blockchain"] == 300

    with pytest.raises(CloreApiError) as caught:  # a bitcoin price does not fit in the older form
        apply(fake, name="rig-b", on_demand_price={"bitcoin": 0.0001})
    assert "not on_demand_price.bitcoin" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert len(fake.posts()) == 3


def test_other_refusals_are_not_retried_in_the_older_form():
    fake = FakeHost()

    def refuse(body):
        fake.calls.append(("set_server_settings", body))
        raise CloreApiError("db error", endpoint="set_server_settings", code=1, ambiguous=True)

    fake.set_server_settings = refuse
    with pytest.raises(CloreApiError):
        apply(fake, name="rig-a", mrl=100)
    assert len(fake.posts()) == 1


def test_a_setting_clore_does_not_show_after_the_write_is_a_warning():
    fake = FakeHost()
    fake.set_server_settings = lambda body: fake.calls.append(("set_server_settings", body))  # ignores it
    result = apply(fake, name="rig-a", mrl=100)
    assert result["changed"] is True
    assert result["warnings"] == ["server 'rig-a': after set_server_settings Clore reports mrl 240, not 100; run the "
                                  "task again to see whether it settles"]


def test_a_setting_clore_does_not_report_is_warned_about_when_writing():
    fake = FakeHost()
    del fake.configs["rig-b"]["mrl"]
    result = apply(fake, name="rig-b", available=False)
    assert "mrl" not in fake.posts()[0]
    assert any("did not report its mrl" in w for w in result["warnings"])


def test_per_currency_body_leaves_out_what_is_unknown():
    body = per_currency_body("n", {"available": None, "mrl": None, "coins": [], "on_demand_price": {},
                                   "spot_min_price": {}, "usd_pricing": {}, "autoprice": None})
    assert body == {"name": "n"}


def test_server_info_filters_by_name_and_reads_configs():
    fake = FakeHost()
    warnings: list[str] = []
    result = list_hosted(fake, ["rig-b", "rack-*"], True, warnings.append)
    assert [s["name"] for s in result["servers"]] == ["rig-b"] and result["count"] == 1
    assert result["names"] == ["rig-a", "rig-b"] and result["unmatched"] == ["rack-*"]
    assert result["servers"][0]["mrl"] == 240 and result["servers"][0]["config_read"] is True
    assert [c[0] for c in fake.calls] == ["my_servers", "server_config"]
    every = list_hosted(fake, [], False, warnings.append)
    assert every["count"] == 2 and all(s["mrl"] is None for s in every["servers"])


def test_server_info_keeps_a_server_whose_config_fails():
    fake = FakeHost()
    del fake.configs["rig-a"]
    warnings: list[str] = []
    result = list_hosted(fake, ["rig-*"], True, warnings.append)
    assert [s["config_read"] for s in result["servers"]] == [False, True]
    assert len(warnings) == 1 and "server_config of 'rig-a' failed" in warnings[0]


def test_server_info_run_reads_names_and_config_from_the_module_and_drops_blank_names():
    fake = FakeHost()
    module = FakeModule({"names": ["  rig-b ", "", "   "], "config": False})
    result = run_server_info(module, fake)
    assert [s["name"] for s in result["servers"]] == ["rig-b"] and result["unmatched"] == []
    assert [c[0] for c in fake.calls] == ["my_servers"] and module.warnings == []
