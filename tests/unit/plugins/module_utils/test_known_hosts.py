"""known_hosts.ssh_settings, and clore_order's orders carrying it: one host-key policy for the module and the
inventory."""
from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.known_hosts import ssh_common_args, ssh_settings
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask

from order_fakes import FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"
ORDER = {"id": 7, "created_at": 1700000000}


def test_per_order_settings_name_the_orders_file_in_the_args(tmp_path: Path):
    settings = ssh_settings(ORDER, str(tmp_path), "per_order")
    assert settings["known_hosts_file"] == str(tmp_path / "order-7-1700000000")
    assert shlex.split(settings["ssh_common_args"]) == [
        "-o", f"UserKnownHostsFile={tmp_path}/order-7-1700000000", "-o", "StrictHostKeyChecking=accept-new"]


@pytest.mark.parametrize("policy", ["strict", "off"])
def test_other_policies_have_no_file_and_the_inventorys_args(policy: str):
    assert ssh_settings(ORDER, None, policy) == {"known_hosts_file": None, "ssh_common_args": ssh_common_args(policy)}


def test_an_order_without_creation_time_still_has_its_own_file(tmp_path: Path):
    assert ssh_settings({"id": 9}, str(tmp_path), "per_order")["known_hosts_file"] == str(tmp_path / "order-9")


def test_per_order_without_a_directory_is_refused():
    with pytest.raises(ValueError, match="known_hosts directory"):
        ssh_settings(ORDER, None, "per_order")


# ----- clore_order's result


@pytest.fixture
def fake(tmp_path: Path) -> FakeClore:
    clore = FakeClore([server(1, 3.0), server(2, 1.0)], now=time.time())
    clore.state_path = tmp_path / "state"
    clore.account = "test-account"
    return clore


def run(fake: FakeClore, check_mode: bool = False, **overrides) -> tuple[dict, list[str]]:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False, count=1, image=IMAGE, **overrides)
    warnings: list[str] = []
    result = OrderTask(fake, order_request(params), check_mode=check_mode, diff=False,
                       warn=warnings.append).run()
    return result, warnings


def test_rented_orders_carry_the_settings_and_the_directory_is_made(fake: FakeClore):
    result, warnings = run(fake)
    order = result["orders"][0]
    directory = fake.state_path / "known_hosts"
    assert order["known_hosts_file"] == str(directory / f"order-{order['id']}-{order['created_at']}")
    assert order["ssh_common_args"] == ssh_common_args("per_order", order["known_hosts_file"])
    assert directory.is_dir() and directory.stat().st_mode & 0o777 == 0o700
    assert warnings == []


def test_every_order_is_the_info_modules_order_plus_the_two_fields(fake: FakeClore):
    fake.add_order(2, IMAGE)
    result = run(fake)[0]
    raw = fake.orders[0]
    assert result["orders"][0].keys() == normalize_order(raw).keys() | {"known_hosts_file", "ssh_common_args"}


def test_check_mode_names_the_files_but_creates_no_directory(fake: FakeClore, tmp_path: Path):
    fake.add_order(2, IMAGE)
    result = run(fake, check_mode=True, known_hosts_dir=str(tmp_path / "kh"))[0]
    assert result["orders"][0]["known_hosts_file"].startswith(f"{tmp_path / 'kh'}/order-")
    assert not (tmp_path / "kh").exists()


def test_strict_policy_has_no_file(fake: FakeClore):
    fake.add_order(2, IMAGE)
    result = run(fake, host_key_checking="strict")[0]
    assert result["orders"][0]["known_hosts_file"] is None
    assert result["orders"][0]["ssh_common_args"] == "-o StrictHostKeyChecking=yes"
    assert not (fake.state_path / "known_hosts").exists()


def test_a_directory_that_cannot_be_made_is_a_warning_not_a_lost_order(fake: FakeClore, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result, warnings = run(fake, known_hosts_dir=str(blocker / "known_hosts"))
    assert len(result["created"]) == 1 and result["orders"][0]["known_hosts_file"]
    assert len(warnings) == 1 and "known_hosts_dir" in warnings[0] and "CLORE_KNOWN_HOSTS_DIR" in warnings[0]


def test_the_known_hosts_dir_and_the_state_dir_it_makes_are_private(tmp_path):
    """The inventory makes <state dir>/known_hosts first: the state dir above it must be 0700 too, not 0755."""
    from ansible_collections.clore.ai.plugins.module_utils.known_hosts import ensure_known_hosts_dir, known_hosts_dir

    directory = known_hosts_dir(None, str(tmp_path / "state"))
    ensure_known_hosts_dir(directory)
    for path in (tmp_path / "state", Path(directory)):
        assert oct(path.stat().st_mode & 0o777) == oct(0o700), path
