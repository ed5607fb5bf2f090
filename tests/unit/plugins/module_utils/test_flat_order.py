"""normalize_order, parse_tcp_ports and first_host: both shapes of every field the API is unsure about."""
from __future__ import annotations

import json
import time

import pytest

from ansible_collections.clore.ai.plugins.module_utils.flat_order import (
    first_host,
    normalize_order,
    parse_tcp_ports,
    rental_length_seconds,
    strip_order,
)

NOW = 1_700_000_000.0


def raw_order(**overrides) -> dict:
    """A running on-demand order as my_orders lists it."""
    order = {
        "id": 4242,
        "si": 17,
        "image": "cloreai/ubuntu22.04-jupyter",
        "currency": "USD-Blockchain",
        "price": 4.8,
        "spend": 0.35,
        "creation_fee": 0.01,
        "ct": int(NOW) - 3600,
        "mrl": 24,
        "spot": False,
        "expired": False,
        "specs": {"gpu": "2x NVIDIA GeForce RTX 4090", "gpuram": 24, "net": {"cc": "DE", "up": 900, "down": 900}},
        "pub_cluster": ["n1.c1.clorecloud.net", "n2.c1.clorecloud.net"],
        "tcp_ports": ["22:10000", "8888:10001"],
        "http_port": "8888",
        "http_pub": "abc.clorecloud.net",
        "online": True,
        "mon_container": 2,
    }
    order.update(overrides)
    return order


class TestParseTcpPorts:
    def test_list_of_strings(self):
        assert parse_tcp_ports(["22:10000", "8888:10001"]) == {22: 10000, 8888: 10001}

    def test_dict_with_int_and_string_values(self):
        assert parse_tcp_ports({"22": 10000, "8888": "10001"}) == {22: 10000, 8888: 10001}

    def test_trailing_protocol_tolerated(self):
        assert parse_tcp_ports(["22:10000/tcp"]) == {22: 10000}

    def test_comma_separated_string(self):
        assert parse_tcp_ports("22:10000, 8888:10001") == {22: 10000, 8888: 10001}

    @pytest.mark.parametrize("empty", [None, "", [], {}])
    def test_not_yet_provisioned_is_empty(self, empty):
        assert parse_tcp_ports(empty) == {}

    @pytest.mark.parametrize("bad", [["22"], ["ssh:10000"], ["22:70000"], [22], {"22": None}, 42, {"22": True}])
    def test_malformed_raises(self, bad):
        with pytest.raises(ValueError):
            parse_tcp_ports(bad)


class TestFirstHost:
    def test_list(self):
        assert first_host(["n1.example", "n2.example"]) == "n1.example"

    def test_string(self):
        assert first_host("n1.example") == "n1.example"

    def test_skips_blank_entries(self):
        assert first_host(["", " n2.example "]) == "n2.example"

    @pytest.mark.parametrize("empty", [None, "", [], [""]])
    def test_empty(self, empty):
        assert first_host(empty) is None

    @pytest.mark.parametrize("bad", [42, {"host": "x"}, [None], ["-oProxyCommand=id"], "-oProxyCommand=id"])
    def test_malformed_raises(self, bad):
        with pytest.raises(ValueError):
            first_host(bad)

    @pytest.mark.parametrize("name", ["n1.c1.clorecloud.net", "203.0.113.7", "2001:db8::1", "::1", "host_1"])
    def test_host_names_and_addresses_pass(self, name):
        assert first_host([name]) == name


class TestNormalizeOrder:
    def test_running_order(self):
        order = normalize_order(raw_order(), now=NOW)
        assert order["id"] == 4242
        assert order["server_id"] == 17
        assert order["image"] == "cloreai/ubuntu22.04-jupyter"
        assert order["currency"] == "USD-Blockchain"
        assert order["price_per_day"] == 4.8
        assert order["price_per_hour"] == pytest.approx(0.2)
        assert order["usd_per_hour"] == pytest.approx(0.2)
        assert order["spend"] == 0.35
        assert order["creation_fee"] == 0.01
        assert order["created_at"] == int(NOW) - 3600
        assert order["age_seconds"] == 3600
        assert order["mrl"] == 24 and order["mrl_seconds"] == 86400  # mrl as sent (hours), and in seconds
        assert order["time_left_seconds"] == 86400 - 3600
        assert order["spot"] is False and order["expired"] is False and order["online"] is True
        assert order["status"] == "running"
        assert order["gpu_model"] == "NVIDIA GeForce RTX 4090"
        assert order["gpu_count"] == 2
        assert order["gpu_ram_gb"] == 24
        assert order["country"] == "DE"
        assert (order["ssh_host"], order["ssh_port"], order["ssh_user"]) == ("n1.c1.clorecloud.net", 10000, "root")
        assert order["ssh_command"] == "ssh -p 10000 root@n1.c1.clorecloud.net"
        assert order["http_url"] == "https://abc.clorecloud.net"
        assert order["ready"] is True
        assert order["tcp_ports"] == {22: 10000, 8888: 10001}

    def test_dict_ports_and_string_cluster(self):
        order = normalize_order(raw_order(pub_cluster="n9.example", tcp_ports={"22": "10022"}), now=NOW)
        assert (order["ssh_host"], order["ssh_port"], order["ready"]) == ("n9.example", 10022, True)

    @pytest.mark.parametrize("mon_container", [0, 1, None])
    def test_deploying(self, mon_container):
        assert normalize_order(raw_order(mon_container=mon_container), now=NOW)["status"] == "deploying"

    @pytest.mark.parametrize(
        "overrides", [{"pub_cluster": []}, {"tcp_ports": []}, {"tcp_ports": ["8888:10001"]}, {"pub_cluster": None}]
    )
    def test_not_ready_without_host_or_ssh_port(self, overrides):
        order = normalize_order(raw_order(**overrides), now=NOW)
        assert order["ready"] is False
        assert order["ssh_command"] is None

    @pytest.mark.parametrize(("mrl", "seconds"), [
        (1440, 1440 * 3600), (480, 480 * 3600), (6, 6 * 3600), (3000, 3000 * 3600),  # hours, as the API sends
        (3001, 3001), (864000, 864000),  # above 3000 h no rental exists: seconds, as older sources send
        (None, None),
    ])
    def test_mrl_is_read_as_hours_and_a_value_above_3000_as_seconds(self, mrl, seconds):
        assert rental_length_seconds(mrl) == seconds

    def test_a_new_order_of_1440_hours_has_almost_all_of_them_left(self):
        # Real orders: the end is exactly mrl hours after ct. Half an hour in, 1439.5 h are left (not "0 h left").
        order = normalize_order(raw_order(ct=int(NOW) - 1800, mrl=1440), now=NOW)
        assert order["mrl_seconds"] == 1440 * 3600
        assert order["time_left_seconds"] == 1440 * 3600 - 1800

    def test_an_mrl_in_seconds_still_gives_the_time_left(self):
        order = normalize_order(raw_order(ct=int(NOW) - 1800, mrl=86400), now=NOW)
        assert order["mrl_seconds"] == 86400 and order["time_left_seconds"] == 86400 - 1800

    def test_time_left_never_negative(self):
        order = normalize_order(raw_order(ct=int(NOW) - 90000, mrl=86400), now=NOW)
        assert order["time_left_seconds"] == 0
        assert order["age_seconds"] == 90000

    def test_missing_optional_fields_are_none(self):
        order = normalize_order({"id": 1, "si": 2}, now=NOW)
        assert order["id"] == 1 and order["server_id"] == 2
        for key in ("image", "price_per_day", "usd_per_hour", "age_seconds", "time_left_seconds", "gpu_model",
                    "country", "ssh_host", "ssh_port", "http_url"):
            assert order[key] is None, key
        assert order["ready"] is False and order["tcp_ports"] == {}

    def test_non_usd_currency_has_no_usd_price(self):
        order = normalize_order(raw_order(currency="CLORE-Blockchain", price=300), now=NOW)
        assert order["price_per_day"] == 300
        assert order["usd_per_day"] is None and order["usd_per_hour"] is None

    def test_string_numbers_and_flags(self):
        order = normalize_order(raw_order(id="7", si="8", price="1.5", ct=str(int(NOW) - 10), spot="true"), now=NOW)
        assert (order["id"], order["server_id"], order["price_per_day"], order["age_seconds"]) == (7, 8, 1.5, 10)
        assert order["spot"] is True

    def test_secrets_never_copied(self):
        secrets = {
            "ssh_password": "Sup3rSecretPw",
            "ssh_key": "ssh-ed25519 AAAAsecretkey",
            "jupyter_token": "tok3nsecret",
            "env": {"HF_TOKEN": "hf_secretvalue"},
            "api_key": "apikeysecret",
        }
        dumped = json.dumps(normalize_order(raw_order(**secrets), now=NOW))
        for value in ("Sup3rSecretPw", "AAAAsecretkey", "tok3nsecret", "hf_secretvalue", "apikeysecret"):
            assert value not in dumped
        for key in secrets:
            assert key not in normalize_order(raw_order(**secrets), now=NOW)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ({"si": 2}, "no id"),
            ({"id": "abc", "si": 2}, "order id 'abc' is not an id"),
            ({"id": 5}, "order 5: no server id"),
            ({"id": 5, "si": 2, "price": "cheap"}, "order 5: price"),
            ({"id": 5, "si": 2, "specs": "2x RTX"}, "order 5: specs"),
            ({"id": 5.5, "si": 2}, "order id 5.5 is not an id"),
            ({"id": -5, "si": 2}, "order id -5 is not an id"),
            ({"id": 5, "si": "2.5"}, "order 5: server id"),
        ],
    )
    def test_malformed_orders_raise_naming_the_order(self, raw, message):
        with pytest.raises(ValueError, match=message):
            normalize_order(raw, now=NOW)

    def test_not_a_mapping(self):
        with pytest.raises(ValueError, match="not a mapping"):
            normalize_order(["id", 1], now=NOW)  # type: ignore[arg-type]


class TestStripOrder:
    def test_keeps_what_normalize_reads_and_drops_the_rest(self):
        raw = raw_order(ssh_password="pw123", env={"A": "b"}, unknown_field=1)
        stripped = strip_order(raw)
        assert "ssh_password" not in stripped and "env" not in stripped and "unknown_field" not in stripped
        assert normalize_order(stripped, now=NOW) == normalize_order(raw, now=NOW)

    def test_non_mapping_unchanged(self):
        assert strip_order(["x"]) == ["x"]


NON_FINITE = [float("inf"), float("-inf"), float("nan"), "inf", "-Infinity", "nan", "1e999", 10**400]


class TestNonFiniteNumbers:
    """1e999 in JSON reads as inf; "inf" and huge integers are no better. One such order is skipped, nothing else."""

    @pytest.mark.parametrize("value", NON_FINITE, ids=repr)
    @pytest.mark.parametrize("field", ["ct", "mrl", "mon_container", "price", "spend", "creation_fee", "si"])
    def test_raises_value_error_naming_order_and_field(self, field, value):
        with pytest.raises(ValueError, match=rf"^order 4242: .*{'server id' if field == 'si' else field}"):
            normalize_order(raw_order(**{field: value}), now=NOW)

    @pytest.mark.parametrize("value", NON_FINITE, ids=repr)
    def test_order_id(self, value):
        with pytest.raises(ValueError, match="^order id .* is not an id"):
            normalize_order(raw_order(id=value), now=NOW)

    @pytest.mark.parametrize("value", NON_FINITE, ids=repr)
    def test_informational_gpu_ram_is_none(self, value):
        order = normalize_order(raw_order(specs={"gpu": "1x RTX 4090", "gpuram": value}), now=NOW)
        assert order["gpu_ram_gb"] is None and order["id"] == 4242

    def test_a_huge_gpu_count_is_no_count(self):
        order = normalize_order(raw_order(specs={"gpu": "9" * 5000 + "x RTX 4090"}), now=NOW)
        assert order["id"] == 4242 and order["gpu_count"] == 1

    def test_huge_values_are_not_quoted_whole(self):
        with pytest.raises(ValueError) as caught:
            normalize_order(raw_order(ct=10**400, image="x"), now=NOW)
        assert len(str(caught.value)) < 120

    def test_finite_times_far_away_still_read(self):
        order = normalize_order(raw_order(ct=1e300, mrl=-1e300), now=NOW)
        assert order["age_seconds"] == 0 and order["time_left_seconds"] == 0


UNSAFE_ENDPOINTS = [
    ({"pub_cluster": ["-oProxyCommand=touch /tmp/pwned"]}, "pub_cluster entry"),
    ({"pub_cluster": "-oProxyCommand=touch"}, "pub_cluster entry"),
    ({"pub_cluster": ["n1.example -oProxyCommand=x"]}, "pub_cluster entry"),
    ({"pub_cluster": ["n1.example\nProxyCommand x"]}, "pub_cluster entry"),
    ({"pub_cluster": ["n1\x00.example"]}, "pub_cluster entry"),
    ({"pub_cluster": ["n1.example;reboot"]}, "pub_cluster entry"),
    ({"pub_cluster": ["$(id).example"]}, "pub_cluster entry"),
    ({"pub_cluster": [".example"]}, "pub_cluster entry"),
    ({"pub_cluster": ["-oProxyCommand=x", "n2.example"]}, "pub_cluster entry"),
    ({"pub_cluster": {"a": 1}}, "pub_cluster has an unexpected type"),
    ({"tcp_ports": ["22:0"]}, "public port 0 is out of range"),
    ({"tcp_ports": ["22:70000"]}, "public port 70000 is out of range"),
    ({"tcp_ports": ["22:-1"]}, "public port -1"),
    ({"tcp_ports": {"22": "10000 -oX"}}, "public port"),
    ({"tcp_ports": ["22:1e999"]}, "public port"),
    ({"tcp_ports": 22}, "tcp_ports has an unexpected type"),
]


class TestUnsafeEndpoint:
    """An endpoint that is unsafe for ssh: the order is kept (it costs money) but has no SSH endpoint, and says why."""

    @pytest.mark.parametrize(("overrides", "reason"), UNSAFE_ENDPOINTS)
    def test_order_kept_without_endpoint(self, overrides, reason):
        order = normalize_order(raw_order(**overrides), now=NOW)
        assert (order["id"], order["server_id"], order["price_per_day"]) == (4242, 17, 4.8)
        assert order["ssh_host"] is None and order["ssh_port"] is None and order["ssh_command"] is None
        assert order["ready"] is False
        assert reason in order["ssh_endpoint_error"]

    def test_a_safe_endpoint_has_no_error(self):
        order = normalize_order(raw_order(), now=NOW)
        assert order["ssh_endpoint_error"] is None and order["ready"] is True

    def test_the_reason_is_short_and_escaped(self):
        order = normalize_order(raw_order(pub_cluster=["-oProxyCommand=" + "x" * 500 + "\n"]), now=NOW)
        assert "\n" not in order["ssh_endpoint_error"] and len(order["ssh_endpoint_error"]) < 200


# --- every caller of normalize_order, against the in-memory account: one bad order costs only itself

from ansible_collections.clore.ai.plugins.module_utils._order.cancel import cancel_orders  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils._order.identity import read_orders  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils._order.wait import WaitTimeout, wait_ready  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils._order.spec import ORDER_ARGUMENT_SPEC  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils._order.args import order_request  # noqa: E402
from ansible_collections.clore.ai.plugins.module_utils.order import OrderTask  # noqa: E402

from order_fakes import Clock, FakeClore, server  # noqa: E402

IMAGE = "cloreai/ubuntu22.04-jupyter"
HOSTILE_HOST = "-oProxyCommand=touch /tmp/clore-pwned"


@pytest.fixture
def account(tmp_path) -> FakeClore:
    fake = FakeClore([server(1, 1.0), server(2, 2.0), server(3, 3.0)], now=time.time())
    fake.state_path = tmp_path / "state"
    fake.account = "test-account"
    return fake


def order_task(fake: FakeClore, **params) -> tuple[dict, list[str]]:
    values = {name: spec.get("default") for name, spec in ORDER_ARGUMENT_SPEC.items()}
    values.update(api_key="k", wait=False, **params)
    warnings: list[str] = []
    result = OrderTask(fake, order_request(values), check_mode=False, diff=False, warn=warnings.append).run()
    return result, warnings


class TestCallers:
    def test_read_orders_skips_only_the_unreadable_one(self, account):
        good, bad = account.add_order(1, IMAGE), account.add_order(2, IMAGE)
        bad["ct"] = float("inf")
        pairs, warnings = read_orders(account.my_orders())
        assert [order["id"] for _raw, order in pairs] == [good["id"]]
        assert len(warnings) == 1 and f"order {bad['id']}: ct" in warnings[0]

    def test_wait_is_not_upset_by_an_unreadable_neighbour(self, account):
        good, bad = account.add_order(1, IMAGE), account.add_order(2, IMAGE)
        bad["mrl"] = 10**400
        clock = Clock()
        ready = wait_ready(account, [good["id"]], 10, probe=lambda h, p, t: "SSH-2.0-x", clock=clock.monotonic,
                           sleep=clock.sleep)
        assert list(ready) == [good["id"]]

    def test_wait_never_probes_an_unsafe_endpoint_and_times_out_naming_the_stage(self, account):
        order = account.add_order(1, IMAGE)
        order["pub_cluster"] = [HOSTILE_HOST]
        probed = []
        clock = Clock()
        with pytest.raises(WaitTimeout, match="waiting for: SSH endpoint"):
            wait_ready(account, [order["id"]], 5, probe=lambda h, p, t: probed.append(h), clock=clock.monotonic,
                       sleep=clock.sleep)
        assert probed == []

    def test_an_unclear_cancel_of_an_order_with_an_unsafe_endpoint_is_verified_and_repeated(self, account):
        order = account.add_order(1, IMAGE)
        order["pub_cluster"] = [HOSTILE_HOST]
        account.fault("cancel_order", "drop")  # unclear, and nothing was cancelled
        clock = Clock()
        assert cancel_orders(account, [order["id"]], clock=clock.monotonic, sleep=clock.sleep,
                             verify_timeout=3, poll_interval=1) == [order["id"]]
        assert len(account.posts("cancel_order")) == 2 and account.active() == []

    def test_cancel_verification_reads_past_an_unreadable_neighbour(self, account):
        order, bad = account.add_order(1, IMAGE), account.add_order(2, IMAGE)
        bad["price"] = "nan"
        account.fault("cancel_order", "drop")
        clock = Clock()
        cancel_orders(account, [order["id"]], clock=clock.monotonic, sleep=clock.sleep, verify_timeout=3,
                      poll_interval=1)
        assert [o["id"] for o in account.active()] == [bad["id"]]

    def test_clore_order_counts_an_order_with_an_unsafe_endpoint_and_rents_no_second(self, account):
        existing = account.add_order(1, IMAGE)
        existing["pub_cluster"] = [HOSTILE_HOST]
        result, _warnings = order_task(account, count=1, image=IMAGE)
        assert result["changed"] is False and account.posts("create_order") == []
        assert result["kept"] == [existing["id"]]
        (kept,) = result["orders"]
        assert kept["ssh_host"] is None and "pub_cluster entry" in kept["ssh_endpoint_error"]
        assert HOSTILE_HOST not in (kept["ssh_command"] or "")

    def test_clore_order_cancels_an_order_with_an_unsafe_endpoint(self, account):
        existing = account.add_order(1, IMAGE)
        existing["tcp_ports"] = ["22:70000"]
        result, _warnings = order_task(account, state="absent", order_id=existing["id"])
        assert result["cancelled"] == [existing["id"]] and account.active() == []

    def test_clore_order_finds_its_new_order_even_with_an_unsafe_endpoint(self, account):
        real_add = account.add_order

        def add_hostile(*args, **kwargs):
            order = real_add(*args, **kwargs)
            order["pub_cluster"] = [HOSTILE_HOST]
            return order

        account.add_order = add_hostile
        result, _warnings = order_task(account, server_id=2, image=IMAGE)
        assert len(result["created"]) == 1 and len(account.posts("create_order")) == 1

    def test_clore_order_warns_about_an_unreadable_order_and_goes_on(self, account):
        account.add_order(1, IMAGE)["ct"] = "inf"
        result, warnings = order_task(account, server_id=2, image=IMAGE)
        assert len(result["created"]) == 1
        assert any("ct 'inf' is not a finite number" in warning for warning in warnings)
