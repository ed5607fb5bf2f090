"""What every step of one clore_order task shares: the client, the request, check mode, the outcome so far, and the
one way a step fails (naming what exists and costs money)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils._order import spot
from ansible_collections.clore.ai.plugins.module_utils._order.bad_server_rules import BadServerMemory
from ansible_collections.clore.ai.plugins.module_utils._order.cancel import CancelFailed, cancel_orders
from ansible_collections.clore.ai.plugins.module_utils._order.create import ExactlyOnceCreator
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.failure import OrderTaskFailed
from ansible_collections.clore.ai.plugins.module_utils._order.outcome import OrderOutcome
from ansible_collections.clore.ai.plugins.module_utils._order.request import OrderRequest
from ansible_collections.clore.ai.plugins.module_utils._order.ssh_access import with_ssh_settings
from ansible_collections.clore.ai.plugins.module_utils._order.summary import ids_text
from ansible_collections.clore.ai.plugins.module_utils._order.wait import ACTIVE, ENDED, order_states


@dataclass
class TaskContext:
    client: Any
    request: OrderRequest
    check_mode: bool
    warn: Callable[[str], None]
    want_diff: bool = False
    outcome: OrderOutcome = field(default_factory=OrderOutcome)
    bad_servers: BadServerMemory | None = None
    creator: ExactlyOnceCreator | None = None  # set at the first create: what it found, what is in flight
    known_ids: set[int] = field(default_factory=set)  # every order id seen: a create's new order is none of them
    clore_time: float | None = None  # the newest `ct` seen: Clore's clock is at least that
    active_orders: list[dict] = field(default_factory=list)  # every active order of the key, for account_budget
    _spot_markets: spot.SpotMarkets | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.bad_servers is None:
            self.bad_servers = BadServerMemory(self.client, self.request.bad_server_ttl)

    @property
    def spot_markets(self) -> spot.SpotMarkets:
        """This run's spot_marketplace reads, each server read at most once."""
        if self._spot_markets is None:
            self._spot_markets = spot.SpotMarkets(self.client)
        return self._spot_markets

    def cancel(self, ids: list[int], issue: str | None) -> None:
        """Cancel now; what was cancelled is in the outcome even when a later cancel fails."""
        try:
            self.outcome.cancelled.extend(cancel_orders(self.client, ids, issue))
        except CancelFailed as err:
            self.outcome.cancelled.extend(err.cancelled)
            raise

    def cancel_or_plan(self, ids: list[int], issue: str | None) -> None:
        """Cancel, or in check mode say it would."""
        if not ids:
            return
        if self.check_mode:
            self.outcome.would_cancel.extend(ids)
        else:
            self.cancel(ids, issue)

    def take_made(self) -> None:
        """Every order the creator found, in created/adopted, even when what followed the finding failed."""
        if self.creator is None:
            return
        known = {o["id"] for o in self.outcome.new_orders()}
        for made in self.creator.made:
            if made.order["id"] not in known:
                self.outcome.add_new(made.order, made.adopted)
                known.add(made.order["id"])

    def result(self) -> dict[str, Any]:
        request = self.request
        orders = with_ssh_settings(self.outcome.after(), request, self.client.state_path, self.check_mode, self.warn)
        return self.outcome.to_result(orders, check_mode=self.check_mode, diff=self.want_diff, image=request.image,
                                      bad_servers_skipped=self.bad_servers.skipped)

    def fail(self, message: str) -> None:
        """Raise OrderTaskFailed with everything done so far; cancel this run's orders if asked to.

        What the message says about money is checked: my_orders (ended orders included) tells which orders of this
        run still exist and cost money, which ended, and which could not be found.
        """
        new_ids = [o["id"] for o in self.outcome.new_orders()]
        if new_ids and not self.check_mode:
            message += self._money_note(new_ids)
        result = self.result()
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
        self.outcome.add_ended(ended)
        note = ""
        if ended:
            note += (f"; order(s) {ids_text(ended)} were rented by this run and have ended (listed as expired in "
                     "my_orders): they no longer cost money")
        at_risk = existing + unknown
        if at_risk and self.request.cancel_on_failure:
            try:
                self.cancel(at_risk, self.bad_servers.issue(at_risk))
                return note + (f"; cancelled the order(s) this run created ({ids_text(at_risk)}) as "
                               "cancel_on_failure asks")
            except CloreError as err:
                return note + (f"; cancel_on_failure could not cancel every order this run created ({err}): check "
                               f"order(s) {ids_text(at_risk)}, they may still exist and cost money")
        if existing:
            note += (f"; order(s) {ids_text(existing)} were rented by this run and still exist: they cost money "
                     "until cancelled (state: absent, or cancel_on_failure: true)")
        if unknown:
            note += (f"; order(s) {ids_text(unknown)} were rented by this run and {unknown_why}: they may still "
                     "exist and cost money, check them")
        return note
