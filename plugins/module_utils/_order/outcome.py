"""What one clore_order task did (or, in check mode, would do), and the module's result built from it.

The task appends to these lists as it goes; a failure builds its result from them too, so that the orders a failed
run rented, adopted or cancelled are always named.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.flat_order import fleet_diff
from ansible_collections.clore.ai.plugins.module_utils._order.plan import Candidate, shortfall
from ansible_collections.clore.ai.plugins.module_utils._order.summary import summary


@dataclass
class OrderOutcome:
    created: list[dict] = field(default_factory=list)
    adopted: list[dict] = field(default_factory=list)  # found after a create an earlier (or this) run left unclear
    kept: list[dict] = field(default_factory=list)
    before: list[dict] = field(default_factory=list)  # the task's orders as first read (for --diff)
    cancelled: list[int] = field(default_factory=list)
    repriced: list[int] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # returned as skipped_servers
    ended: list[int] = field(default_factory=list)  # identified orders that ended while the task waited for them
    would_create: list[dict] = field(default_factory=list)
    would_cancel: list[int] = field(default_factory=list)
    would_reprice: list[dict] = field(default_factory=list)
    currency_choices: list[dict] = field(default_factory=list)  # per order created: the currency paid in and why
    excluded: dict[str, int] = field(default_factory=dict)
    outbid: list[dict] = field(default_factory=list)  # spot orders outbid: ended, or standing without running
    spot_info: dict[int, dict] = field(default_factory=dict)  # per spot order: our bid, whether it runs, top rival
    shortfall: dict = field(default_factory=lambda: shortfall(0, 0, {}, []))  # how far a fleet is short, and why
    surplus: list[int] = field(default_factory=list)  # a fleet's members beyond count after renting (a race)
    released: list[int] = field(default_factory=list)  # those of them cancelled (surplus: release)
    rivals: Any = None  # spot.RivalCandidates: the servers others hold that the fleet read, and those passed over

    def new_orders(self) -> list[dict]:
        """The orders this run brought: rented, or adopted after an unclear create."""
        return self.created + self.adopted

    def add_new(self, order: dict, adopted: bool) -> None:
        (self.adopted if adopted else self.created).append(order)

    def add_ended(self, ids: list[int]) -> None:
        self.ended.extend(i for i in ids if i not in self.ended)

    def choose_currency(self, order_id: int, candidate: Candidate) -> None:
        """Report the currency one order is paid in, its dollar price, and why."""
        self.currency_choices.append({
            "order_id": order_id, "server_id": candidate.server_id, "currency": candidate.currency,
            "price_per_day": candidate.price, "usd_per_day": candidate.usd_per_day,
            "usd_source": candidate.usd_source, "reason": candidate.currency_reason})

    def gone(self) -> set[int]:
        """Orders no longer there (cancelled or ended), or planned to go in check mode."""
        return set(self.cancelled) | set(self.would_cancel) | set(self.ended)

    def after(self) -> list[dict]:
        """The task's orders once it is done: kept, then new, less those gone."""
        gone = self.gone()
        return [o for o in self.kept + self.new_orders() if o["id"] not in gone]

    def refresh(self, fresh: dict[int, dict]) -> None:
        """The orders with what the wait read last (their endpoints, their state)."""
        self.kept = [fresh.get(o["id"], o) for o in self.kept]
        self.created = [fresh.get(o["id"], o) for o in self.created]
        self.adopted = [fresh.get(o["id"], o) for o in self.adopted]

    def note_shortfall(self, missing: int, rented: int, passed_over: list[str]) -> None:
        """How far the fleet falls short after renting `rented` of `missing`; the reasons are what the filters
        excluded, the rivals the cap cannot win, and `passed_over` (fail-over's reasons, or the budget's)."""
        rivals = list(self.rivals.reasons) if self.rivals is not None else []
        self.shortfall = shortfall(missing, rented, self.excluded, rivals + passed_over)

    def skipped_servers(self) -> list[dict]:
        """Every server passed over: by the filters' second look and fail-over, then the rivals the cap cannot win."""
        return self.skipped + (self.rivals.skipped if self.rivals is not None else [])

    @property
    def changed(self) -> bool:
        return bool(self.created or self.adopted or self.cancelled or self.repriced or self.would_create
                    or self.would_cancel or self.would_reprice)

    def to_result(self, orders: list[dict], *, check_mode: bool, diff: bool, image: str | None,
                  bad_servers_skipped: int) -> dict[str, Any]:
        """The module's result; `orders` is after() with how to reach each one (known_hosts, ssh args)."""
        gone = set(self.cancelled) | set(self.ended)
        result: dict[str, Any] = {
            "changed": self.changed,
            "orders": [o | self.spot_info.get(o["id"], {}) for o in orders],
            "created": [o["id"] for o in self.created],
            "adopted": [o["id"] for o in self.adopted],
            "kept": [o["id"] for o in self.kept if o["id"] not in gone],
            "cancelled": list(self.cancelled),
            "repriced": list(self.repriced),
            # Not `skipped`: Ansible reads that key as "the task was skipped" (no change counted, no handler).
            "skipped_servers": self.skipped_servers(),
            "ended": list(self.ended),
            "excluded": dict(self.excluded),
            "bad_servers_skipped": bad_servers_skipped,
            "outbid": list(self.outbid),
            "shortfall": self.shortfall,
            "surplus": list(self.surplus),
            "released": list(self.released),
            "currency_choices": list(self.currency_choices),
        }
        if check_mode:
            result.update(would_create=self.would_create, would_cancel=self.would_cancel,
                          would_reprice=self.would_reprice)
        if diff:
            result["diff"] = fleet_diff(self.before, self.after(), self.would_create, self.would_reprice, image)
        result["msg"] = summary(result, check_mode)
        return result
