"""The small steps of a clore_order task, each on its own: what differs in an existing order, which servers are the
key's own, the words of an unforeseen failure, how to reach the orders, and the lifetime recorded for the reaper."""
from __future__ import annotations

import errno
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible_collections.clore.ai.plugins.module_utils.reaping import Lifetimes
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.existing import differences
from ansible_collections.clore.ai.plugins.module_utils._order.failure import failure_text
from ansible_collections.clore.ai.plugins.module_utils._order.lifetime import record_lifetime
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import MarketRead
from ansible_collections.clore.ai.plugins.module_utils._order.own_servers import as_server_id, own_server_ids
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.ssh_access import with_ssh_settings
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError

IMAGE = "cloreai/ubuntu22.04-jupyter"


def request(**overrides):
    return order_request({name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()} | overrides)


def order(**overrides) -> dict:
    return {"id": 5, "server_id": 7, "image": IMAGE, "spot": False, "currency": "USD-Blockchain",
            "price_per_day": 2.0, "created_at": 1000, "ssh_host": "h.example", "ssh_port": 2222} | overrides


# ----- existing orders -----
def test_an_image_spelt_another_way_is_no_difference():
    assert differences(request(server_id=7, image="docker.io/" + IMAGE + ":latest"), order()) == []


def test_image_type_and_currency_differences_are_named():
    task = request(server_id=7, image="other/image", type="spot", currency="clore", spot_price=3.0)
    assert differences(task, order()) == [
        "image is cloreai/ubuntu22.04-jupyter, the task asks for other/image",
        "type is on-demand, the task asks for spot",
        "currency is USD-Blockchain, the task asks for CLORE-Blockchain",
    ]


def test_with_order_id_only_a_spot_price_says_which_type_is_meant():
    assert differences(request(order_id=5), order(spot=True)) == []
    meant = request(order_id=5, type="spot", currency="USD", spot_price=2.0)
    assert differences(meant, order()) == ["type is on-demand, the task asks for spot"]


# ----- the key's own servers -----
@pytest.mark.parametrize("value, expected", [(7, 7), (" 12 ", 12), ("x", None), (True, None), (None, None),
                                             (1.5, None)])
def test_a_server_id_is_an_int_or_a_numeric_text(value, expected):
    assert as_server_id(value) == expected


def test_own_servers_are_read_from_my_servers():
    market = MarketRead(rates={}, my_servers=[3, "4", "odd", False])
    assert own_server_ids(market) == {3, 4}


# ----- unforeseen failures -----
def test_an_unforeseen_failure_is_told_in_words():
    full = OSError(errno.ENOSPC, "No space left on device", "/state/x.json")
    assert failure_text(full, sent=False) == (
        "a file of the controller's state could not be used: No space left on device (/state/x.json); no "
        "create_order was sent, nothing was rented by this run")
    assert failure_text(full, sent=True).startswith("a file of the controller's state could not be used after "
                                                    "create_order was sent")
    assert failure_text(KeyError("price"), sent=True) == (
        "an unexpected error after create_order was sent (KeyError: 'price')")
    api = CloreApiError("create_order: server taken (code 5)", endpoint="create_order")
    assert failure_text(api, sent=True) == str(api)


# ----- how to reach the orders -----
def test_per_order_known_hosts_lives_in_the_state_dir_unless_configured(tmp_path: Path):
    warnings: list[str] = []
    (reached,) = with_ssh_settings([order()], request(server_id=7, image=IMAGE), tmp_path, False, warnings.append)
    assert reached["known_hosts_file"].startswith(str(tmp_path / "known_hosts"))
    assert (tmp_path / "known_hosts").is_dir() and warnings == []
    elsewhere = tmp_path / "elsewhere"
    (reached,) = with_ssh_settings([order()], request(server_id=7, image=IMAGE, known_hosts_dir=str(elsewhere)),
                                   tmp_path, True, warnings.append)
    assert reached["known_hosts_file"].startswith(str(elsewhere)) and not elsewhere.exists()  # check mode


def test_an_unwritable_known_hosts_dir_is_a_warning_not_a_failure(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings: list[str] = []
    task = request(server_id=7, image=IMAGE, known_hosts_dir=str(blocker / "sub"))
    (reached,) = with_ssh_settings([order()], task, tmp_path, False, warnings.append)
    assert reached["id"] == 5 and len(warnings) == 1 and "cannot be created" in warnings[0]


def test_host_key_checking_off_gives_no_known_hosts_file(tmp_path: Path):
    (reached,) = with_ssh_settings([order()], request(server_id=7, image=IMAGE, host_key_checking="off"), tmp_path,
                                   False, lambda _w: None)
    assert reached["known_hosts_file"] is None and "StrictHostKeyChecking=no" in reached["ssh_common_args"]


# ----- lifetime -----
def test_a_lifetime_is_recorded_only_for_a_real_run_that_asks_for_one(tmp_path: Path):
    client = SimpleNamespace(state_path=tmp_path, account="acct", server_time=10_000.0)
    due = Lifetimes(tmp_path, "acct")
    record_lifetime(client, request(server_id=7, image=IMAGE), [order()], check_mode=False)
    record_lifetime(client, request(server_id=7, image=IMAGE, lifetime_hours=2), [order()], check_mode=True)
    record_lifetime(client, request(order_id=5, state="absent", lifetime_hours=2), [order()], check_mode=False)
    assert due.due_times() == {}
    record_lifetime(client, request(server_id=7, image=IMAGE, lifetime_hours=2), [order()], check_mode=False)
    assert due.due_times() == {5: 1000 + 2 * 3600}
