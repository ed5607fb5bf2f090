"""A small in-memory Clore account for unit tests of clore_order's logic: it records every call and can misbehave.

It follows clore-api.md: create_order answers without an id, orders carry `si`, `ct`, `image`, `price`, `spot`;
faults are queued per endpoint ("drop_after_commit" raises an ambiguous error after the order exists, "drop" raises
one before anything happened, "ends_at_once" accepts the create and ends the order before it is ever listed, as a
rival's higher bid does to a spot order; a code-6 reason refuses).
"""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError

RTX = "NVIDIA GeForce RTX 4090"


def server(server_id: int, price: float, *, gpu: str = RTX, count: int = 1, rented: bool = False,
           online: bool = True, coins=("USD-Blockchain", "CLORE-Blockchain"), spot_min: float | None = None,
           clore_rate: float = 0.05) -> dict:
    """A raw marketplace row; `price` is per day in USD-Blockchain, CLORE priced at 1/clore_rate as much."""
    on_demand = {"USD-Blockchain": price, "CLORE-Blockchain": round(price / clore_rate, 6)}
    spot = {"USD-Blockchain": spot_min if spot_min is not None else round(price / 2, 6),
            "CLORE-Blockchain": round((spot_min if spot_min is not None else price / 2) / clore_rate, 6)}
    return {
        "id": server_id, "owner": 1, "rented": rented, "online": online, "allowed_coins": list(coins),
        "reliability": 0.99, "mrl": 240, "cuda_version": "12.4",
        "price": {"on_demand": on_demand, "spot": spot,
                  "usd": {"on_demand_usd": price, "on_demand_clore": price, "spot": spot["USD-Blockchain"]}},
        "specs": {"gpu": f"{count}x {gpu}", "gpuram": 24, "ram": 64.0, "net": {"cc": "DE"}},
    }


class FakeClore:
    def __init__(self, servers: list[dict], now: float = 1_700_000_000.0):
        self.servers = {s["id"]: s for s in servers}
        self.orders: list[dict] = []
        self.calls: list[tuple] = []
        self.faults: dict[str, list] = {}
        self.now = now
        self.next_id = 100
        self.api_url = "http://clore.test/v1"
        # How many my_orders reads a new order stays unlisted (listing lag).
        self.listing_lag_reads = 0
        self._hidden: dict[int, int] = {}
        # Ids of the servers this key hosts itself (the marketplace answer's my_servers).
        self.own_ids: list[int] = []
        # Other renters' spot offers per server id: {offer_id, bid, active, currency}.
        self.rival_offers: dict[int, list[dict]] = {}
        # Whether a spot bid above every rival offer on a server wins it, as on Clore (off: such a create is refused).
        self.bids_win = False

    # --- scripting ---
    def fault(self, endpoint: str, *kinds) -> None:
        self.faults.setdefault(endpoint, []).extend(kinds)

    def _next_fault(self, endpoint: str):
        queue = self.faults.get(endpoint) or []
        return queue.pop(0) if queue else None

    def add_order(self, server_id: int, image: str, *, price: float | None = None, currency: str = "USD-Blockchain",
                  spot: bool = False, ct: float | None = None) -> dict:
        row = self.servers[server_id]
        order = {
            "id": self.next_id, "si": server_id, "image": image, "currency": currency,
            "price": price if price is not None else row["price"]["on_demand"][currency], "spend": 0.0,
            "ct": int(ct if ct is not None else self.now), "mrl": 86400, "spot": spot, "expired": False,
            "specs": row["specs"], "pub_cluster": ["127.0.0.1"], "tcp_ports": ["22:40000"], "online": True,
            "mon_container": 2,
        }
        self.next_id += 1
        row["rented"] = True
        self.orders.append(order)
        if self.listing_lag_reads:
            self._hidden[order["id"]] = self.listing_lag_reads
        return order

    # --- the client's interface ---
    def my_orders(self, return_completed: bool = False) -> list[dict]:
        self.calls.append(("my_orders", "with ended") if return_completed else ("my_orders",))
        listed = []
        for order in self.orders:
            if self._hidden.get(order["id"], 0) > 0:
                self._hidden[order["id"]] -= 1
                continue
            if order["expired"] and not return_completed:
                continue
            listed.append(dict(order))
        return listed

    def marketplace(self) -> dict:
        self.calls.append(("marketplace",))
        return {"servers": [dict(s) for s in self.servers.values()], "my_servers": list(self.own_ids)}

    def marketplace_each(self, restart, add) -> dict:
        """marketplace() row by row, as CloreClient.marketplace_each hands them over."""
        answer = self.marketplace()
        restart()
        for row in answer["servers"]:
            add(row)
        return {"my_servers": answer["my_servers"]}

    def create_order(self, body: dict) -> None:
        self.calls.append(("create_order", body["renting_server"]))
        fault = self._next_fault("create_order")
        if fault == "drop":
            raise CloreApiError("connection dropped", endpoint="create_order", ambiguous=True)
        if isinstance(fault, str) and fault not in ("drop_after_commit", "code1_after_commit", "ends_at_once"):
            raise CloreApiError(f"refused: {fault}", endpoint="create_order", code=6, reason=fault)
        row = self.servers.get(body["renting_server"])
        if row is None:
            raise CloreApiError("no such server", endpoint="create_order", code=2)
        if not row["online"]:
            raise CloreApiError("offline", endpoint="create_order", code=6, reason="server-offline")
        if row["rented"] and not self._outbids(body):
            raise CloreApiError("rented", endpoint="create_order", code=6, reason="server-already-rented")
        price = body.get("spotprice") if body["type"] == "spot" else row["price"]["on_demand"][body["currency"]]
        order = self.add_order(body["renting_server"], body["image"], price=price, currency=body["currency"],
                               spot=body["type"] == "spot")
        if fault == "ends_at_once":
            order["expired"] = True
            row["rented"] = False
        if fault == "drop_after_commit":
            raise CloreApiError("connection dropped", endpoint="create_order", ambiguous=True)
        if fault == "code1_after_commit":
            raise CloreApiError("database error", endpoint="create_order", code=1, ambiguous=True)

    def _outbids(self, body: dict) -> bool:
        """A spot bid above every scripted rival offer on a server that only rivals hold wins it (they stop)."""
        rivals = self.rival_offers.get(body["renting_server"])
        held_by_us = any(o["si"] == body["renting_server"] and not o["expired"] for o in self.orders)
        if not self.bids_win or body["type"] != "spot" or not rivals or held_by_us or body["spotprice"] <= max(o["bid"] for o in rivals):
            return False
        self.rival_offers[body["renting_server"]] = [dict(o, active=False) for o in rivals]
        return True

    def cancel_order(self, order_id: int, issue: str | None = None) -> None:
        self.calls.append(("cancel_order", order_id, issue))
        fault = self._next_fault("cancel_order")
        if fault == "drop":
            raise CloreApiError("connection dropped", endpoint="cancel_order", ambiguous=True)
        for order in self.orders:
            if order["id"] == order_id and not order["expired"]:
                order["expired"] = True
                self.servers[order["si"]]["rented"] = bool(self.rival_offers.get(order["si"]))
                if fault == "drop_after_commit":
                    raise CloreApiError("connection dropped", endpoint="cancel_order", ambiguous=True)
                return
        raise CloreApiError("no such order", endpoint="cancel_order", code=2)

    def set_spot_price(self, order_id: int, desired_price: float) -> None:
        self.calls.append(("set_spot_price", order_id, desired_price))
        fault = self._next_fault("set_spot_price")
        if fault == "exceeded_max_step":
            raise CloreApiError("refused", endpoint="set_spot_price", code=6, reason=fault, extra={"max_step": 0.5})
        if fault == "can_lower_every_600_seconds":
            raise CloreApiError("refused", endpoint="set_spot_price", code=6, reason=fault,
                                extra={"time_to_lowering": 321})
        for order in self.orders:
            if order["id"] == order_id:
                order["price"] = desired_price

    def spot_marketplace(self, server_id: int) -> dict:
        """Our spot orders on the server as offers (the highest active) and any scripted `rival_offers`."""
        self.calls.append(("spot_marketplace", server_id))
        offers = [{"offer_id": o["id"], "bid": o["price"], "active": False, "my": True, "currency": o["currency"]}
                  for o in self.orders if o["si"] == server_id and o["spot"] and not o["expired"]]
        offers += [dict(o, my=False) for o in self.rival_offers.get(server_id, [])]
        offers.sort(key=lambda o: -o["bid"])  # one currency: the highest bid runs, ties to the rival (listed last)
        for index, offer in enumerate(offers):
            offer["active"] = index == 0
        row = self.servers.get(server_id) or {"price": {"spot": {}}}
        return {"offers": offers, "server": {"min_pricing": dict(row["price"]["spot"])}, "exists": True,
                "currency_rates_in_usd": {"USD-Blockchain": 1.0, "CLORE-Blockchain": 0.05}}

    # --- reading the record ---
    def posts(self, endpoint: str | None = None) -> list[tuple]:
        wanted = {"create_order", "cancel_order", "set_spot_price"} if endpoint is None else {endpoint}
        return [call for call in self.calls if call[0] in wanted]

    def active(self) -> list[dict]:
        return [o for o in self.orders if not o["expired"]]


class Clock:
    """wall (time.time-like) and monotonic clocks that move only when something sleeps."""

    def __init__(self, fake: FakeClore | None = None):
        self.mono = 0.0
        self.fake = fake

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.fake.now if self.fake else 1_700_000_000.0 + self.mono

    def sleep(self, seconds: float) -> None:
        self.mono += seconds
        if self.fake:
            self.fake.now += seconds
