"""normalize_order, parse_tcp_ports and first_host: both shapes of every field the API is unsure about."""
from __future__ import annotations

import json

import pytest

from ansible_collections.clore.ai.plugins.module_utils.orders import (
    first_host,
    normalize_order,
    parse_tcp_ports,
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
        "mrl": 86400,
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

    @pytest.mark.parametrize("bad", [42, {"host": "x"}, [None]])
    def test_malformed_raises(self, bad):
        with pytest.raises(ValueError):
            first_host(bad)


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
        assert order["mrl_seconds"] == 86400
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
            ({"id": "abc", "si": 2}, "not a number"),
            ({"id": 5}, "order 5: no server id"),
            ({"id": 5, "si": 2, "price": "cheap"}, "order 5: price"),
            ({"id": 5, "si": 2, "tcp_ports": 22}, "order 5: tcp_ports"),
            ({"id": 5, "si": 2, "pub_cluster": {"a": 1}}, "order 5: pub_cluster"),
            ({"id": 5, "si": 2, "specs": "2x RTX"}, "order 5: specs"),
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
