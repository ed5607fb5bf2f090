"""Exactly-once create and fail-over against an in-memory account that records every call."""
from __future__ import annotations

from dataclasses import replace

import time

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError, CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.create import (
    ExactlyOnceCreator,
    NotListed,
    SEND_SLACK,
    OutcomeUnknown,
    create_body,
)
from ansible_collections.clore.ai.plugins.module_utils._order.failover import rent_with_failover
from ansible_collections.clore.ai.plugins.module_utils._order.plan import BudgetGuard, Candidate

from ansible_collections.clore.ai.plugins.module_utils._order.request import Container, Terms

from order_fakes import Clock, FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"
CONTAINER = Container(image=IMAGE, ssh_key="ssh-ed25519 AAAA test", ssh_password="Secret123", env={"A": 1, "B": True})
ON_DEMAND = Terms()
SPOT = Terms(type="spot", spot_price=1.5)


def creator(fake: FakeClore, **kwargs) -> ExactlyOnceCreator:
    clock = Clock(fake)
    options = {"reconcile_timeout": 10.0, "confirm_timeout": 10.0, "poll_interval": 1.0,
               "clock": clock.monotonic, "sleep": clock.sleep, **kwargs}
    return ExactlyOnceCreator(fake, {o["id"] for o in fake.active()}, **options)


def body(server_id: int) -> dict:
    return create_body(CONTAINER, ON_DEMAND, server_id, "USD-Blockchain")


def test_create_body_has_every_field_clore_takes():
    made = create_body(replace(CONTAINER, image="docker.io/" + IMAGE), SPOT, 7, "CLORE-Blockchain")
    assert made == {"renting_server": 7, "type": "spot", "currency": "CLORE-Blockchain", "image": IMAGE,
                    "ports": {"22": "tcp"}, "spotprice": 1.5, "env": {"A": "1", "B": "true"},
                    "ssh_key": "ssh-ed25519 AAAA test", "ssh_password": "Secret123"}


def test_clean_create_finds_the_new_order_and_posts_once():
    fake = FakeClore([server(1, 2.0)])
    made = creator(fake).create(body(1))
    assert not made.adopted and made.order["server_id"] == 1
    assert fake.posts() == [("create_order", 1)]
    assert len(fake.active()) == 1


@pytest.mark.parametrize("fault", ["drop_after_commit", "code1_after_commit"])
def test_unclear_create_that_committed_is_adopted_not_repeated(fault):
    fake = FakeClore([server(1, 2.0), server(2, 3.0)])
    fake.fault("create_order", fault)
    made = creator(fake).create(body(1))
    assert made.adopted and made.order["server_id"] == 1
    assert fake.posts() == [("create_order", 1)]
    assert len(fake.active()) == 1


def test_unclear_create_with_listing_lag_is_found_within_the_bound():
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 3
    fake.fault("create_order", "drop_after_commit")
    made = creator(fake).create(body(1))
    assert made.adopted
    assert fake.posts() == [("create_order", 1)]


def test_unclear_create_proven_absent_is_repeated_once():
    fake = FakeClore([server(1, 2.0)])
    fake.fault("create_order", "drop")
    made = creator(fake).create(body(1))
    assert not made.adopted
    assert fake.posts() == [("create_order", 1), ("create_order", 1)]
    assert len(fake.active()) == 1


def test_two_unclear_creates_both_absent_give_up_with_nothing_rented():
    fake = FakeClore([server(1, 2.0)])
    fake.fault("create_order", "drop", "drop")
    with pytest.raises(CloreError, match="nothing was rented"):
        creator(fake).create(body(1))
    assert len(fake.posts()) == 2 and fake.active() == []


def test_repeat_after_late_listing_adopts_instead_of_failing_over():
    # The first create committed but is listed only after the reconcile window: the repeat meets
    # server-already-rented, and a second look finds our own order.
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 12
    fake.fault("create_order", "drop_after_commit")
    made = creator(fake, reconcile_timeout=10.0).create(body(1))
    assert made.adopted
    assert fake.posts() == [("create_order", 1), ("create_order", 1)]
    assert len(fake.active()) == 1


def test_an_order_of_another_image_on_the_server_is_not_adopted():
    fake = FakeClore([server(1, 2.0)])
    fake.fault("create_order", "drop", "drop")
    c = creator(fake)
    fake.add_order(1, "someone/else")  # appeared after the known ids were read
    with pytest.raises(CloreError):
        c.create(body(1))
    assert [o["image"] for o in fake.active()] == ["someone/else"]


def test_success_never_listed_is_reported_as_probably_existing():
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 1000
    with pytest.raises(NotListed, match="costs money"):
        creator(fake, confirm_timeout=5.0).create(body(1))
    assert len(fake.posts()) == 1


@pytest.mark.parametrize("kind", ["spot", "on-demand"])
def test_an_order_that_ended_before_it_was_listed_is_found_among_the_ended(kind):
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 2
    fake.fault("create_order", "ends_at_once")
    spot_body = create_body(CONTAINER, Terms(type=kind, spot_price=1.5), 1, "USD-Blockchain")
    made = creator(fake, confirm_timeout=5.0).create(spot_body)
    assert made.order["server_id"] == 1 and made.order["expired"] and not made.adopted
    assert fake.posts() == [("create_order", 1)]
    reads = [call for call in fake.calls if call[0] == "my_orders"]
    # A spot bid is looked for among the ended orders from the first read (found once the lag is over); any other
    # order only once it was never listed as active within confirm_timeout.
    assert len(reads) == (3 if kind == "spot" else 7)


def test_an_earlier_ended_order_on_the_server_is_not_taken_for_the_new_one():
    fake = FakeClore([server(1, 2.0)])
    earlier = fake.add_order(1, IMAGE, spot=True)
    earlier["expired"] = True
    fake.servers[1]["rented"] = False
    fake.fault("create_order", "ends_at_once")
    made = creator(fake).create(create_body(CONTAINER, SPOT, 1, "USD-Blockchain"))
    assert made.order["id"] == earlier["id"] + 1


def test_clear_refusal_is_raised_without_reading_orders():
    fake = FakeClore([server(1, 2.0, rented=True)])
    with pytest.raises(CloreApiError) as caught:
        creator(fake).create(body(1))
    assert caught.value.reason == "server-already-rented"
    assert fake.calls == [("create_order", 1)]


# ----- Clore's clock and the controller's disagree -----
# The creator reads no controller clock: with Clore five minutes behind (the controller five minutes ahead), or ahead,
# the order is still recognised by what Clore itself reports.

@pytest.mark.parametrize("clore_offset", [-300.0, 300.0, -86_400.0])
def test_clean_create_is_found_whatever_the_controller_clock_says(clore_offset):
    fake = FakeClore([server(1, 2.0)], now=time.time() + clore_offset)
    made = creator(fake).create(body(1))
    assert not made.adopted and made.order["server_id"] == 1
    assert fake.posts() == [("create_order", 1)]


@pytest.mark.parametrize("fault", ["drop_after_commit", "code1_after_commit"])
def test_unclear_create_is_adopted_with_clore_five_minutes_behind(fault):
    fake = FakeClore([server(1, 2.0), server(2, 3.0)], now=time.time() - 300)
    fake.fault("create_order", fault)
    made = creator(fake).create(body(1))
    assert made.adopted and made.order["server_id"] == 1
    assert fake.posts() == [("create_order", 1)] and len(fake.active()) == 1


def test_an_order_older_than_the_newest_ct_seen_is_not_taken_for_the_new_one():
    fake = FakeClore([server(1, 2.0), server(2, 3.0)])
    fake.add_order(2, IMAGE)  # known: Clore's clock has reached its ct
    c = creator(fake, clore_time=fake.now)
    # Listed only now, but created before the last read: not the order the create below makes.
    stale = fake.add_order(1, IMAGE, ct=fake.now - 100)
    fake.servers[1]["rented"] = False
    fake.fault("create_order", "drop")
    made = c.create(body(1))
    assert made.order["id"] != stale["id"] and not made.adopted
    assert fake.posts() == [("create_order", 1), ("create_order", 1)]


def test_repeat_refused_while_the_first_outcome_is_unknown_never_fails_over():
    # The unclear first create committed; it is listed far too late to be seen, so the repeat meets
    # server-already-rented and nothing proves whose order that is: stop, never rent a second server.
    fake = FakeClore([server(1, 1.0), server(2, 2.0)])
    fake.listing_lag_reads = 1000
    fake.fault("create_order", "drop_after_commit")
    outcome = rent_with_failover(creator(fake), candidates((1, 1.0), (2, 2.0)), 1, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=3, still_free=lambda sid: False)
    assert outcome.created == [] and outcome.skipped == []
    assert isinstance(outcome.error, OutcomeUnknown) and "no other server was tried" in outcome.stopped
    assert fake.posts() == [("create_order", 1), ("create_order", 1)]
    assert [o["si"] for o in fake.active()] == [1]


class OrdersFailAfterCreate(FakeClore):
    """my_orders fails once a create was sent (the API down right after the POST)."""

    def my_orders(self, return_completed: bool = False) -> list[dict]:
        if self.posts():
            self.calls.append(("my_orders",))
            raise CloreApiError("Clore.ai API my_orders: gave up", endpoint="my_orders", http_status=502)
        return super().my_orders(return_completed)


def test_reading_orders_failing_after_a_create_is_not_a_refusal():
    fake = OrdersFailAfterCreate([server(1, 1.0), server(2, 2.0)])
    outcome = rent_with_failover(creator(fake), candidates((1, 1.0), (2, 2.0)), 1, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=3, still_free=lambda sid: False)
    assert outcome.created == [] and outcome.skipped == []
    assert "may exist and cost money" in outcome.stopped
    assert fake.posts() == [("create_order", 1)]


def test_unknown_outcome_keeps_what_the_fleet_rented_before():
    fake = FakeClore([server(1, 1.0), server(2, 2.0), server(3, 3.0)])

    def body_lagging_from_server_2(candidate: Candidate) -> dict:
        if candidate.server_id == 2:
            fake.listing_lag_reads = 1000  # this order is never seen
        return body(candidate.server_id)

    outcome = rent_with_failover(creator(fake, confirm_timeout=3.0), candidates((1, 1.0), (2, 2.0), (3, 3.0)), 2,
                                 body_lagging_from_server_2, BudgetGuard(None, [], {}), max_attempts=3)
    assert [c.order["server_id"] for c in outcome.created] == [1]
    assert isinstance(outcome.error, NotListed) and "probably exists" in outcome.stopped
    assert ("create_order", 3) not in fake.calls


def body_for(candidate: Candidate) -> dict:
    return body(candidate.server_id)


def candidates(*ids_prices) -> list[Candidate]:
    return [Candidate(i, "USD-Blockchain", p) for i, p in ids_prices]


def test_failover_skips_taken_and_refusing_servers_with_reasons():
    fake = FakeClore([server(1, 1.0, rented=True), server(2, 2.0, online=False), server(3, 3.0), server(4, 4.0)])
    outcome = rent_with_failover(creator(fake), candidates((1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)), 2, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=3)
    assert [c.order["server_id"] for c in outcome.created] == [3, 4]
    assert outcome.skipped == [
        {"server_id": 1, "price_per_day": 1.0, "currency": "USD-Blockchain", "reason": "server-already-rented"},
        {"server_id": 2, "price_per_day": 2.0, "currency": "USD-Blockchain", "reason": "server-offline"},
    ]
    assert outcome.stopped is None


def test_failover_stops_after_max_attempts_per_order():
    fake = FakeClore([server(i, float(i), rented=True) for i in range(1, 6)])
    outcome = rent_with_failover(creator(fake), candidates(*[(i, float(i)) for i in range(1, 6)]), 1, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=2)
    assert outcome.created == [] and len(fake.posts()) == 2
    assert "max_attempts (2)" in outcome.stopped


def test_failover_hard_refusal_stops_unless_the_server_vanished():
    fake = FakeClore([server(1, 1.0), server(2, 2.0)])
    fake.fault("create_order", "not_enough_balance")
    outcome = rent_with_failover(creator(fake), candidates((1, 1.0), (2, 2.0)), 1, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=3, still_free=lambda sid: True)
    assert outcome.created == [] and outcome.error.reason == "not_enough_balance"

    fake = FakeClore([server(2, 2.0)])
    outcome = rent_with_failover(creator(fake), candidates((9, 1.0), (2, 2.0)), 1, body_for,
                                 BudgetGuard(None, [], {}), max_attempts=3, still_free=lambda sid: sid != 9)
    assert outcome.skipped[0]["reason"] == "vanished from the market"
    assert [c.order["server_id"] for c in outcome.created] == [2]


def test_failover_keeps_within_budget():
    fake = FakeClore([server(1, 1.0, rented=True), server(2, 5.0), server(3, 2.0)])
    guard = BudgetGuard({"amount": 3.5, "currency": "USD"}, [], {"USD-Blockchain": 1.0})
    outcome = rent_with_failover(creator(fake), candidates((1, 1.0), (2, 5.0), (3, 2.0)), 1, body_for, guard,
                                 max_attempts=3)
    assert [c.order["server_id"] for c in outcome.created] == [3]
    assert [s["reason"] for s in outcome.skipped] == ["server-already-rented", "over budget"]
    assert ("create_order", 2) not in fake.calls


def test_an_accepted_create_listed_under_a_rewritten_image_is_found_not_reported_unlisted():
    fake = FakeClore([server(1, 2.0)])
    plain_create = fake.create_order

    def create_and_rewrite(sent: dict) -> None:
        plain_create(sent)
        fake.orders[-1]["image"] = "registry.clore.ai/mirror/" + IMAGE  # Clore lists another spelling
    fake.create_order = create_and_rewrite
    created = creator(fake).create(body(1))
    assert created.order["server_id"] == 1 and created.adopted is False
    assert len(fake.posts()) == 1


# ----- what a failure after the create can still name -----

class FullDisk:
    """A journal whose writes after the create fail (the disk filled up meanwhile)."""

    def record(self, server_id, image, floor, send_window):
        self.send_window = send_window
        return object()

    def mark_sent(self, record):
        self.marked = True

    def clear(self, record):
        raise OSError(28, "No space left on device")


def test_an_order_found_is_made_before_its_record_is_cleared():
    fake = FakeClore([server(1, 2.0)])
    journal = FullDisk()
    made = creator(fake, journal=journal)
    with pytest.raises(OSError):
        made.create(body(1))
    assert [c.order["id"] for c in made.made] == [o["id"] for o in fake.active()]
    assert made.in_flight is None and journal.marked


def test_a_create_whose_order_is_not_found_stays_in_flight_and_sent():
    fake = FakeClore([server(1, 2.0)])
    fake.listing_lag_reads = 1000
    made = creator(fake, confirm_timeout=2.0)
    with pytest.raises(NotListed):
        made.create(body(1))
    assert (made.in_flight.server_id, made.in_flight.image, made.in_flight.sent) == (1, IMAGE, True)
    assert made.made == []


def test_a_refused_create_is_no_longer_in_flight():
    made = creator(FakeClore([server(1, 2.0, rented=True)]))
    with pytest.raises(CloreApiError):
        made.create(body(1))
    assert made.in_flight is None and made.made == []


def test_the_record_may_be_sent_until_the_clients_retry_deadline():
    fake = FakeClore([server(1, 2.0)])
    fake.retry_timeout, fake.create_interval = 300.0, 5.0
    journal = FullDisk()
    with pytest.raises(OSError):
        creator(fake, journal=journal).create(body(1))
    assert journal.send_window == 300.0 + 5.0 + SEND_SLACK
