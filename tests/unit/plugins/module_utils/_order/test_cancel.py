"""Cancelling: an unclear cancel is checked in my_orders, repeated only when the order is proven still active."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils._order.cancel import CancelFailed, cancel_orders, check_order_known

from order_fakes import Clock, FakeClore, server


def account(n: int = 2) -> tuple[FakeClore, list[int], Clock]:
    fake = FakeClore([server(i, 1.0) for i in range(1, n + 1)])
    ids = [fake.add_order(i, "img")["id"] for i in range(1, n + 1)]
    return fake, ids, Clock()


def cancel(fake, ids, clock, issue=None):
    return cancel_orders(fake, ids, issue, verify_timeout=5, clock=clock.monotonic, sleep=clock.sleep)


def test_unclear_cancel_that_took_effect_is_not_repeated():
    fake, ids, clock = account(1)
    fake.fault("cancel_order", "drop_after_commit")
    assert cancel(fake, ids, clock, issue="bad fan") == ids
    assert fake.posts() == [("cancel_order", ids[0], "bad fan")]
    assert fake.active() == []


def test_unclear_cancel_proven_still_active_is_sent_once_more():
    fake, ids, clock = account(1)
    fake.fault("cancel_order", "drop")
    assert cancel(fake, ids, clock) == ids
    assert len(fake.posts("cancel_order")) == 2 and fake.active() == []


def test_a_failing_cancel_names_the_order_and_what_was_done_before():
    fake, ids, clock = account(2)
    fake.fault("cancel_order", None, "drop", "drop")
    with pytest.raises(CancelFailed, match=f"could not cancel order {ids[1]}") as caught:
        cancel(fake, ids, clock)
    assert caught.value.cancelled == [ids[0]]
    assert len(fake.posts("cancel_order")) == 3


def test_an_order_gone_meanwhile_counts_as_cancelled():
    fake, ids, clock = account(1)
    fake.orders[0]["expired"] = True  # ended on its own after we read it
    assert cancel(fake, ids, clock) == ids


# ----- state absent by an order id that is not active -----
def known(fake, order_id, missing_ok=False, issue=None) -> list[str]:
    warnings: list[str] = []
    check_order_known(fake, order_id, missing_ok=missing_ok, issue=issue, warn=warnings.append)
    return warnings


def test_an_order_that_ended_is_known_and_absent_as_asked():
    fake, ids, clock = account(1)
    cancel(fake, ids, clock)
    assert known(fake, ids[0]) == [] and fake.posts("cancel_order") == [("cancel_order", ids[0], None)]


def test_an_id_the_key_never_had_is_refused_naming_order_id():
    fake, ids, _clock = account(1)
    with pytest.raises(CloreConfigError, match=f"order_id {ids[0] + 100} is not an order of this API key") as caught:
        known(fake, ids[0] + 100)
    assert caught.value.option == "order_id"


def test_missing_ok_accepts_an_unknown_id_and_says_the_issue_was_not_sent():
    fake, ids, _clock = account(1)
    assert known(fake, ids[0] + 100, missing_ok=True) == []
    warnings = known(fake, ids[0] + 100, missing_ok=True, issue="bad fan")
    assert len(warnings) == 1 and warnings[0].startswith("issue was not sent")
