"""One clore_order task, told as a story: read my orders, decide, act (only outside check mode), then wait.

The façade of the private package `_order/`: clore_order reaches the machinery only through this file. The task
reads one OrderRequest (built and checked once, before any API call) and tells what it did in one OrderOutcome.
Reads and decisions are identical in check mode; only the POSTs (create, cancel, set_spot_price) are skipped, so
check mode reports exactly what a real run would do. Any failure after money was committed names the orders that
exist and cost money (or cancels those this run created, with cancel_on_failure), whatever raised it: an API error, a
state file that could not be written (a full disk), or a bug.
"""
from __future__ import annotations

import time
from contextlib import nullcontext

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.cancel import check_order_known
from ansible_collections.clore.ai.plugins.module_utils._order.context import TaskContext
from ansible_collections.clore.ai.plugins.module_utils._order.create import newest_ct
from ansible_collections.clore.ai.plugins.module_utils._order.existing import reconcile_existing
from ansible_collections.clore.ai.plugins.module_utils._order.failure import OrderTaskFailed, failure_text
from ansible_collections.clore.ai.plugins.module_utils._order.identity import members, read_orders
from ansible_collections.clore.ai.plugins.module_utils._order.inflight import InflightCreates, reconcile_inflight
from ansible_collections.clore.ai.plugins.module_utils._order.lifetime import record_lifetime
from ansible_collections.clore.ai.plugins.module_utils._order.lock import order_lock
from ansible_collections.clore.ai.plugins.module_utils._order.outcome import OrderOutcome
from ansible_collections.clore.ai.plugins.module_utils._order.plan import plan_fleet
from ansible_collections.clore.ai.plugins.module_utils._order.ready import wait_for_orders
from ansible_collections.clore.ai.plugins.module_utils._order.rent_fleet import rates_if_needed, rent_fleet
from ansible_collections.clore.ai.plugins.module_utils._order.rent_server import rent_server
from ansible_collections.clore.ai.plugins.module_utils._order.renting import create_sent, in_flight_note
from ansible_collections.clore.ai.plugins.module_utils._order.request import FLEET, OrderRequest
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_RULES, ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.spot_review import report_ended_outbid, review_spot
from ansible_collections.clore.ai.plugins.module_utils._order.surplus import settle_surplus

__all__ = ["ORDER_ARGUMENT_RULES", "ORDER_ARGUMENT_SPEC", "OrderOutcome", "OrderRequest", "OrderTask",
           "OrderTaskFailed", "order_request", "run_order"]


def run_order(module, client) -> dict:
    """clore_order's run(module, client) for common.run_module: the request is checked before any API call."""
    request = order_request(module.params)
    return OrderTask(client, request, check_mode=module.check_mode, diff=module._diff, warn=module.warn).run()


class OrderTask:
    """Read my orders, decide what to keep, cancel and rent, act, then wait; the result is the outcome's."""

    def __init__(self, client, request: OrderRequest, *, check_mode: bool, diff: bool, warn, clock=time.monotonic):
        self.ctx = TaskContext(client, request, check_mode, warn, want_diff=diff)
        self.deadline = clock() + request.wait_timeout

    @property
    def request(self) -> OrderRequest:
        return self.ctx.request

    @property
    def outcome(self) -> OrderOutcome:
        return self.ctx.outcome

    def run(self) -> dict:
        """The task's result; after a create was sent, any failure still names what exists and may cost money."""
        try:
            return self._run()
        except OrderTaskFailed:
            raise
        except Exception as err:  # noqa: BLE001 -- whatever it is, an order may exist: say which, never a bare text
            self.ctx.take_made()
            sent = create_sent(self.ctx)
            if not sent and not isinstance(err, OSError):
                raise  # a bug before any create: its traceback helps, and nothing costs money
            self.ctx.fail(failure_text(err, sent) + in_flight_note(self.ctx))

    def _run(self) -> dict:
        ctx, request = self.ctx, self.request
        client = ctx.client
        lock = nullcontext() if ctx.check_mode else order_lock(client.state_path, client.account, request.image)
        with lock:
            # Creates an earlier run sent but never saw through: their orders first, before anything is decided.
            reconciled = self._reconcile_inflight()
            current = self._read(reconciled)
            try:
                if request.present:
                    self._present(current)
                else:
                    self._absent(current)
            except OrderTaskFailed:
                raise
            except CloreError as err:
                self._drop_adopted_from_kept(reconciled)  # adopted, not kept: also on failure
                ctx.take_made()
                ctx.fail(str(err) + in_flight_note(ctx, str(err)))
            self._drop_adopted_from_kept(reconciled)
        record_lifetime(ctx.client, request, self.outcome.kept + self.outcome.new_orders(), ctx.check_mode)
        if request.present and request.wait and not ctx.check_mode:
            wait_for_orders(ctx, self.deadline)
        return ctx.result()

    # ----- read -----
    def _reconcile_inflight(self) -> dict[int, dict]:
        """{order id: order} of the creates earlier runs left in flight for this key and image, now found."""
        ctx, image = self.ctx, self.request.image
        journal = InflightCreates(ctx.client.state_path, ctx.client.account)
        if ctx.check_mode:
            for record in journal.pending(image):
                ctx.warn(f"an earlier run sent create_order for server {record.server_id} and stopped before "
                         "finding the order: a real run first looks for it (and adopts it) before renting anything")
            return {}
        found = reconcile_inflight(ctx.client, journal, image, float(self.request.reconcile_timeout))
        for warning in found.warnings:
            ctx.warn(warning)
        for order in found.adopted:
            ctx.warn(f"adopted order {order['id']} on server {order['server_id']}: an earlier run sent its "
                     "create_order and stopped before finding it")
        return {order["id"]: order for order in found.adopted}

    def _read(self, reconciled: dict[int, dict]) -> list[dict]:
        """The task's active orders (oldest first), from one my_orders read; what it knows of the account too."""
        ctx, outcome = self.ctx, self.outcome
        pairs, warnings = read_orders(ctx.client.my_orders())
        for warning in warnings:
            ctx.warn(warning)
        ctx.known_ids = {order["id"] for _raw, order in pairs}
        ctx.active_orders = [order for _raw, order in pairs]
        ctx.clore_time = newest_ct(ctx.active_orders)
        current = members(self.request, pairs)
        outcome.adopted = [o for o in current if o["id"] in reconciled]
        outcome.before = [o for o in current if o["id"] not in reconciled]
        for order_id in sorted(set(reconciled) - {o["id"] for o in outcome.adopted}):
            ctx.warn(f"order {order_id} on server {reconciled[order_id]['server_id']} was rented by an earlier run "
                     "that stopped before finding it; it is not one of this task's orders and costs money until "
                     "cancelled")
        return current

    def _drop_adopted_from_kept(self, reconciled: dict[int, dict]) -> None:
        self.outcome.kept = [o for o in self.outcome.kept if o["id"] not in reconciled]

    # ----- decide and act -----
    def _absent(self, current: list[dict]) -> None:
        ctx, request = self.ctx, self.request
        if request.mode == "order_id" and not current:
            check_order_known(ctx.client, request.order_id, missing_ok=request.missing_ok, issue=request.issue,
                              warn=ctx.warn)
        ids = [order["id"] for order in current]
        if ctx.check_mode:
            self.outcome.would_cancel = ids
            return
        ctx.cancel(ids, request.issue or ctx.bad_servers.issue_for(current))

    def _present(self, current: list[dict]) -> None:
        ctx, request, outcome = self.ctx, self.request, self.outcome
        if request.mode == "order_id" and not current:
            raise CloreError(f"order {request.order_id} is not among your active orders; an order cannot be created "
                             "by id: use server_id or count (a fleet) to rent")
        keep, recreate = reconcile_existing(ctx, current)
        ctx.cancel_or_plan([o["id"] for o in recreate], issue=None)
        keep = review_spot(ctx, keep)
        try:
            self._rent(keep, recreate)
        except CloreError:
            self._report_ended_outbid_anyway(current)  # a run that rents nothing still tells who outbid what ended
            raise
        # After the creates: these reads only tell who outbid an order that ended, and each read before a create
        # would hold that create back by the key's create spacing. Before the new orders' review, which reads their
        # markets afresh: a server won back is told from the market read before its create.
        report_ended_outbid(ctx, current)
        review_spot(ctx, outcome.new_orders())

    def _rent(self, keep: list[dict], recreate: list[dict]) -> None:
        ctx, request, outcome = self.ctx, self.request, self.outcome
        if request.mode == FLEET:
            fleet = request.fleet
            plan = plan_fleet(keep, fleet.count, fleet.exact, rates_if_needed(ctx, keep))
            ctx.cancel_or_plan([o["id"] for o in plan.cancel], issue=None)
            outcome.kept = plan.keep
            rent_fleet(ctx, plan)
            settle_surplus(ctx)
        else:
            outcome.kept = keep
            if not keep:
                rent_server(ctx, request.server_id if request.mode == "server_id" else recreate[0]["server_id"])

    def _report_ended_outbid_anyway(self, current: list[dict]) -> None:
        """The report on a failed run: the run's own error is the one raised."""
        try:
            report_ended_outbid(self.ctx, current)
        except CloreError as err:
            self.ctx.warn(f"who outbid this task's ended spot orders could not be read: {err}")
