"""The whole clore_order decision flow (read, decide, act) against the in-memory account: what is posted, and when."""
from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.market import MARKET_FILTER_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils import order as order_module
from ansible_collections.clore.ai.plugins.module_utils._order import ready as ready_module
from ansible_collections.clore.ai.plugins.module_utils._order import rent_fleet as rent_fleet_module
from ansible_collections.clore.ai.plugins.module_utils._order import renting as renting_module
from ansible_collections.clore.ai.plugins.module_utils._order import wait as wait_module
from ansible_collections.clore.ai.plugins.module_utils._order.inflight import InflightCreates
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask, OrderTaskFailed

from order_fakes import Clock, FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"


def defaults() -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update(api_key="k", wait=False)
    return params


@pytest.fixture
def market(tmp_path: Path) -> FakeClore:
    fake = FakeClore([server(1, 3.0), server(2, 1.0), server(3, 2.0), server(4, 4.0, gpu="RTX 3090"),
                      server(5, 0.5, rented=True)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def run(fake: FakeClore, check_mode: bool = False, diff: bool = False, **overrides) -> dict:
    params = defaults() | overrides
    warnings: list[str] = []
    task = OrderTask(fake, order_request(params), check_mode=check_mode, diff=diff, warn=warnings.append)
    result = task.run()
    result["warnings"] = warnings
    return result


FLEET = {"count": 2, "gpu": ["4090"], "image": IMAGE}


def test_fleet_check_mode_plans_the_cheapest_and_posts_nothing(market):
    result = run(market, check_mode=True, diff=True, **FLEET)
    assert result["changed"] is True
    assert [c["server_id"] for c in result["would_create"]] == [2, 3]
    assert [c["price_per_day"] for c in result["would_create"]] == [1.0, 2.0]
    assert market.posts() == []
    assert result["diff"]["before"] == {"orders": []}
    assert [o["server_id"] for o in result["diff"]["after"]["orders"]] == [2, 3]


def test_fleet_create_then_rerun_is_unchanged_without_posts(market):
    first = run(market, **FLEET)
    assert first["changed"] and sorted(o["server_id"] for o in first["orders"]) == [2, 3]
    assert len(first["created"]) == 2
    posts = len(market.posts())
    second = run(market, **FLEET)
    assert second["changed"] is False
    assert sorted(second["kept"]) == sorted(first["created"])
    assert len(market.posts()) == posts
    assert ("marketplace",) not in market.calls[-1:]


def test_fleet_members_are_told_apart_by_image_and_specs(market):
    market.add_order(4, IMAGE)  # an RTX 3090: fails the gpu filter
    market.add_order(1, "other/image")
    result = run(market, check_mode=True, **FLEET)
    assert result["kept"] == []
    assert [c["server_id"] for c in result["would_create"]] == [2, 3]


def test_exact_cancels_the_most_expensive_surplus(market):
    cheap, dear, mid = market.add_order(2, IMAGE), market.add_order(1, IMAGE), market.add_order(3, IMAGE)
    result = run(market, count=1, exact=True, gpu=["4090"], image=IMAGE)
    assert result["cancelled"] == [dear["id"], mid["id"]]
    assert result["kept"] == [cheap["id"]]
    assert [o["id"] for o in market.active()] == [cheap["id"]]


def test_fleet_budget_refuses_before_any_post_saying_by_how_much(market):
    market.add_order(1, IMAGE)  # 3.0 a day already
    with pytest.raises(OrderTaskFailed, match=r"over the budget of 5\.0000 by 1\.0000 USD/day"):
        run(market, count=3, gpu=["4090"], image=IMAGE, budget={"amount": 5.0, "currency": "USD"})
    assert market.posts() == []


def test_budget_is_enforced_in_check_mode_too(market):
    with pytest.raises(OrderTaskFailed, match="budget exceeded"):
        run(market, check_mode=True, count=2, gpu=["4090"], image=IMAGE, budget={"amount": 2.0})


def test_too_few_servers_rents_nothing_and_says_what_excluded_them(market):
    with pytest.raises(OrderTaskFailed, match="only 3 free servers match, 5 needed") as caught:
        run(market, count=5, gpu=["4090"], image=IMAGE)
    assert "gpu: 1" in str(caught.value) and "available_only: 1" in str(caught.value)
    assert market.posts() == []


def test_server_taken_after_the_search_fails_over_to_the_next(market):
    real_create = market.create_order

    def taken_first(body):
        if body["renting_server"] == 2 and not market.posts("create_order"):
            market.servers[2]["rented"] = True  # someone else rents it between search and create
        return real_create(body)

    market.create_order = taken_first
    result = run(market, count=1, gpu=["4090"], image=IMAGE)
    assert [o["server_id"] for o in result["orders"]] == [3]
    assert result["skipped_servers"] == [{"server_id": 2, "price_per_day": 1.0, "currency": "USD-Blockchain",
                                          "reason": "server-already-rented"}]
    assert "skipped" not in result  # Ansible's own key: it would show the task as skipped and count no change
    assert result["msg"] == f"rented order(s) {result['created'][0]}; passed over server(s) 2 (server-already-rented)"


def test_server_id_mode_rents_that_server_once(market):
    result = run(market, server_id=4, image=IMAGE)
    assert [o["server_id"] for o in result["orders"]] == [4] and result["changed"]
    again = run(market, server_id=4, image=IMAGE)
    assert again["changed"] is False and len(market.posts("create_order")) == 1


def test_server_id_mode_refuses_a_server_over_max_price(market):
    with pytest.raises(OrderTaskFailed, match="server 4 fails max_price"):
        run(market, server_id=4, image=IMAGE, max_price={"amount": 2.0})
    assert market.posts() == []


def test_order_id_mode_cannot_create(market):
    with pytest.raises(OrderTaskFailed, match="cannot be created by id"):
        run(market, order_id=12345)


def test_spot_bid_is_changed_and_then_left_alone(market):
    order = market.add_order(2, IMAGE, spot=True, price=1.0)
    params = {"order_id": order["id"], "type": "spot", "spot_price": 1.5, "currency": "USD-Blockchain"}
    planned = run(market, check_mode=True, **params)
    assert planned["would_reprice"] == [{"id": order["id"], "from": 1.0, "to": 1.5, "currency": "USD-Blockchain"}]
    assert market.posts() == []
    result = run(market, **params)
    assert result["repriced"] == [order["id"]] and result["changed"]
    assert run(market, **params)["changed"] is False
    assert market.posts() == [("set_spot_price", order["id"], 1.5)]


def test_refused_lowering_says_when_it_may_be_lowered(market):
    order = market.add_order(2, IMAGE, spot=True, price=2.0)
    market.fault("set_spot_price", "can_lower_every_600_seconds")
    with pytest.raises(OrderTaskFailed, match="possible in 321 s"):
        run(market, order_id=order["id"], type="spot", spot_price=1.0, currency="USD")


def test_other_differences_warn_or_recreate(market):
    order = market.add_order(2, "old/image")
    warned = run(market, server_id=2, image=IMAGE)
    assert warned["changed"] is False and "image is old/image" in warned["warnings"][0]
    recreated = run(market, server_id=2, image=IMAGE, recreate=True)
    assert recreated["cancelled"] == [order["id"]]
    assert [o["image"] for o in market.active()] == [IMAGE]


def test_absent_cancels_then_reports_unchanged(market):
    order = market.add_order(2, IMAGE)
    planned = run(market, check_mode=True, state="absent", server_id=2)
    assert planned["would_cancel"] == [order["id"]] and market.posts() == []
    done = run(market, state="absent", server_id=2, issue="fan noise")
    assert done["cancelled"] == [order["id"]]
    assert market.posts() == [("cancel_order", order["id"], "fan noise")]
    assert run(market, state="absent", server_id=2)["changed"] is False


def test_absent_by_an_order_id_never_had_fails_naming_it_unless_missing_ok(market):
    order = market.add_order(2, IMAGE)
    with pytest.raises(OrderTaskFailed, match=f"order_id {order['id'] + 50} is not an order of this API key"):
        run(market, state="absent", order_id=order["id"] + 50, issue="fan noise")
    allowed = run(market, state="absent", order_id=order["id"] + 50, missing_ok=True)
    assert allowed["changed"] is False and market.posts() == []
    run(market, state="absent", order_id=order["id"])
    assert run(market, state="absent", order_id=order["id"])["changed"] is False  # ended: absent as asked


def test_failure_after_renting_names_the_orders_or_cancels_them(market):
    market.servers[3]["rented"] = True
    market.servers[1]["rented"] = True
    with pytest.raises(OrderTaskFailed) as caught:
        # Only server 2 is left after the search sees 1 and 3 as free: make them free in the listing only.
        market.servers[1]["rented"] = market.servers[3]["rented"] = False
        real_create = market.create_order

        def refuse_others(body):
            if body["renting_server"] != 2:
                raise_rented(body["renting_server"])
            return real_create(body)

        market.create_order = refuse_others
        run(market, count=3, gpu=["4090"], image=IMAGE, max_attempts=2)
    assert "rented 1 of 3" in str(caught.value) and "cost money" in str(caught.value)
    assert caught.value.result["created"] == [market.active()[0]["id"]]


def raise_rented(server_id):
    from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError

    raise CloreApiError("rented", endpoint="create_order", code=6, reason="server-already-rented")


def test_cancel_on_failure_cancels_only_this_runs_orders(market):
    kept = market.add_order(2, IMAGE)
    market.fault("create_order", "not_enough_balance")
    with pytest.raises(OrderTaskFailed):
        run(market, count=3, gpu=["4090"], image=IMAGE, cancel_on_failure=True)
    assert [o["id"] for o in market.active()] == [kept["id"]]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"order_id": 1, "server_id": 2}, "order_id and server_id are mutually exclusive"),
        ({}, "one of order_id, server_id or count is required"),
        ({"count": -1, "image": IMAGE}, "count must be 0 or more"),
        ({"count": 1}, "image is required for a fleet"),
        ({"server_id": 1}, "image is required with state present"),
        ({"server_id": 1, "image": IMAGE, "type": "spot", "currency": "USD"}, "spot_price is required"),
        ({"server_id": 1, "image": IMAGE, "type": "spot", "spot_price": 1.0}, "currency is required"),
        ({"server_id": 1, "image": IMAGE, "ssh_password": "pa$$word"}, "ssh_password must contain only letters"),
        ({"server_id": 1, "image": IMAGE, "ssh_password": "a" * 33}, "ssh_password must be at most 32"),
        ({"server_id": 1, "image": IMAGE, "jupyter_token": "t" * 33}, "jupyter_token must be at most 32"),
        ({"server_id": 1, "image": IMAGE, "env": {"K" * 129: "v"}}, "over the limit of 128"),
        ({"server_id": 1, "image": IMAGE, "env": {"K": "v" * 1537}}, r"env\['K'\] is 1537 characters"),
        ({"server_id": 1, "image": IMAGE, "env": {f"K{i}": "v" * 1500 for i in range(9)}}, "as JSON, over the limit"),
        ({"server_id": 1, "image": IMAGE, "env": {"Q": "a&b"}}, r"env\['Q'\] contains '&'"),
        ({"server_id": 1, "image": IMAGE, "ports": {"0": "tcp"}}, "container port number 1-65535"),
        ({"server_id": 1, "image": IMAGE, "ports": {"22": "udp"}}, r"ports\[22\] must be 'tcp' or 'http'"),
        ({"server_id": 1, "image": IMAGE, "ports": {"80": "http", "81": "http"}}, "at most one http port"),
        ({"server_id": 1, "image": IMAGE, "gpu": ["4090"]}, "server filters apply only to a fleet"),
        ({"count": 1, "image": IMAGE, "currency": "dogecoin"}, "currency"),
        ({"count": 1, "image": IMAGE, "issue": "x"}, "issue applies only to state absent"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_rule(overrides, message):
    with pytest.raises(CloreConfigError, match=message):
        order_request(defaults() | overrides)


def test_refusals_never_quote_a_secret():
    secret = "s3cr&tvalue"
    for overrides in ({"env": {"TOKEN": secret}}, {"ssh_password": secret}):
        with pytest.raises(CloreConfigError) as caught:
            order_request(defaults() | {"server_id": 1, "image": IMAGE} | overrides)
        assert secret not in str(caught.value)


def test_argument_spec_reuses_the_market_filters():
    assert set(MARKET_FILTER_SPEC) <= set(ORDER_ARGUMENT_SPEC)
    assert ORDER_ARGUMENT_SPEC["ssh_password"]["no_log"] and ORDER_ARGUMENT_SPEC["env"]["no_log"]
    assert ORDER_ARGUMENT_SPEC["jupyter_token"]["no_log"]


def test_a_clean_failure_is_a_clore_error(market):
    assert issubclass(OrderTaskFailed, CloreError)


def test_every_returned_key_is_documented(market):
    """The keys a result carries are the ones RETURN documents (and checks against Ansible's own)."""
    import ast

    import yaml

    source = Path(__file__).resolve().parents[4] / "plugins" / "modules" / "clore_order.py"
    tree = ast.parse(source.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "RETURN")
    documented = set(yaml.safe_load(ast.literal_eval(node.value)))
    for check_mode in (False, True):
        result = run(market, check_mode=check_mode, diff=True, **FLEET)
        assert set(result) - {"changed", "diff", "warnings"} <= documented


def test_wait_starts_from_the_read_that_confirmed_the_create(market, monkeypatch):
    monkeypatch.setattr(wait_module, "ssh_banner", lambda host, port, timeout: "SSH-2.0-x")
    result = run(market, wait=True, **FLEET)
    assert len(result["created"]) == 2
    # One read before deciding, one per create to find the new order, one after renting to find a surplus (another
    # run's race); the wait needs none: endpoints are known.
    assert market.calls.count(("my_orders",)) == 4


def fake_waiting(monkeypatch, probe) -> None:
    """clore_order's wait on a simulated clock, with `probe` for the banners."""
    clock = Clock()
    clock.mono = time.monotonic()  # the task's deadline is set on the real clock
    monkeypatch.setattr(ready_module, "wait_ready", lambda *args, **kwargs: wait_module.wait_ready(
        *args, **kwargs, probe=probe, clock=clock.monotonic, sleep=clock.sleep))


SPOT_FLEET = FLEET | {"type": "spot", "spot_price": 2.5, "currency": "USD-Blockchain", "wait": True}


@pytest.mark.parametrize("cancel_on_failure", [False, True])
def test_an_order_outbid_while_waiting_is_not_said_to_cost_money(market, monkeypatch, cancel_on_failure):
    def outbid_first(host, port, timeout):
        if len(market.active()) == 2:
            market.active()[0]["expired"] = True  # the first order is outbid; the other one never answers
        return None

    fake_waiting(monkeypatch, outbid_first)
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, cancel_on_failure=cancel_on_failure, **SPOT_FLEET)
    outbid, other = caught.value.result["created"]
    message = str(caught.value)
    assert message.startswith(f"order {outbid} ended while waiting for it to get ready: my_orders lists this spot "
                              "order as expired (outbid")
    assert (f"order(s) {outbid} were rented by this run and have ended (listed as expired in my_orders): they no "
            "longer cost money") in message
    if cancel_on_failure:
        assert f"cancelled the order(s) this run created ({other})" in message
        assert market.posts("cancel_order") == [("cancel_order", other, None)]
        assert caught.value.result["orders"] == []
    else:
        assert f"order(s) {other} were rented by this run and still exist: they cost money" in message
        assert [o["id"] for o in caught.value.result["orders"]] == [other]
    assert caught.value.result["ended"] == [outbid]


def test_orders_whose_state_cannot_be_read_are_not_said_to_be_gone(market, monkeypatch):
    fake_waiting(monkeypatch, lambda host, port, timeout: None)
    real_my_orders = market.my_orders

    def failing_completed_read(return_completed=False):
        if return_completed:
            raise CloreError("my_orders: HTTP 502")
        return real_my_orders()

    market.my_orders = failing_completed_read
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, wait_timeout=5, **FLEET | {"wait": True})
    created = caught.value.result["created"]
    assert str(caught.value).endswith(
        f"order(s) {', '.join(map(str, created))} were rented by this run and could not be checked, my_orders failed "
        "(my_orders: HTTP 502): they may still exist and cost money, check them")


# ----- a failure after a create was sent names what may cost money, whatever raised it -----

def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "/state/inflight-test-account.json")


def test_a_full_disk_when_the_create_is_recorded_as_found_names_the_order_and_returns_it(market, monkeypatch):
    monkeypatch.setattr(InflightCreates, "clear", disk_full)
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, **FLEET)
    [order] = market.active()
    result, message = caught.value.to_result(), str(caught.value)
    assert result["created"] == [order["id"]] and [o["id"] for o in result["orders"]] == [order["id"]]
    assert ("a file of the controller's state could not be used after create_order was sent: No space left on device "
            "(/state/inflight-test-account.json)") in message
    assert f"order(s) {order['id']} were rented by this run and still exist: they cost money" in message
    assert len(market.posts("create_order")) == 1  # fail-over stopped at the first order


def test_a_full_disk_when_the_lifetime_is_recorded_names_every_order_created(market, monkeypatch):
    monkeypatch.setattr(order_module, "record_lifetime", disk_full)
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, lifetime_hours=2, **FLEET)
    ids = sorted(o["id"] for o in market.active())
    assert len(ids) == 2 and sorted(caught.value.to_result()["created"]) == ids
    assert f"order(s) {', '.join(map(str, ids))} were rented by this run and still exist" in str(caught.value)


def test_a_bug_after_the_create_is_no_bare_error_and_cancel_on_failure_still_cancels(market, monkeypatch):
    def bug(*_args, **_kwargs):
        raise KeyError("price")

    monkeypatch.setattr(order_module, "record_lifetime", bug)
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, lifetime_hours=2, cancel_on_failure=True, **FLEET)
    assert "an unexpected error after create_order was sent (KeyError: 'price')" in str(caught.value)
    assert market.active() == [] and len(caught.value.to_result()["cancelled"]) == 2


class LostReads(FakeClore):
    """my_orders cannot be read once a create was sent (a local failure reading the answer)."""

    def my_orders(self, return_completed: bool = False) -> list[dict]:
        if self.posts("create_order"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().my_orders(return_completed)


def test_a_failure_before_the_order_is_found_names_the_create_in_flight(tmp_path):
    fake = LostReads([server(2, 1.0)], now=time.time())
    fake.state_path, fake.account = tmp_path / "state", "test-account"
    with pytest.raises(OrderTaskFailed) as caught:
        run(fake, count=1, gpu=["4090"], image=IMAGE)
    assert len(fake.active()) == 1 and caught.value.to_result()["created"] == []
    assert (f"create_order for server 2 (image {IMAGE}) was sent and its order is not found yet: it may exist and "
            "cost money; the next run with this key and image looks for it") in str(caught.value)


def test_a_full_disk_before_any_create_says_nothing_was_rented(market, monkeypatch):
    monkeypatch.setattr(InflightCreates, "record", disk_full)
    with pytest.raises(OrderTaskFailed) as caught:
        run(market, **FLEET)
    assert market.posts() == [] and caught.value.to_result()["created"] == []
    assert ("a file of the controller's state could not be used: No space left on device "
            "(/state/inflight-test-account.json); no create_order was sent, nothing was rented") in str(caught.value)


def test_a_bug_before_any_create_is_left_as_it_is(market, monkeypatch):
    def bug(*_args, **_kwargs):
        raise KeyError("price")

    monkeypatch.setattr(rent_fleet_module, "read_market", bug)
    with pytest.raises(KeyError):
        run(market, **FLEET)
    assert market.posts() == []


# ----- account_budget: runs of other images take turns with the key's lock -----

ONE_FITS = {"amount": 1.5, "currency": "USD"}


class RacingClore(FakeClore):
    """While the first create is on its way, another image's task with the same key starts (another process)."""

    other: threading.Thread | None = None

    def create_order(self, body: dict) -> None:
        if self.other is None:
            self.other = threading.Thread(target=self.run_other)
            self.other.start()
            self.other.join(timeout=1.0)  # it would have rented by now, had it not waited for the key's lock
        super().create_order(body)

    def run_other(self) -> None:
        try:
            self.other_result = run(self, count=1, gpu=["4090"], image="other/image", account_budget=ONE_FITS)
        except OrderTaskFailed as err:
            self.other_result = {"failed": str(err)}


def test_account_budget_two_images_started_together_rent_within_the_cap(tmp_path):
    fake = RacingClore([server(2, 1.0), server(3, 1.0)], now=time.time())
    fake.state_path, fake.account = tmp_path / "state", "test-account"
    first = run(fake, count=1, gpu=["4090"], image=IMAGE, account_budget=ONE_FITS)
    fake.other.join()
    assert len(first["created"]) == 1 and len(fake.active()) == 1
    assert "account_budget exceeded" in fake.other_result["failed"]
    assert len(fake.posts("create_order")) == 1


def test_without_account_budget_the_key_lock_is_not_taken(market, monkeypatch):
    monkeypatch.setattr(renting_module, "account_lock", None)  # any use would raise
    assert len(run(market, **FLEET)["created"]) == 2


# ----- a fleet rented twice at once (another controller): the newest surplus is released -----

class RivalController(FakeClore):
    """Another controller, with a state dir of its own, rents one of the same fleet while this run rents."""

    def create_order(self, body: dict) -> None:
        if not self.posts("create_order"):
            self.rival = self.add_order(1, IMAGE)
        super().create_order(body)


@pytest.fixture
def racing(tmp_path: Path) -> RivalController:
    fake = RivalController([server(1, 3.0), server(2, 1.0), server(3, 2.0)], now=time.time())
    fake.state_path, fake.account = tmp_path / "state", "test-account"
    return fake


def test_a_fleet_that_finds_more_than_count_after_renting_releases_the_newest(racing):
    result = run(racing, **FLEET)
    newest = max(result["created"])
    assert result["surplus"] == [newest] and result["released"] == [newest] and newest in result["cancelled"]
    assert sorted(o["id"] for o in racing.active()) == sorted(o["id"] for o in result["orders"])
    assert len(racing.active()) == 2 and racing.rival["id"] in result["kept"]
    assert any(f"released the newest, order(s) {newest} (surplus: release)" in w for w in result["warnings"])
    assert f"released as surplus order(s) {newest}" in result["msg"]


def test_surplus_keep_names_the_surplus_and_cancels_nothing(racing):
    result = run(racing, surplus="keep", **FLEET)
    assert len(racing.active()) == 3 and racing.posts("cancel_order") == []
    assert result["surplus"] == [max(result["created"])] and result["released"] == []
    assert any("(surplus: keep) and cost money until cancelled" in w for w in result["warnings"])


def test_no_race_no_surplus(market):
    result = run(market, **FLEET)
    assert result["surplus"] == [] and result["released"] == [] and market.posts("cancel_order") == []
