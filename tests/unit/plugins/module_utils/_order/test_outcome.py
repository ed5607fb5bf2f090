"""OrderOutcome: what a clore_order task did, and the result and summary built from it."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils._order.outcome import OrderOutcome
from ansible_collections.clore.ai.plugins.module_utils._order.plan import Candidate
from ansible_collections.clore.ai.plugins.module_utils._order.summary import summary

IMAGE = "cloreai/ubuntu22.04-jupyter"


def order(order_id: int, server_id: int, price: float = 1.0) -> dict:
    return {"id": order_id, "server_id": server_id, "image": IMAGE, "price_per_day": price,
            "currency": "USD-Blockchain", "spot": False}


class Rivals:
    """What a fleet's RivalCandidates leaves: the servers passed over and one reason each."""

    def __init__(self, skipped: list[dict], reasons: list[str]):
        self.skipped = skipped
        self.reasons = reasons


def result(outcome: OrderOutcome, check_mode: bool = False, diff: bool = False) -> dict:
    return outcome.to_result(outcome.after(), check_mode=check_mode, diff=diff, image=IMAGE, bad_servers_skipped=0)


def test_an_empty_outcome_changes_nothing():
    made = result(OrderOutcome())
    assert made["changed"] is False and made["msg"] == "nothing to change"
    assert made["orders"] == [] and made["shortfall"] == {"count": 0, "reasons": {}}
    assert "would_create" not in made and "diff" not in made


def test_new_orders_are_the_created_then_the_adopted():
    outcome = OrderOutcome()
    outcome.add_new(order(2, 20), adopted=False)
    outcome.add_new(order(3, 30), adopted=True)
    assert [o["id"] for o in outcome.new_orders()] == [2, 3]
    made = result(outcome)
    assert (made["created"], made["adopted"], made["changed"]) == ([2], [3], True)
    assert made["msg"] == "rented order(s) 2; adopted after an unclear create order(s) 3"


def test_after_leaves_out_the_cancelled_the_ended_and_what_check_mode_would_cancel():
    outcome = OrderOutcome(kept=[order(1, 10), order(4, 40), order(5, 50)], created=[order(2, 20)])
    outcome.cancelled.append(1)
    outcome.add_ended([2, 2])
    outcome.would_cancel.append(4)
    assert outcome.ended == [2]
    assert [o["id"] for o in outcome.after()] == [5]
    # `kept` names what stays (a planned cancel is not done yet).
    assert result(outcome)["kept"] == [4, 5]


def test_check_mode_adds_what_would_happen_and_says_it():
    outcome = OrderOutcome(would_create=[{"server_id": 7, "price_per_day": 2.0, "currency": "USD-Blockchain",
                                          "currency_reason": "the only currency allowed"}],
                           would_cancel=[3], would_reprice=[{"id": 4, "from": 1.0, "to": 2.0}])
    made = result(outcome, check_mode=True)
    assert made["changed"] is True
    assert made["would_create"][0]["server_id"] == 7 and made["would_cancel"] == [3]
    assert made["msg"] == ("would rent server 7 at 2.0 USD-Blockchain/day (the only currency allowed); would cancel "
                           "order(s) 3; would change the bid of order(s) 4")


def test_the_diff_shows_the_orders_before_and_the_planned_after():
    outcome = OrderOutcome(before=[order(1, 10)], kept=[order(1, 10)],
                           would_create=[{"server_id": 7, "price_per_day": 2.0, "currency": "USD-Blockchain",
                                          "type": "on-demand"}])
    made = result(outcome, check_mode=True, diff=True)
    assert [o["server_id"] for o in made["diff"]["before"]["orders"]] == [10]
    assert [o["server_id"] for o in made["diff"]["after"]["orders"]] == [10, 7]


def test_the_shortfall_counts_the_filters_the_rivals_and_the_passed_over():
    outcome = OrderOutcome(excluded={"gpu": 2, "bad_server": 0},
                           rivals=Rivals([{"server_id": 9, "reason": "rented, and not on spot"}],
                                         ["rented, and not on spot"]))
    outcome.skipped.append({"server_id": 8, "reason": "server taken"})
    outcome.note_shortfall(3, 1, ["server taken"])
    assert outcome.shortfall == {"count": 2, "reasons": {"gpu": 2, "rented, and not on spot": 1, "server taken": 1}}
    made = result(outcome)
    assert [s["server_id"] for s in made["skipped_servers"]] == [8, 9]
    assert "the fleet is 2 short (allow_partial; reasons: gpu: 2" in made["msg"]
    outcome.note_shortfall(3, 3, ["server taken"])
    assert outcome.shortfall == {"count": 0, "reasons": {}}


def test_each_currency_choice_is_reported_with_its_order():
    outcome = OrderOutcome()
    outcome.choose_currency(11, Candidate(7, "CLORE-Blockchain", 200.0, "RTX 4090", 1, 5.0, "market_rates",
                                          "CLORE-Blockchain: the cheapest in US dollars per day"))
    assert outcome.currency_choices == [{
        "order_id": 11, "server_id": 7, "currency": "CLORE-Blockchain", "price_per_day": 200.0, "usd_per_day": 5.0,
        "usd_source": "market_rates", "reason": "CLORE-Blockchain: the cheapest in US dollars per day"}]


def test_refresh_takes_what_the_wait_read_last():
    outcome = OrderOutcome(kept=[order(1, 10)], created=[order(2, 20)], adopted=[order(3, 30)])
    outcome.refresh({2: order(2, 20) | {"ssh_host": "h", "ssh_port": 2222}, 3: order(3, 30) | {"ssh_port": 1}})
    assert outcome.kept[0].get("ssh_port") is None
    assert outcome.created[0]["ssh_port"] == 2222 and outcome.adopted[0]["ssh_port"] == 1


def test_spot_info_goes_onto_each_order():
    outcome = OrderOutcome(kept=[order(1, 10)], spot_info={1: {"spot_bid": 2.0, "spot_active": True}})
    assert result(outcome)["orders"][0]["spot_active"] is True


def test_the_summary_of_a_real_run_names_every_list():
    outcome = OrderOutcome(kept=[order(1, 10)], cancelled=[4], repriced=[1], released=[6], surplus=[6],
                           outbid=[{"id": 5}], skipped=[{"server_id": 8, "reason": "server taken"}])
    assert summary(result(outcome), check_mode=False) == (
        "cancelled order(s) 4; changed the bid of order(s) 1; released as surplus order(s) 6; kept order(s) 1; "
        "outbid order(s) 5; passed over server(s) 8 (server taken)")
