"""clore_order_info's task (order_info.py): which orders are listed, the filters with and without a price, the
totals, and the run as the module calls it."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.order_info import (
    check_filters,
    listed_orders,
    priced_filters,
    run_order_info,
    summary,
)
from ansible_collections.clore.ai.plugins.modules.clore_order_info import ARGUMENT_SPEC
from module_fake import FakeModule
from order_fakes import FakeClore, server

NOW = 1_700_000_000.0


def params(**overrides) -> dict:
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    return values | {"order_ids": [], "server_ids": set()} | overrides


def account(tmp_path) -> FakeClore:
    fake = FakeClore([server(1, 1.0), server(2, 2.0), server(3, 3.0)], now=NOW)
    fake.add_order(1, "ubuntu:22.04", ct=NOW - 7200)
    fake.add_order(2, "docker.io/library/ubuntu:latest", ct=NOW - 60)
    ended = fake.add_order(3, "nginx", ct=NOW - 600)
    ended["expired"] = True
    fake.state_path, fake.account, fake.server_time = tmp_path, "acct", NOW
    return fake


def test_listed_orders_filter_without_a_price_and_skip_a_malformed_entry_with_a_warning(tmp_path):
    fake = account(tmp_path)
    warnings: list[str] = []
    raw = fake.my_orders(return_completed=True) + [{"no": "id"}]
    images = check_filters(params(images=["ubuntu"]))["images"]
    kept = listed_orders(raw, params(), images, NOW, warnings.append)
    assert [o["server_id"] for o in kept] == [2]
    assert len(warnings) == 1 and warnings[0].startswith("Skipping a malformed")
    every = listed_orders(raw, params(return_completed=True, server_ids={1, 3}), set(), NOW, warnings.append)
    assert [o["server_id"] for o in every] == [1, 3]


def test_priced_filters_keep_orders_older_than_asked():
    orders = [{"age_seconds": 7200}, {"age_seconds": 60}, {"age_seconds": None}]
    filters = {"older_than": 3600, "spend_over": None}
    assert priced_filters(orders, params(), filters, {}) == [{"age_seconds": 7200}]


def test_summary_totals_spend_per_coin_and_names_the_missing_ids():
    orders = [{"id": 1, "spend": 1.5, "currency": "CLORE-Blockchain", "usd_per_day": 2.0},
              {"id": 2, "spend": 0.5, "currency": "CLORE-Blockchain", "usd_per_day": None}]
    result = summary(orders, [2, 9, 9])
    assert result["spend_by_currency"] == {"CLORE-Blockchain": 2.0} and result["usd_per_day_total"] == 2.0
    assert result["missing_order_ids"] == [9] and set(result["orders_by_id"]) == {"1", "2"}
    assert result["count"] == 2 and result["changed"] is False


def test_run_lists_active_orders_with_their_ssh_settings(tmp_path):
    fake = account(tmp_path)
    module = FakeModule(params(order_ids=None, server_ids=None, older_than="1h"))
    result = run_order_info(module, fake)
    assert [o["server_id"] for o in result["orders"]] == [1]
    assert result["orders"][0]["ssh_port"] == 40000 and "known_hosts_file" in result["orders"][0]
    assert fake.calls == [("my_orders",)]
