"""OrderWatch: my orders between two polls as events, the end reasons, and the source's condition arguments."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.order_watch import (
    BALANCE,
    CANCELLED,
    EXPIRED,
    OUTBID,
    OrderWatch,
    Snapshot,
    SpotView,
    Thresholds,
    check_thresholds,
    end_reason,
)

NOW = 1_800_000_000.0
CLORE = "CLORE-Blockchain"


def order(order_id: int, *, ready: bool = False, spot: bool = False, left: int = 100 * 3600, spend_usd: float = 1.0,
          currency: str = CLORE, spend: float = 40.0) -> dict:
    length = 200 * 3600
    return {"id": order_id, "server_id": order_id + 5000, "ready": ready, "spot": spot, "currency": currency,
            "created_at": NOW - (length - left), "mrl_seconds": length, "time_left_seconds": left,
            "spend": spend, "spend_usd": spend_usd, "expired": False}


def snap(*active: dict, ended: tuple[dict, ...] = (), spot: dict | None = None, wallets: dict | None = None,
         now: float = NOW) -> Snapshot:
    return Snapshot(active={o["id"]: o for o in active}, ended={o["id"]: dict(o, expired=True) for o in ended},
                    now=now, spot=spot or {}, wallets=wallets)


def wallets(balance: float, currency: str = CLORE) -> dict:
    return {currency: {"currency": currency, "balance": balance, "deposit_address": None, "withdrawal_fee": None}}


def running(top_bid: float = 100.0) -> SpotView:
    return SpotView(running=True, listed=True, top_bid=top_bid, top_currency=CLORE, top_mine=True)


def rival(top_bid: float = 150.0) -> SpotView:
    return SpotView(running=False, listed=True, top_bid=top_bid, top_currency=CLORE, top_mine=False)


def types(events: list[dict]) -> list[tuple[str, int]]:
    return [(e["type"], (e.get("order") or {}).get("id")) for e in events]


def test_the_first_poll_is_a_baseline():
    watch = OrderWatch()
    assert watch.events(snap(order(1, ready=True), order(2), ended=(order(3),))) == []
    assert watch.events(snap(order(1, ready=True), order(2), ended=(order(3),))) == []


def test_a_new_order_is_created_then_ready_once():
    watch = OrderWatch()
    watch.events(snap())
    assert types(watch.events(snap(order(1)))) == [("order_created", 1)]
    assert watch.events(snap(order(1))) == []
    events = watch.events(snap(order(1, ready=True)))
    assert types(events) == [("order_ready", 1)]
    assert events[0]["previous"] == {"ready": False}
    assert watch.events(snap(order(1, ready=True))) == []


def test_a_new_order_already_ready_is_created_and_ready():
    watch = OrderWatch()
    watch.events(snap())
    assert types(watch.events(snap(order(7, ready=True)))) == [("order_created", 7), ("order_ready", 7)]


def test_an_order_that_leaves_is_ended_once_with_its_final_record():
    watch = OrderWatch()
    watch.events(snap(order(1)))
    final = dict(order(1), spend=99.0)
    events = watch.events(snap(ended=(final,), wallets=wallets(50.0)))
    assert types(events) == [("order_ended", 1)]
    assert events[0]["order"]["spend"] == 99.0 and events[0]["listed"] is True
    assert (events[0]["reason"], events[0]["previous"]) == (CANCELLED, {"ended": False})
    assert watch.events(snap(ended=(final,), wallets=wallets(50.0))) == []


def test_an_order_that_began_and_ended_between_two_polls_is_ended():
    watch = OrderWatch()
    watch.events(snap(ended=(order(1),)))
    events = watch.events(snap(ended=(order(1), order(2)), wallets=wallets(0.0)))
    assert types(events) == [("order_ended", 2)]
    assert events[0]["reason"] == BALANCE and events[0]["previous"] is None


def test_an_order_missing_from_two_listings_in_a_row_is_ended_with_its_last_record():
    watch = OrderWatch()
    watch.events(snap(order(1, spot=True), spot={1: rival()}))
    assert watch.events(snap(wallets=wallets(5.0))) == []  # missing once: a listing may miss an order
    events = watch.events(snap(wallets=wallets(5.0)))
    assert types(events) == [("order_ended", 1)] and events[0]["listed"] is False
    assert events[0]["reason"] == OUTBID  # what was seen of it before it went missing still counts
    assert watch.events(snap(wallets=wallets(5.0))) == []


def test_an_order_missing_from_one_listing_only_is_not_ended_nor_created_again():
    watch = OrderWatch()
    watch.events(snap(order(1)))
    assert watch.events(snap()) == []
    assert watch.events(snap(order(1))) == []
    assert watch.events(snap()) == []
    assert watch.events(snap(order(1))) == []


@pytest.mark.parametrize(("the_order", "seen_outbid", "spot", "money", "reason"), [
    (order(1, left=0), False, None, None, EXPIRED),
    (order(1, left=60), False, None, wallets(10.0), EXPIRED),  # within a clock's slack of its end
    (order(1, spot=True), True, None, None, OUTBID),
    (order(1, spot=True), False, rival(), wallets(10.0), OUTBID),
    (order(1), False, None, wallets(0.0), BALANCE),
    (order(1), False, None, wallets(-0.5), BALANCE),
    (order(1), False, None, wallets(10.0), CANCELLED),
    (order(1, spot=True), False, running(), wallets(10.0), CANCELLED),
    (order(1), False, None, None, None),  # the wallets could not be read
    (order(1, spot=True), False, None, wallets(10.0), None),  # the spot market could not be read
    (order(1), False, None, wallets(10.0, "bitcoin"), None),  # no balance in the order's currency
])
def test_end_reason_from_the_evidence(the_order, seen_outbid, spot, money, reason):
    judged, detail = end_reason(the_order, NOW, seen_outbid, spot, money)
    assert judged == reason
    assert detail


def test_a_spot_order_outbid_is_told_once_then_ends_as_outbid():
    watch = OrderWatch()
    watch.events(snap(order(1, spot=True), spot={1: running()}))
    events = watch.events(snap(order(1, spot=True), spot={1: rival(150.0)}))
    assert types(events) == [("order_outbid", 1), ("spot_top_bid_changed", 1)]
    assert events[0]["spot"]["top_bid"] == 150.0 and "150" in events[0]["reason"]
    assert watch.events(snap(order(1, spot=True), spot={1: rival(150.0)})) == []
    # Its end: outbid, because it was seen outbid (its market is no longer read).
    ended = watch.events(snap(ended=(order(1, spot=True),), wallets=wallets(10.0)))
    assert types(ended) == [("order_ended", 1)] and ended[0]["reason"] == OUTBID


def test_an_outbid_order_that_runs_again_is_told_again_when_outbid_again():
    watch = OrderWatch()
    watch.events(snap(order(1, spot=True), spot={1: rival()}))
    watch.events(snap(order(1, spot=True), spot={1: running(200.0)}))
    events = watch.events(snap(order(1, spot=True), spot={1: rival(250.0)}))
    assert ("order_outbid", 1) in types(events)


def test_the_top_bid_changing_is_told_with_the_previous_one():
    watch = OrderWatch()
    watch.events(snap(order(1, spot=True), spot={1: running(100.0)}))
    assert watch.events(snap(order(1, spot=True), spot={1: running(100.0)})) == []
    events = watch.events(snap(order(1, spot=True), spot={1: running(120.0)}))
    assert types(events) == [("spot_top_bid_changed", 1)]
    assert (events[0]["previous"]["top_bid"], events[0]["spot"]["top_bid"]) == (100.0, 120.0)


def test_spend_over_and_ending_soon_once_per_order_from_the_first_poll():
    watch = OrderWatch(Thresholds(spend_over={"amount": 10.0, "currency": "USD"}, ending_soon_seconds=3600))
    events = watch.events(snap(order(1, spend_usd=11.0), order(2, spend_usd=9.0, left=1800)))
    assert types(events) == [("spend_over", 1), ("ending_soon", 2)]
    assert events[1]["hours_left"] == 0.5 and events[0]["threshold"] == {"amount": 10.0, "currency": "USD"}
    assert watch.events(snap(order(1, spend_usd=12.0), order(2, spend_usd=9.0, left=900))) == []
    assert types(watch.events(snap(order(1, spend_usd=12.0), order(2, spend_usd=10.5, left=900)))) == \
        [("spend_over", 2)]


def test_spend_over_in_a_coin_compares_the_orders_paid_in_it():
    watch = OrderWatch(Thresholds(spend_over={"amount": 30.0, "currency": CLORE}))
    events = watch.events(snap(order(1, spend=40.0), order(2, spend=40.0, currency="bitcoin")))
    assert types(events) == [("spend_over", 1)]


def test_wallet_low_once_until_it_is_back_at_the_threshold():
    watch = OrderWatch(Thresholds(wallet_low={CLORE: 100.0}))
    events = watch.events(snap(wallets=wallets(50.0)))
    assert [e["type"] for e in events] == ["wallet_low"]
    assert events[0]["wallet"]["balance"] == 50.0 and events[0]["threshold"] == 100.0
    assert watch.events(snap(wallets=wallets(40.0))) == []
    assert watch.events(snap(wallets=wallets(100.0))) == []
    assert [e["type"] for e in watch.events(snap(wallets=wallets(99.0)))] == ["wallet_low"]


def test_check_thresholds_reads_the_arguments():
    checked = check_thresholds({"spend_over": 25, "ending_soon_hours": 2, "wallet_low": {"clore": 500, "BTC": 0}})
    assert checked.spend_over == {"amount": 25.0, "currency": "USD"}
    assert checked.ending_soon_seconds == 7200
    assert checked.wallet_low == {CLORE: 500.0, "bitcoin": 0.0}
    assert check_thresholds({"spend_over": {"amount": 5, "currency": "clore"}}).spend_over["currency"] == CLORE
    assert check_thresholds({}) == Thresholds()


@pytest.mark.parametrize(("args", "named"), [
    ({"spend_over": -1}, "spend_over"),
    ({"spend_over": "ten"}, "spend_over"),
    ({"spend_over": {"amount": 5, "currency": "EUR"}}, "spend_over"),
    ({"spend_over": {"amount": 5, "per": "day"}}, "spend_over"),
    ({"ending_soon_hours": 0}, "ending_soon_hours"),
    ({"ending_soon_hours": True}, "ending_soon_hours"),
    ({"wallet_low": {"DOGE": 5}}, "wallet_low"),
    ({"wallet_low": {"CLORE": -5}}, "wallet_low"),
    ({"wallet_low": 5}, "wallet_low"),
])
def test_bad_thresholds_are_refused_naming_the_argument(args, named):
    with pytest.raises(CloreConfigError) as caught:
        check_thresholds(args)
    assert caught.value.option == named
