"""One clore_order task: read my orders, decide, act (only outside check mode), then wait for readiness.

Reads and decisions are identical in check mode; only the POSTs (create, cancel, set_spot_price) are skipped, so
check mode reports exactly what a real run would do. Any failure after money was committed names the orders that
exist and cost money (or cancels those this run created, with cancel_on_failure), whatever raised it: an API error, a
state file that could not be written (a full disk), or a bug.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD
from ansible_collections.clore.ai.plugins.module_utils.pricing import market_rates
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import (
    ensure_known_hosts_dir,
    known_hosts_dir,
    ssh_settings,
)
from ansible_collections.clore.ai.plugins.module_utils.market import (
    MARKET_FILTER_SPEC,
    first_failing_filter,
    price_per_day,
)
from ansible_collections.clore.ai.plugins.module_utils._order.account_cap import (
    CappedBudget,
    account_cap,
    check_account_budget,
)
from ansible_collections.clore.ai.plugins.module_utils._order.args import (  # the module's spec, through this façade
    ORDER_ARGUMENT_RULES,
    ORDER_ARGUMENT_SPEC,
    ports_for_order,
    validate,
)
from ansible_collections.clore.ai.plugins.module_utils.images import same_image
from ansible_collections.clore.ai.plugins.module_utils._order.cancel import (
    CancelFailed,
    cancel_orders,
    check_order_known,
)
from ansible_collections.clore.ai.plugins.module_utils._order.create import (
    NEXT_RUN_LOOKS,
    ExactlyOnceCreator,
    create_body,
    newest_ct,
)
from ansible_collections.clore.ai.plugins.module_utils._order.failover import OVER_BUDGET, rent_with_failover
from ansible_collections.clore.ai.plugins.module_utils._order.identity import members, read_orders
from ansible_collections.clore.ai.plugins.module_utils._order.inflight import InflightCreates, reconcile_inflight
from ansible_collections.clore.ai.plugins.module_utils._order.lock import (
    ServerClaims,
    SharedOrderReads,
    account_lock,
    order_lock,
)
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import (
    MarketRead,
    listed_as,
    read_market,
    with_id,
)
from ansible_collections.clore.ai.plugins.module_utils._order.plan import (
    BudgetGuard,
    Candidate,
    FleetCandidates,
    FleetPlan,
    NoRivals,
    RivalSource,
    make_candidate,
    plan_fleet,
    price_cap,
    shortfall,
)
from ansible_collections.clore.ai.plugins.module_utils._order.bad_memory import BadServerMemory, check_bad_server_ttl
from ansible_collections.clore.ai.plugins.module_utils._order.bid import bid_differs, set_bid
from ansible_collections.clore.ai.plugins.module_utils._order.lifetime import check_lifetime, record_lifetime
from ansible_collections.clore.ai.plugins.module_utils._order import spot
from ansible_collections.clore.ai.plugins.module_utils.flat_order import fleet_diff
from ansible_collections.clore.ai.plugins.module_utils._order.wait import (
    ACTIVE,
    ENDED,
    OrderEnded,
    end_reason,
    order_states,
    wait_ready,
)


# The `excluded` key and the skip reason of the servers this key hosts itself (never rented by a fleet).
OWN_SERVER = "own_server"
OWN_SERVER_REASON = "one of your own servers (this API key hosts it)"
# Waiting forks share my_orders reads this fresh, so that together they poll at most about once per this many s.
SHARED_READ_MAX_AGE = 1.5


__all__ = ["ORDER_ARGUMENT_RULES", "ORDER_ARGUMENT_SPEC", "OrderTask", "OrderTaskFailed", "run_order"]


class OrderTaskFailed(CloreError):
    """The task failed; `result` is what it did before (created, cancelled, ...) so that nothing is lost."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result

    def to_result(self) -> dict[str, Any]:
        return self.result


def run_order(module, client) -> dict:
    """clore_order's run(module, client) for common.run_module."""
    params = dict(module.params)
    mode = validate(params)  # before any API call
    check_account_budget(params)
    check_bad_server_ttl(params)
    check_lifetime(params)
    return OrderTask(client, params, mode, check_mode=module.check_mode, diff=module._diff, warn=module.warn).run()


class OrderTask:
    def __init__(self, client, params: dict, mode: str, *, check_mode: bool, diff: bool, warn,
                 clock=time.monotonic):
        self.client = client
        self.params = params
        self.mode = mode
        self.check_mode = check_mode
        self.want_diff = diff
        self.warn = warn
        self.clock = clock
        self.deadline = clock() + params["wait_timeout"]
        self.created: list[dict] = []
        self.adopted: list[dict] = []
        self.kept: list[dict] = []
        self.cancelled: list[int] = []
        self.repriced: list[int] = []
        self.skipped: list[dict] = []  # returned as skipped_servers
        self.ended: list[int] = []  # identified orders that ended while the task waited for them
        self.would_create: list[dict] = []
        self.currency_choices: list[dict] = []  # per order created: the currency paid in and why
        self.would_cancel: list[int] = []
        self.would_reprice: list[dict] = []
        self.excluded: dict[str, int] = {}
        self.outbid: list[dict] = []  # spot orders outbid: ended, or standing without running
        self.spot_info: dict[int, dict] = {}  # per spot order: our bid, whether it runs, the top rival bid
        self._spot_markets: spot.SpotMarkets | None = None
        self._market: MarketRead | None = None  # the fleet's read: only the servers that can be candidates
        self._rivals: spot.RivalCandidates | None = None  # the servers others hold that the fleet may outbid
        self.shortfall: dict = shortfall(0, 0, {}, [])  # how far the fleet falls short of count, and why
        self.known_ids: set[int] = set()
        self.clore_time: float | None = None
        self.before: list[dict] = []
        self.active_orders: list[dict] = []  # every active order of the key, for account_budget
        self.bad_servers = BadServerMemory(client, params.get("bad_server_ttl", 24.0))
        self.surplus: list[int] = []  # a fleet's members beyond count after renting (another run's race)
        self.released: list[int] = []  # those of them cancelled (surplus: release)
        self._creator: ExactlyOnceCreator | None = None

    # ----- the flow -----
    def run(self) -> dict:
        """The task's result; after a create was sent, any failure still names what exists and may cost money."""
        try:
            return self._run()
        except OrderTaskFailed:
            raise
        except Exception as err:  # noqa: BLE001 -- whatever it is, an order may exist: say which, never a bare text
            self._take_made()
            in_flight = self._creator.in_flight if self._creator is not None else None
            sent = bool(self._new_orders()) or (in_flight is not None and in_flight.sent)
            if not sent and not isinstance(err, OSError):
                raise  # a bug before any create: its traceback helps, and nothing costs money
            self._fail(_failure_text(err, sent) + self._in_flight_note())

    def _run(self) -> dict:
        image = self.params.get("image")
        lock = nullcontext() if self.check_mode else order_lock(self.client.state_path, self.client.account, image)
        with lock:
            # Creates an earlier run sent but never saw through: their orders first, before anything is decided.
            reconciled = self._reconcile_inflight(image)
            pairs, warnings = read_orders(self.client.my_orders())
            for warning in warnings:
                self.warn(warning)
            self.known_ids = {order["id"] for _raw, order in pairs}
            self.active_orders = [order for _raw, order in pairs]
            self.clore_time = newest_ct([order for _raw, order in pairs])
            current = members(self.mode, self.params, pairs)
            self.adopted = [o for o in current if o["id"] in reconciled]
            self.before = [o for o in current if o["id"] not in reconciled]
            for order_id in sorted(set(reconciled) - {o["id"] for o in self.adopted}):
                self.warn(f"order {order_id} on server {reconciled[order_id]['server_id']} was rented by an earlier "
                          "run that stopped before finding it; it is not one of this task's orders and costs money "
                          "until cancelled")
            try:
                if self.params["state"] == "absent":
                    self._absent(current)
                else:
                    self._present(current)
            except OrderTaskFailed:
                raise
            except CloreError as err:
                self.kept = [o for o in self.kept if o["id"] not in reconciled]  # adopted, not kept: also on failure
                self._take_made()
                self._fail(str(err) + self._in_flight_note(str(err)))
            self.kept = [o for o in self.kept if o["id"] not in reconciled]
        record_lifetime(self.client, self.params, self.kept + self._new_orders(), self.check_mode)
        if self.params["state"] == "present" and self.params["wait"] and not self.check_mode:
            self._wait()
        return self._result()

    def _reconcile_inflight(self, image: str | None) -> dict[int, dict]:
        """{order id: order} of the creates earlier runs left in flight for this key and image, now found."""
        journal = InflightCreates(self.client.state_path, self.client.account)
        if self.check_mode:
            for record in journal.pending(image):
                self.warn(f"an earlier run sent create_order for server {record.server_id} and stopped before "
                          "finding the order: a real run first looks for it (and adopts it) before renting anything")
            return {}
        found = reconcile_inflight(self.client, journal, image, float(self.params["reconcile_timeout"]))
        for warning in found.warnings:
            self.warn(warning)
        for order in found.adopted:
            self.warn(f"adopted order {order['id']} on server {order['server_id']}: an earlier run sent its "
                      "create_order and stopped before finding it")
        return {order["id"]: order for order in found.adopted}

    def _absent(self, current: list[dict]) -> None:
        if self.mode == "order_id" and not current:
            check_order_known(self.client, self.params["order_id"], missing_ok=self.params.get("missing_ok", False),
                              issue=self.params.get("issue"), warn=self.warn)
        ids = [order["id"] for order in current]
        if self.check_mode:
            self.would_cancel = ids
            return
        self._cancel(ids, self.params.get("issue") or self.bad_servers.issue_for(current))

    def _present(self, current: list[dict]) -> None:
        if self.mode == "order_id" and not current:
            raise CloreError(
                f"order {self.params['order_id']} is not among your active orders; an order cannot be created by "
                "id: use server_id or count (a fleet) to rent"
            )
        keep, recreate = self._reconcile_existing(current)
        self._cancel_or_plan([o["id"] for o in recreate], issue=None)
        keep = self._review_spot(keep)
        self._report_ended_outbid(current)
        if self.mode == "fleet":
            plan = plan_fleet(keep, self.params["count"], self.params["exact"], self._rates_if_needed(keep))
            self._cancel_or_plan([o["id"] for o in plan.cancel], issue=None)
            self.kept = plan.keep
            self._rent_fleet(plan)
            self._settle_surplus()
        else:
            self.kept = keep
            if not keep:
                server_id = self.params["server_id"] if self.mode == "server_id" else recreate[0]["server_id"]
                self._rent_server(server_id)
        self._review_spot(self._new_orders())

    # ----- existing orders -----
    def _reconcile_existing(self, current: list[dict]) -> tuple[list[dict], list[dict]]:
        """(orders to keep, orders to cancel and rent again); spot bids are adjusted on the kept ones."""
        keep, recreate = [], []
        for order in current:
            differences = self._differences(order)
            if differences and self.params["recreate"]:
                recreate.append(order)
                continue
            if differences:
                self.warn(
                    f"order {order['id']} differs from the task ({'; '.join(differences)}) and cannot be changed in "
                    "place: set recreate: true to cancel it and rent again"
                )
            keep.append(order)
            self._adjust_bid(order)
        return keep, recreate

    def _differences(self, order: dict) -> list[str]:
        found = []
        image = self.params.get("image")
        if image and not same_image(order.get("image"), image):
            found.append(f"image is {order.get('image')}, the task asks for {image}")
        wants_spot = self.params["type"] == "spot"
        # With order_id, type defaults to on-demand: only a spot_price says which type the user means.
        type_meant = self.mode != "order_id" or self.params.get("spot_price") is not None
        if type_meant and bool(order.get("spot")) != wants_spot:
            found.append(f"type is {'spot' if order.get('spot') else 'on-demand'}, the task asks for "
                         f"{self.params['type']}")
        currency = self.params.get("currency")
        if currency and order.get("currency") and order["currency"] != currency:
            found.append(f"currency is {order['currency']}, the task asks for {currency}")
        return found

    def _adjust_bid(self, order: dict) -> None:
        spot_price = self.params.get("spot_price")
        if spot_price is None or not order.get("spot") or not bid_differs(order, spot_price):
            return
        change = {"id": order["id"], "from": order.get("price_per_day"), "to": spot_price,
                  "currency": order.get("currency")}
        if self.check_mode:
            self.would_reprice.append(change)
            return
        set_bid(self.client, order, spot_price)
        self.repriced.append(order["id"])
        order["price_per_day"] = spot_price

    def _cancel_or_plan(self, ids: list[int], issue: str | None) -> None:
        if not ids:
            return
        if self.check_mode:
            self.would_cancel.extend(ids)
        else:
            self._cancel(ids, issue)

    def _cancel(self, ids: list[int], issue: str | None) -> None:
        try:
            self.cancelled.extend(cancel_orders(self.client, ids, issue))
        except CancelFailed as err:
            self.cancelled.extend(err.cancelled)
            raise

    # ----- renting -----
    def _fleet_market(self) -> MarketRead:
        """The fleet's market, read once and streamed: the free servers passing the filters, and with
        spot_max_price the ones others hold; every other row is dropped as it is decoded."""
        if self._market is None:
            filters = {name: self.params.get(name) for name in _filter_names(self.params)}
            held = spot.bids_up_to_cap(self.params) and (self.params.get("spot_candidates") or 0) > 0
            self._market = read_market(self.client, filters=filters, sort_by=self.params["sort_by"],
                                       descending=self.params["descending"], held=held,
                                       user_rates=self.params.get("usd_rates"), price_all=True)
        return self._market

    def _rates_if_needed(self, keep: list[dict]) -> dict[str, float]:
        surplus = self.params["exact"] and len(keep) > self.params["count"]
        mixed = len({o.get("currency") for o in keep}) > 1
        # A surplus leaves nothing to rent: the rates are all this read keeps.
        return read_market(self.client).rates if surplus and mixed else market_rates([])

    def _rent_fleet(self, plan: FleetPlan) -> None:
        if plan.missing <= 0:
            return
        market = self._fleet_market()
        self.excluded = dict(market.excluded)
        servers = self.bad_servers.skip(market.free, self.excluded)
        rates = market.rates
        own = _own_server_ids(market)
        candidates = []
        for server in servers:
            if server["id"] in own:  # renting your own server costs a fee and earns nothing
                self.excluded[OWN_SERVER] = self.excluded.get(OWN_SERVER, 0) + 1
                self.skipped.append({"server_id": server["id"], "price_per_day": None, "currency": None,
                                     "reason": OWN_SERVER_REASON})
                continue
            candidate, refusal = make_candidate(server, self.params, rates)
            if candidate is not None:
                candidates.append(candidate)
                continue
            key = refusal.filter or refusal.text
            self.excluded[key] = self.excluded.get(key, 0) + 1
            if refusal.filter:  # a price the filter passed but this order would not pay: say which and why
                self.skipped.append(refusal.skip(server["id"]))
        found = FleetCandidates(candidates, self._spot_rivals(market.held))
        planned = found.planned(plan.missing)
        budget = BudgetGuard(self.params.get("budget"), plan.keep, rates)
        partial = bool(self.params.get("allow_partial"))
        chosen = budget.within(planned, plan.missing) if partial else budget.choose(planned, plan.missing)
        self._note_shortfall(plan.missing, len(chosen), [OVER_BUDGET] * (min(len(planned), plan.missing) - len(chosen)))
        with self._account_lock():
            budget = self._account_capped(budget, chosen, rates)
            if len(planned) < plan.missing and not partial:
                which = ("free or winnable within spot_max_price" if spot.bids_up_to_cap(self.params) else "free")
                raise CloreError(
                    f"only {len(planned)} {which} servers match, {plan.missing} needed; nothing was rented "
                    f"(allow_partial: true rents what matches). Servers excluded per filter: "
                    f"{_excluded_text(self.excluded)}"
                )
            if self.check_mode:
                self.would_create = [c.summary(self.params["type"]) for c in chosen]
                return
            skipped_before, rented_before = len(self.skipped), len(self._new_orders())
            try:
                self._create(found, plan.missing, budget, partial=partial)
            finally:  # also when fail-over stops: the result says how far short the fleet is, and why
                self._note_shortfall(plan.missing, len(self._new_orders()) - rented_before,
                                     [entry["reason"] for entry in self.skipped[skipped_before:]])

    def _rent_server(self, server_id: int) -> None:
        # Only that server's row is kept, priced in each currency the order may pay in.
        market = read_market(self.client, row=listed_as(server_id), currencies=self.params.get("currencies"),
                             user_rates=self.params.get("usd_rates"), price_all=True)
        if _as_id(server_id) in _own_server_ids(market):
            raise CloreError(f"server_id: server {server_id} is {OWN_SERVER_REASON}: renting it would cost a fee for "
                             "nothing; nothing was rented")
        server = market.row
        if server is None:
            raise CloreError(f"server {server_id} is not in the market; nothing was rented")
        if server.get("rented") and server.get("online") is not False and spot.bids_up_to_cap(self.params):
            self._outbid_server(server, market.rates)
            return
        if server.get("rented") or server.get("online") is False:
            state = "rented" if server.get("rented") else "offline"
            raise CloreError(f"server {server_id} is {state}; nothing was rented")
        price_filters = {k: self.params.get(k) for k in ("max_price", "currency", "currencies") if self.params.get(k)}
        failed = first_failing_filter(server, price_filters) if price_filters else None
        if failed:
            raise CloreError(f"server {server_id} fails {failed}: {_filter_text(failed, server, self.params)}; "
                             "nothing was rented")
        rates = market.rates
        # The filter judged the server's cheapest price; make_candidate judges the currency this order pays in.
        candidate, refusal = make_candidate(server, self.params, rates)
        if candidate is None:
            raise CloreError(f"server {server_id} {refusal}; nothing was rented")
        budget = BudgetGuard(self.params.get("budget"), [], rates)
        budget.choose([candidate], 1)
        with self._account_lock():
            budget = self._account_capped(budget, [candidate], rates)
            if self.check_mode:
                self.would_create = [candidate.summary(self.params["type"])]
                return
            self._create([candidate], 1, budget)

    @contextlib.contextmanager
    def _account_lock(self) -> Iterator[None]:
        """With account_budget, the key's lock from the cap's check until the creates are found in my_orders, over
        a fresh read of the key's active orders: runs of other images (whose locks differ) rent one after the other
        and each counts what the one before rented. Taken inside the image's lock, never the other way round, so
        that no two runs wait for each other. Without account_budget (or in check mode) nothing is taken or read."""
        if self.params.get("account_budget") is None or self.check_mode:
            yield
            return
        with account_lock(self.client.state_path, self.client.account):
            pairs, _warnings = read_orders(self.client.my_orders())  # warned about at the task's first read
            self.active_orders = [order for _raw, order in pairs]
            self.known_ids |= {order["id"] for order in self.active_orders}
            yield

    def _account_capped(self, budget: BudgetGuard, chosen: list[Candidate], rates: dict[str, float]):
        """account_budget: refuse (before any POST, check mode too) when `chosen` would pass it; else the guard
        fail-over holds each server to, the task's budget and the account cap together."""
        gone = set(self.cancelled) | set(self.would_cancel)
        cap = account_cap(self.params, self.active_orders, gone, rates)
        cap.check(chosen)
        return CappedBudget(budget, cap)

    def _create(self, candidates: Iterable[Candidate], missing: int, budget: BudgetGuard, *,
                partial: bool = False) -> None:
        """Rent `missing` from `candidates` with fail-over; fewer fails the task, unless `partial` (allow_partial)
        and fail-over simply ran out of servers (an unclear create or a hard refusal still fails)."""
        journal = InflightCreates(self.client.state_path, self.client.account)
        creator = ExactlyOnceCreator(self.client, self.known_ids, clore_time=self.clore_time, journal=journal,
                                     reconcile_timeout=float(self.params["reconcile_timeout"]))
        self._creator = creator
        claims = ServerClaims(self.client.state_path, self.client.account)
        tried: dict[int, Candidate] = {}  # what each create was sent with: the currency chosen, and why
        outcome = rent_with_failover(
            creator, candidates, missing, lambda c: self._create_body(c, tried),
            budget, self.params["max_attempts"], self._still_free, claims.claim, claims.release,
        )
        for created in outcome.created:
            (self.adopted if created.adopted else self.created).append(created.order)
            chosen = tried.get(created.order.get("server_id"))
            if chosen is not None:
                self.currency_choices.append({"order_id": created.order["id"], **_currency_choice(chosen)})
        self._take_made()
        self.skipped.extend(outcome.skipped)
        self._fail_if_ended_at_once([created.order for created in outcome.created])
        if len(outcome.created) < missing and (outcome.error is not None or not partial):
            got = len(outcome.created)
            raise CloreError(f"rented {got} of {missing}: {outcome.stopped}")

    def _create_body(self, candidate: Candidate, tried: dict[int, Candidate]) -> dict:
        """The create_order body for `candidate`. The plan never pays in a coin outside `currencies`; a create in one
        the user did not allow must not happen anyway, so it is refused here, before it is sent."""
        allowed = self.params.get("currencies")
        if allowed and candidate.currency not in allowed:
            raise CloreError(f"server {candidate.server_id} would be paid in {candidate.currency}, which currencies "
                             f"({', '.join(allowed)}) does not allow; that create was not sent")
        tried[candidate.server_id] = candidate
        return create_body(self.params, candidate.server_id, candidate.currency, candidate.price)

    def _settle_surplus(self) -> None:
        """After renting, more members than count means another run rented the same fleet at the same time (another
        controller, or one whose state dir was lost): the newest beyond count are released (surplus: release) or
        kept and named (surplus: keep). Every run that sees it picks the same newest ones, so they agree."""
        if self.check_mode or not self._new_orders():
            return
        pairs, _warnings = read_orders(self.client.my_orders())
        gone = set(self.cancelled) | set(self.ended)
        found = [o for o in members(self.mode, self.params, pairs) if o["id"] not in gone]
        count = self.params["count"]
        self.surplus = [o["id"] for o in found[count:]]  # members() is oldest first: ids grow
        if not self.surplus:
            return
        # The other run's orders that stay are this fleet's too: the result names them with the kept ones.
        ours = {o["id"] for o in self.kept + self._new_orders()}
        stay = found if self.params["surplus"] == "keep" else found[:count]
        self.kept += [o for o in stay if o["id"] not in ours]
        ids = _ids(self.surplus)
        if self.params["surplus"] == "keep":
            self.warn(f"{len(found)} active orders match this fleet, count is {count}: another run rented it at the "
                      f"same time; order(s) {ids} beyond count are kept (surplus: keep) and cost money until "
                      "cancelled")
            return
        self._cancel(self.surplus, issue=None)
        self.released = list(self.surplus)
        self.warn(f"{len(found)} active orders matched this fleet, count is {count}: another run rented it at the "
                  f"same time; released the newest, order(s) {ids} (surplus: release)")

    def _take_made(self) -> None:
        """Every order the creator found, in created/adopted, even when what followed the finding failed."""
        if self._creator is None:
            return
        known = {o["id"] for o in self._new_orders()}
        for made in self._creator.made:
            if made.order["id"] not in known:
                (self.adopted if made.adopted else self.created).append(made.order)
                known.add(made.order["id"])

    def _in_flight_note(self, message: str = "") -> str:
        """The end of a failure message about the create whose order is not known yet, if one was sent (and
        `message` does not say so already)."""
        in_flight = self._creator.in_flight if self._creator is not None else None
        if in_flight is None or not in_flight.sent or NEXT_RUN_LOOKS in message:
            return ""
        return (f"; create_order for server {in_flight.server_id} (image {in_flight.image}) was sent and its order "
                f"is not found yet: it may exist and cost money; {NEXT_RUN_LOOKS}")

    def _still_free(self, server_id: int) -> bool:
        # A fresh look (the listing we chose from is stale by now), keeping only that server's row.
        server = read_market(self.client, row=with_id(server_id)).row
        return server is not None and not server.get("rented") and server.get("online") is not False

    # ----- spot: an auction -----
    def _spot(self) -> spot.SpotMarkets:
        if self._spot_markets is None:
            self._spot_markets = spot.SpotMarkets(self.client)
        return self._spot_markets

    def _review_spot(self, orders: list[dict]) -> list[dict]:
        """The orders still in play: a bid that does not run is raised within the cap (spot_rebid), and with
        spot_max_price one that cannot win is cancelled (it holds no server), so that a fleet replaces it."""
        if self.params["type"] != "spot" or not orders:
            return orders
        found = spot.review(self._spot(), orders, self.params, self.client, self.check_mode)
        self.spot_info.update(found.info)
        self.outbid.extend(found.outbid)
        if self.check_mode:
            self.would_reprice.extend(found.rebids)
        else:
            self.repriced.extend(r["id"] for r in found.rebids)
        lost = sorted(o["id"] for o in found.lost)
        if not lost or not spot.bids_up_to_cap(self.params):
            return orders
        self._cancel_or_plan(lost, issue=None)
        for entry in found.outbid:
            entry["cancelled"] = entry["id"] in lost
        return [o for o in orders if o["id"] not in lost]

    def _report_ended_outbid(self, current: list[dict]) -> None:
        """Spot orders of this task that ended and whose server now runs a rival bid go to `outbid`."""
        if self.params["type"] != "spot" or self.mode == "order_id":
            return
        image = self.params.get("image")
        ended = [order for state, order in order_states(self.client.my_orders(return_completed=True)).values()
                 if state == ENDED and same_image(order.get("image"), image)
                 and (self.mode != "server_id" or order["server_id"] == self.params["server_id"])]
        known = {entry["id"] for entry in self.outbid}
        found = spot.ended_outbid(self._spot(), ended, self.params, {o["server_id"] for o in current},
                                  self.params["spot_candidates"])
        self.outbid.extend(entry for entry in found if entry["id"] not in known)

    def _spot_rivals(self, servers: list[dict]) -> RivalSource:
        """Servers others rent on spot (`held`) that spot_max_price can win, read only as the fleet needs them."""
        if not spot.bids_up_to_cap(self.params):
            return NoRivals()
        self._rivals = spot.RivalCandidates(self._spot(), servers, self.params, self.params["spot_candidates"])
        return self._rivals

    def _note_shortfall(self, missing: int, rented: int, passed_over: list[str]) -> None:
        """`shortfall`: what the fleet lacks after renting `rented` of `missing`; the reasons are what the filters
        excluded, the rivals the cap cannot win, and `passed_over` (fail-over's reasons, or the budget's)."""
        rivals = list(self._rivals.reasons) if self._rivals is not None else []
        self.shortfall = shortfall(missing, rented, self.excluded, rivals + passed_over)

    def _skipped_servers(self) -> list[dict]:
        """Every server passed over: by the filters' second look and fail-over, then the rivals the cap cannot win."""
        return self.skipped + (self._rivals.skipped if self._rivals is not None else [])

    def _outbid_server(self, server: dict, rates: dict[str, float]) -> None:
        """server_id on a server another renter holds on spot: bid the least that wins it, within the cap."""
        candidate = spot.server_candidate(self._spot(), server, self.params)
        budget = BudgetGuard(self.params.get("budget"), [], rates)
        budget.choose([candidate], 1)
        if self.check_mode:
            self.would_create = [candidate.summary(self.params["type"])]
            return
        self._create([candidate], 1, budget)

    # ----- how to reach the orders -----
    def _with_ssh_settings(self, orders: list[dict]) -> list[dict]:
        """Each order with known_hosts_file and ssh_common_args, the same the clore.ai.clore inventory gives it."""
        policy = self.params["host_key_checking"]
        directory = None
        if policy == "per_order":
            directory = known_hosts_dir(self.params.get("known_hosts_dir"), str(self.client.state_path))
            try:
                if not self.check_mode:
                    ensure_known_hosts_dir(directory)
            except OSError as err:  # the orders exist: say so, never fail over it
                self.warn(f"known_hosts_dir {directory!r} cannot be created ({err.strerror}), so ssh cannot record "
                          "the orders' host keys: set known_hosts_dir / CLORE_KNOWN_HOSTS_DIR to a writable path")
        return [order | ssh_settings(order, directory, policy) for order in orders]

    # ----- after renting -----
    def _new_orders(self) -> list[dict]:
        return self.created + self.adopted

    def _wait(self) -> None:
        orders = self.kept + self._new_orders()
        lost = [e for e in self.outbid if not e["ended"] and e["id"] in {o["id"] for o in orders}]
        if lost:  # a bid that does not run would never get ready: say so now, not at wait_timeout
            self._fail(spot.lost_text(lost, self.params))
        orders = [o for o in orders if o["id"] not in set(self.cancelled)]
        if not orders:
            return
        need_ssh = "22" in ports_for_order(self.params.get("ports"))
        try:
            reads = SharedOrderReads(self.client.state_path, self.client.account,
                                     self.client.my_orders, SHARED_READ_MAX_AGE)
            # Start from what was just read (the create's confirmation, or the task's first read for kept orders):
            # when every endpoint is known, the banners are probed without reading my_orders again.
            ready = wait_ready(self.client, [o["id"] for o in orders], self.deadline, need_ssh=need_ssh,
                               read_orders=reads, known={o["id"]: o for o in orders})
        except OrderEnded as err:
            self.ended.extend(i for i in err.ended_ids if i not in self.ended)
            self.bad_servers.remember(err, orders, {o["id"] for o in self._new_orders()})
            self._fail(self._ended_text(err.reasons, err.ended_ids, orders))
        except CloreError as err:  # WaitTimeout, or the API failing while we poll
            self.bad_servers.remember(err, orders, {o["id"] for o in self._new_orders()})
            self._fail(str(err))
        refreshed = dict(ready)
        self.kept = [refreshed.get(o["id"], o) for o in self.kept]
        self.created = [refreshed.get(o["id"], o) for o in self.created]
        self.adopted = [refreshed.get(o["id"], o) for o in self.adopted]

    def _ended_text(self, reasons: dict[int, str], ended_ids: list[int], orders: list[dict],
                    when: str = spot.WHILE_WAITING) -> str:
        """What ended and why, with `outbid` as the reason of each spot order listed as ended (`ended_ids`) whose
        server now runs a rival bid."""
        reasons = dict(reasons)
        if self.params["type"] == "spot":
            by_id = {o["id"]: o for o in orders}
            for order_id in ended_ids:
                order = by_id.get(order_id)
                if order is None or not order.get("spot"):
                    continue
                entry = spot.outbid_now(self._spot(), order, self.params)
                if entry is not None:
                    reasons[order_id] = entry.pop("reason")
                    self.outbid.append(entry)
        return spot.ended_text(reasons, when)

    def _fail_if_ended_at_once(self, orders: list[dict]) -> None:
        """Orders that ended before my_orders ever listed them as active (a spot bid a rival outbid within a
        second): fail now, as the wait would, saying why; they no longer cost money."""
        ended = [o for o in orders if o.get("expired")]
        if not ended:
            return
        self.ended.extend(o["id"] for o in ended if o["id"] not in self.ended)
        self._fail(self._ended_text({o["id"]: end_reason(o) for o in ended}, [o["id"] for o in ended], ended,
                                    spot.AT_ONCE))

    def _fail(self, message: str) -> None:
        """Raise OrderTaskFailed with everything done so far; cancel this run's orders if asked to.

        What the message says about money is checked: my_orders (ended orders included) tells which orders of this
        run still exist and cost money, which ended, and which could not be found.
        """
        new_ids = [o["id"] for o in self._new_orders()]
        if new_ids and not self.check_mode:
            message += self._money_note(new_ids)
        result = self._result()
        del result["msg"]  # fail_json takes the message itself
        raise OrderTaskFailed(message, result)

    def _money_note(self, new_ids: list[int]) -> str:
        """The end of a failure message: which of this run's orders still cost money (cancelled, if asked to)."""
        try:
            states = order_states(self.client.my_orders(return_completed=True))
            unknown_why = "are not listed in my_orders, not even among ended orders"
        except CloreError as err:
            states = {}
            unknown_why = f"could not be checked, my_orders failed ({err})"
        ended = [i for i in new_ids if states.get(i, ("",))[0] == ENDED]
        existing = [i for i in new_ids if states.get(i, ("",))[0] == ACTIVE]
        unknown = [i for i in new_ids if i not in states]
        self.ended.extend(i for i in ended if i not in self.ended)
        note = ""
        if ended:
            note += (f"; order(s) {_ids(ended)} were rented by this run and have ended (listed as expired in "
                     "my_orders): they no longer cost money")
        at_risk = existing + unknown
        if at_risk and self.params["cancel_on_failure"]:
            try:
                self._cancel(at_risk, self.bad_servers.issue(at_risk))
                return note + (f"; cancelled the order(s) this run created ({_ids(at_risk)}) as cancel_on_failure "
                               "asks")
            except CloreError as err:
                return note + (f"; cancel_on_failure could not cancel every order this run created ({err}): check "
                               f"order(s) {_ids(at_risk)}, they may still exist and cost money")
        if existing:
            note += (f"; order(s) {_ids(existing)} were rented by this run and still exist: they cost money until "
                     "cancelled (state: absent, or cancel_on_failure: true)")
        if unknown:
            note += (f"; order(s) {_ids(unknown)} were rented by this run and {unknown_why}: they may still exist "
                     "and cost money, check them")
        return note

    def _after(self) -> list[dict]:
        gone = set(self.cancelled) | set(self.would_cancel) | set(self.ended)
        orders = [o for o in self.kept if o["id"] not in gone] + [o for o in self._new_orders() if o["id"] not in gone]
        return orders

    def _result(self) -> dict:
        after = self._after()
        changed = bool(self.created or self.adopted or self.cancelled or self.repriced or self.would_create
                       or self.would_cancel or self.would_reprice)
        result: dict[str, Any] = {
            "changed": changed,
            "orders": [o | self.spot_info.get(o["id"], {}) for o in self._with_ssh_settings(after)],
            "created": [o["id"] for o in self.created],
            "adopted": [o["id"] for o in self.adopted],
            "kept": [o["id"] for o in self.kept if o["id"] not in set(self.cancelled) | set(self.ended)],
            "cancelled": list(self.cancelled),
            "repriced": list(self.repriced),
            # Not `skipped`: Ansible reads that key as "the task was skipped" (no change counted, no handler).
            "skipped_servers": self._skipped_servers(),
            "ended": list(self.ended),
            "excluded": dict(self.excluded),
            "bad_servers_skipped": self.bad_servers.skipped,
            "outbid": list(self.outbid),
            "shortfall": self.shortfall,
            "surplus": list(self.surplus),
            "released": list(self.released),
            "currency_choices": list(self.currency_choices),
        }
        if self.check_mode:
            result.update(would_create=self.would_create, would_cancel=self.would_cancel,
                          would_reprice=self.would_reprice)
        if self.want_diff:
            result["diff"] = fleet_diff(self.before, after, self.would_create, self.would_reprice,
                                        self.params.get("image"))
        result["msg"] = _summary(result, self.check_mode)
        return result


def _currency_choice(candidate: Candidate) -> dict:
    """The currency report of one server rented (or to be rented): what it is paid in, its dollar price, and why."""
    return {"server_id": candidate.server_id, "currency": candidate.currency, "price_per_day": candidate.price,
            "usd_per_day": candidate.usd_per_day, "usd_source": candidate.usd_source,
            "reason": candidate.currency_reason}


def _as_id(value: Any) -> int | None:
    """A server id from an int or a numeric string (my_servers lists ids; odd entries are ignored)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def _own_server_ids(market: MarketRead) -> set[int]:
    """The ids of the servers this key hosts, from the marketplace answer's `my_servers`."""
    return {i for i in map(_as_id, market.my_servers) if i is not None}


def _filter_names(params: dict) -> list[str]:
    return [name for name in MARKET_FILTER_SPEC if params.get(name) not in (None, [], {})]


def _failure_text(err: Exception, sent: bool) -> str:
    """What failed, for a failure the task did not foresee (never a traceback); `sent`: a create had been sent."""
    if isinstance(err, CloreError):
        return str(err)
    if isinstance(err, OSError):  # the state dir: a full disk, a file that cannot be written
        where = f" ({err.filename})" if err.filename else ""
        if not sent:
            return (f"a file of the controller's state could not be used: {err.strerror or err}{where}; no "
                    "create_order was sent, nothing was rented by this run")
        return (f"a file of the controller's state could not be used after create_order was sent: "
                f"{err.strerror or err}{where}")
    return f"an unexpected error after create_order was sent ({type(err).__name__}: {err})"


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _excluded_text(excluded: dict[str, int]) -> str:
    shown = [f"{name}: {n}" for name, n in excluded.items() if n]
    return ", ".join(shown) if shown else "none (the market has too few servers)"


def _filter_text(failed: str, server: dict, params: dict) -> str:
    """What the server offers against the filter it fails (max_price or currency), for the refusal message."""
    if failed == "currency":
        return f"it does not accept {params['currency']}"
    if failed == "currencies":
        return f"it accepts none of {', '.join(params['currencies'])}"
    cap = price_cap(params, {})
    cap_type = params["max_price"].get("type") or "on-demand"
    price = price_per_day(server, cap_type, cap.currency)
    if price is None:
        return f"it has no {cap_type} price in {cap.currency} to check against {cap.text}"
    # In USD the filter reads the cheapest of the currencies the order may pay in; in a coin, its price in that coin.
    if cap.currency != USD:
        return f"its {cap_type} price {price:.4f} {cap.currency}/day is above {cap.text}"
    coin = server.get("spot_cheapest_currency" if cap_type == "spot" else "cheapest_currency")
    return (f"its {cap_type} price {price:.4f} USD/day in {coin} is above {cap.text} ({coin} is the cheapest currency "
            "it may be paid in)")


def _summary(result: dict, check_mode: bool) -> str:
    if check_mode:
        parts = []
        if result["would_create"]:
            rent = ", ".join(f"server {c['server_id']} at {c['price_per_day']} {c['currency']}/day"
                             + (f" ({c['currency_reason']})" if c.get("currency_reason") else "")
                             for c in result["would_create"])
            parts.append(f"would rent {rent}")
        if result["would_cancel"]:
            parts.append(f"would cancel order(s) {_ids(result['would_cancel'])}")
        if result["would_reprice"]:
            parts.append("would change the bid of order(s) " + _ids([r["id"] for r in result["would_reprice"]]))
        if result["shortfall"]["count"]:
            parts.append(f"the fleet would be {result['shortfall']['count']} short (allow_partial)")
        return "; ".join(parts) or "nothing to change"
    parts = []
    for key, verb in (("created", "rented"), ("adopted", "adopted after an unclear create"),
                      ("cancelled", "cancelled"), ("repriced", "changed the bid of"),
                      ("released", "released as surplus")):
        if result[key]:
            parts.append(f"{verb} order(s) {_ids(result[key])}")
    if result["kept"]:
        parts.append(f"kept order(s) {_ids(result['kept'])}")
    if result["outbid"]:
        parts.append("outbid order(s) " + _ids([e["id"] for e in result["outbid"]]))
    short = result["shortfall"]
    if short["count"]:
        why = ", ".join(f"{reason}: {n}" for reason, n in short["reasons"].items()) or "none given"
        parts.append(f"the fleet is {short['count']} short (allow_partial; reasons: {why})")
    if result["skipped_servers"] and parts:
        passed = ", ".join(f"{s['server_id']} ({s['reason']})" for s in result["skipped_servers"])
        parts.append(f"passed over server(s) {passed}")
    return "; ".join(parts) or "nothing to change"
