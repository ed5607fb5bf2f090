"""clore_order's streamed market read (_order/market_read.py): it keeps what the whole listing gave, and no more."""
from __future__ import annotations

import random
import time

import pytest

from ansible_collections.clore.ai.plugins.module_utils.pricing import MarketRates, market_rates
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError
from ansible_collections.clore.ai.plugins.module_utils.market import MarketFilterError, MarketSelection, select_servers
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request
from ansible_collections.clore.ai.plugins.module_utils._order.market_read import listed_as, read_market, with_id
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask

from order_fakes import FakeClore, server

IMAGE = "cloreai/ubuntu22.04-jupyter"

COINS = ["USD-Blockchain", "CLORE-Blockchain", "bitcoin"]


def market(count: int, seed: int) -> list:
    """Rows as the marketplace lists them: free, rented and offline servers, prices in several coins, odd rows."""
    chance = random.Random(seed)
    rows: list = []
    for _i in range(count):
        coins = chance.sample(COINS, chance.randint(1, 3))
        usd = chance.uniform(0.5, 30)
        on_demand = {"USD-Blockchain": usd, "CLORE-Blockchain": usd * 40, "bitcoin": usd / 60_000}
        rows.append({
            "id": chance.randint(1, count),  # some ids twice
            "rented": chance.random() < 0.3,
            "online": chance.choice([True, True, False, None]),
            "specs": {"gpu": f"{chance.randint(1, 4)}x NVIDIA GeForce RTX {chance.choice(['3090', '4090'])}",
                      "net": {"cc": chance.choice(["DE", "US"])}},
            "allowed_coins": coins,
            "price": {"on_demand": {c: on_demand[c] for c in coins},
                      "spot": {c: on_demand[c] / 2 for c in coins},
                      "usd": {"on_demand_usd": usd, "on_demand_clore": usd * (1 + chance.uniform(-0.1, 0.1)),
                              "on_demand_btc": usd}},
        })
    return rows + [None, {"id": "x"}, {"id": 7, "price": "odd"}]


class StreamingClient:
    """marketplace_each as the client hands rows over; `failed_attempts` attempts hand half the rows then restart."""

    def __init__(self, rows: list, my_servers: list | None = None, failed_attempts: int = 0) -> None:
        self.rows = rows
        self.my_servers = my_servers or []
        self.failed_attempts = failed_attempts
        self.calls = 0

    def marketplace_each(self, restart, add) -> dict:
        self.calls += 1
        for _attempt in range(self.failed_attempts):
            restart()
            for row in self.rows[:len(self.rows) // 2]:
                add(row)
        restart()
        for row in self.rows:
            if row is not None:  # as the client drops them
                add(row)
        return {"my_servers": self.my_servers}


FILTERS = [
    {},
    {"gpu": ["RTX 4090"]},
    {"gpu": ["RTX 4090"], "currency": "USD-Blockchain", "max_price": {"amount": 20}},
    {"server_ids": [3, 5, 8, 13, 21, 34], "gpu_count_max": 2},
]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("sort_by,descending", [("price", False), ("gpu_count", True)])
@pytest.mark.parametrize("failed_attempts", [0, 2])
def test_a_fleet_read_keeps_what_the_whole_listing_gives(filters, sort_by, descending, failed_attempts):
    rows = market(400, seed=len(filters) + failed_attempts)
    listed = [r for r in rows if r is not None]
    client = StreamingClient(rows, ["12", 4, "x"], failed_attempts)
    found = read_market(client, filters=filters, sort_by=sort_by, descending=descending, held=True)

    free, excluded = select_servers(listed, dict(filters, available_only=True), sort_by, descending)
    assert (found.free, found.excluded) == (free, excluded)
    everything = select_servers(listed, dict(filters, available_only=False), sort_by, descending)[0]
    # What spot_max_price may outbid: what the filters pass that others hold, in the same order.
    assert found.held == [s for s in everything if s.get("rented") and s.get("online") is not False]
    assert found.held and all(s["rented"] for s in found.held)
    assert found.rates == market_rates(listed)
    assert found.my_servers == ["12", 4, "x"] and found.row is None and client.calls == 1


def test_without_held_no_rented_server_is_kept():
    found = read_market(StreamingClient(market(200, seed=3)), filters={"gpu": ["RTX 4090"]})
    assert found.held == [] and found.free and not any(s.get("rented") for s in found.free)


def test_a_read_for_the_rates_or_one_row_keeps_no_server_list():
    rows = market(200, seed=4)
    found = read_market(StreamingClient(rows, failed_attempts=1))
    assert (found.free, found.held, found.excluded, found.row) == ([], [], {}, None)
    assert found.rates == market_rates(rows)
    wanted = rows[10]["id"]
    first = next(r for r in rows if isinstance(r, dict) and r["id"] == wanted)
    by_id = read_market(StreamingClient(rows), row=with_id(wanted)).row
    assert by_id["id"] == wanted and by_id["gpu_count"] == int(first["specs"]["gpu"].split("x")[0])
    assert read_market(StreamingClient(rows), row=with_id(10_000)).row is None


@pytest.mark.parametrize("raw_id,listed,normalised", [(12, True, True), ("12", True, True), (12.0, False, True),
                                                      (" 12", False, True), ("12x", False, False), (13, False, False)])
def test_a_server_by_id_is_matched_as_the_user_names_it_or_by_its_normalised_id(raw_id, listed, normalised):
    row = {"id": raw_id}
    assert listed_as(12)(row) is listed and listed_as("12")(row) is listed
    assert with_id(12)(row) is normalised
    assert not listed_as(12)(None) and not with_id(12)(None)


def test_bad_filters_are_refused_before_any_call():
    client = StreamingClient(market(10, seed=1))
    with pytest.raises(MarketFilterError):
        read_market(client, filters={"gpu": ["("]})
    assert client.calls == 0


def test_a_selection_says_what_each_row_was_counted_under():
    selection = MarketSelection({"gpu": ["4090"], "available_only": True})
    assert selection.add({"id": 1, "specs": {"gpu": "1x NVIDIA GeForce RTX 4090"}}) is None
    assert selection.add({"id": 2, "rented": True, "specs": {"gpu": "1x NVIDIA GeForce RTX 4090"}}) == "available_only"
    assert selection.add({"id": 3, "specs": {"gpu": "1x NVIDIA GeForce RTX 3090"}}) == "gpu"
    assert selection.add({"id": "x"}) == "invalid_row"


def test_rates_fed_row_by_row_are_the_rates_of_the_whole_listing():
    rows = market(300, seed=9)
    rates = MarketRates()
    for row in rows:
        rates.add(row)
    assert rates.rates() == market_rates(rows)
    assert MarketRates().rates() == {"USD-Blockchain": 1.0}


# ----- clore_order's task reads the market only streamed -----
class StreamOnlyClore(FakeClore):
    """The in-memory account whose whole-listing read fails: every market read must be streamed."""

    def marketplace(self) -> dict:
        raise AssertionError("clore_order read the whole marketplace")

    def marketplace_each(self, restart, add) -> dict:
        self.calls.append(("marketplace",))
        restart()
        for row in self.servers.values():
            add(dict(row))
        return {"my_servers": list(self.own_ids)}

    def create_order(self, body: dict) -> None:
        if body["renting_server"] == 3 and not self.servers[3]["rented"]:
            # Another renter took it as we asked, and the answer does not say so: fail-over looks at the market.
            self.servers[3]["rented"] = True
            raise CloreApiError("refused", endpoint="create_order", code=6, reason="unexplained")
        super().create_order(body)


@pytest.fixture
def stream_only(tmp_path) -> StreamOnlyClore:
    fake = StreamOnlyClore([server(1, 3.0), server(2, 1.0), server(3, 2.0), server(4, 4.0, gpu="RTX 3090"),
                            server(5, 0.5, rented=True)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def run_task(fake, **overrides) -> dict:
    params = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    params.update({"api_key": "k", "wait": False, "image": IMAGE, **overrides})
    return OrderTask(fake, order_request(params), check_mode=False, diff=False, warn=lambda _msg: None).run()


def test_a_fleet_a_server_by_id_and_a_fail_over_read_the_market_streamed(stream_only):
    stream_only.own_ids = [2]  # the cheapest: never rented
    fleet = run_task(stream_only, count=1, gpu=["RTX 4090"])
    assert [o["server_id"] for o in fleet["orders"]] == [1], fleet
    assert fleet["excluded"]["own_server"] == 1 and fleet["excluded"]["gpu"] == 1
    assert [s["server_id"] for s in fleet["skipped_servers"]] == [2, 3], fleet["skipped_servers"]
    one = run_task(stream_only, server_id=4, image="other/image")
    assert [o["server_id"] for o in one["orders"]] == [4], one
    assert stream_only.calls.count(("marketplace",)) == 3  # the fleet's read, the still-free check, server 4
