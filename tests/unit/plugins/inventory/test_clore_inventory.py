"""The clore.ai.clore inventory plugin: host variables, names, groups, filters, skipping and caching."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from ansible.errors import AnsibleParserError


def order(order_id: int, **overrides) -> dict:
    """A running, provisioned on-demand order as my_orders lists it."""
    raw = {
        "id": order_id,
        "si": 100 + order_id,
        "image": "cloreai/ubuntu22.04-jupyter",
        "currency": "USD-Blockchain",
        "price": 4.8,
        "spend": 0.5,
        "creation_fee": 0.0,
        "ct": int(time.time()) - 600,
        "mrl": 86400,
        "spot": False,
        "expired": False,
        "specs": {"gpu": "1x NVIDIA GeForce RTX 4090", "gpuram": 24, "net": {"cc": "DE"}},
        "pub_cluster": ["n1.example.net"],
        "tcp_ports": [f"22:{10000 + order_id}"],
        "http_port": "8888",
        "http_pub": f"o{order_id}.example.net",
        "online": True,
        "mon_container": 2,
    }
    raw.update(overrides)
    return raw


def pending(order_id: int, **overrides) -> dict:
    return order(order_id, pub_cluster=[], tcp_ports=[], mon_container=0, **overrides)


class TestHostVariables:
    def test_ready_order(self, parse_inventory, tmp_path: Path):
        inv = parse_inventory({}, [order(7)])
        assert inv.hosts == ["clore-7"]
        hv = inv.vars("clore-7")
        assert (hv["ansible_host"], hv["ansible_port"], hv["ansible_user"]) == ("n1.example.net", 10007, "root")
        assert hv["clore_id"] == 7 and hv["clore_server_id"] == 107
        assert hv["clore_image"] == "cloreai/ubuntu22.04-jupyter"
        assert (hv["clore_gpu_model"], hv["clore_gpu_count"], hv["clore_gpu_ram_gb"]) == ("NVIDIA GeForce RTX 4090", 1, 24)
        assert (hv["clore_price_per_day"], hv["clore_currency"]) == (4.8, "USD-Blockchain")
        assert hv["clore_usd_per_hour"] == pytest.approx(0.2)
        assert hv["clore_spend"] == 0.5 and hv["clore_spot"] is False
        assert 590 <= hv["clore_age_seconds"] <= 700
        assert 86400 - 700 <= hv["clore_time_left_seconds"] <= 86400 - 590
        assert hv["clore_country"] == "DE"
        assert hv["clore_http_url"] == "https://o7.example.net"
        assert hv["clore_ready"] is True and hv["clore_pending"] is False
        assert hv["clore_ssh_command"] == "ssh -p 10007 root@n1.example.net"
        assert "ansible_python_interpreter" not in hv
        assert not inv.warnings

    def test_per_order_known_hosts(self, parse_inventory, tmp_path: Path):
        inv = parse_inventory({}, [order(7), order(8)])
        files = {inv.vars(h)["clore_known_hosts_file"] for h in inv.hosts}
        assert len(files) == 2
        for host in inv.hosts:
            hv = inv.vars(host)
            known_hosts = hv["clore_known_hosts_file"]
            assert Path(known_hosts).parent == tmp_path / "known_hosts"
            assert hv["ansible_ssh_common_args"] == (
                f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=accept-new"
            )
        assert (tmp_path / "known_hosts").is_dir()
        assert (tmp_path / "known_hosts").stat().st_mode & 0o777 == 0o700

    def test_reused_order_id_gets_a_new_known_hosts_file(self, parse_inventory):
        first = parse_inventory({}, [order(7, ct=1_700_000_000)]).vars("clore-7")["clore_known_hosts_file"]
        second = parse_inventory({}, [order(7, ct=1_700_000_500)]).vars("clore-7")["clore_known_hosts_file"]
        assert first != second

    @pytest.mark.parametrize(
        ("policy", "expected"),
        [
            ("strict", "-o StrictHostKeyChecking=yes"),
            ("off", "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no"),
        ],
    )
    def test_other_host_key_policies(self, parse_inventory, policy, expected):
        hv = parse_inventory({"host_key_checking": policy}, [order(7)]).vars("clore-7")
        assert hv["ansible_ssh_common_args"] == expected
        assert "clore_known_hosts_file" not in hv

    def test_dict_ports_and_string_cluster(self, parse_inventory):
        hv = parse_inventory({}, [order(7, pub_cluster="n9.example.net", tcp_ports={"22": "2222"})]).vars("clore-7")
        assert (hv["ansible_host"], hv["ansible_port"]) == ("n9.example.net", 2222)

    def test_prefix_user_and_interpreter_options(self, parse_inventory):
        inv = parse_inventory(
            {"hostvars_prefix": "gpu_", "ansible_user": "ubuntu", "python_interpreter": "/usr/bin/python3"}, [order(7)]
        )
        hv = inv.vars("clore-7")
        assert hv["gpu_id"] == 7 and "clore_id" not in hv
        assert hv["ansible_user"] == "ubuntu"
        assert hv["ansible_python_interpreter"] == "/usr/bin/python3"

    def test_no_secret_ever_a_host_variable(self, parse_inventory):
        secret = order(7, ssh_password="Pw12345secret", jupyter_token="tok3nsecret", ssh_key="ssh-ed25519 AAAAsecret",
                       env={"HF_TOKEN": "hf_secret"})
        hv = parse_inventory({}, [secret]).vars("clore-7")
        dumped = json.dumps(hv, default=str)
        for value in ("Pw12345secret", "tok3nsecret", "AAAAsecret", "hf_secret", "unit-test-key"):
            assert value not in dumped


class TestGroups:
    def test_default_groups(self, parse_inventory):
        inv = parse_inventory({}, [order(1), order(2, spot=True), pending(3)])
        assert inv.group("clore") == ["clore-1", "clore-2", "clore-3"]
        assert inv.group("clore_ready") == ["clore-1", "clore-2"]
        assert inv.group("clore_pending") == ["clore-3"]
        assert inv.group("clore_spot") == ["clore-2"]
        assert inv.group("clore_on_demand") == ["clore-1", "clore-3"]

    def test_pending_host_has_no_address(self, parse_inventory):
        inv = parse_inventory({}, [order(3, pub_cluster=["n1.example.net"], tcp_ports=["8888:10001"])])
        hv = inv.vars("clore-3")
        assert "ansible_host" not in hv and "ansible_port" not in hv and "ansible_ssh_common_args" not in hv
        assert hv["clore_pending"] is True and hv["clore_ready"] is False
        assert inv.group("clore_pending") == ["clore-3"] and inv.group("clore_ready") == []

    def test_include_pending_false(self, parse_inventory):
        assert parse_inventory({"include_pending": False}, [order(1), pending(2)]).hosts == ["clore-1"]

    def test_expired_orders_are_not_hosts(self, parse_inventory):
        assert parse_inventory({}, [order(1), order(2, expired=True)]).hosts == ["clore-1"]

    def test_compose_before_groups_and_keyed_groups(self, parse_inventory):
        config = {
            "compose": {"hourly": "clore_price_per_day / 24"},
            "groups": {"cheap": "hourly < 0.1"},
            "keyed_groups": [
                {"key": "clore_country", "prefix": "country"},
                {"key": "clore_gpu_model | lower | regex_replace('[^a-z0-9]+', '_')", "prefix": "gpu"},
                {"key": "'spot' if clore_spot else 'on_demand'", "prefix": "type"},
            ],
        }
        inv = parse_inventory(config, [order(1, price=1.2), order(2, price=48, spot=True, specs={"net": {"cc": "US"}})])
        assert inv.vars("clore-1")["hourly"] == pytest.approx(0.05)
        assert inv.group("cheap") == ["clore-1"]
        assert inv.group("country_DE") == ["clore-1"] and inv.group("country_US") == ["clore-2"]
        assert inv.group("gpu_nvidia_geforce_rtx_4090") == ["clore-1"]
        assert inv.group("type_spot") == ["clore-2"] and inv.group("type_on_demand") == ["clore-1"]

    def test_ending_soon_reads_the_mrl_in_hours_as_the_api_sends_it(self, parse_inventory):
        # The AWX sample's group. Real orders send mrl in hours; one older source sends seconds (above 3000).
        ending_soon = "clore_time_left_seconds is not none and clore_time_left_seconds < 3600"
        config = {"groups": {"clore_ending_soon": ending_soon}}
        now = int(time.time())
        inv = parse_inventory(config, [
            order(1, mrl=1440, ct=now - 1800),  # 30 minutes into 1440 hours
            order(2, mrl=24, ct=now - 23 * 3600 - 1800),  # half an hour of its 24 hours left
            order(3, mrl=86400, ct=now - 1800),  # 86400 s, 30 minutes in
        ])
        assert inv.group("clore_ending_soon") == ["clore-2"]
        assert 1440 * 3600 - 1900 <= inv.vars("clore-1")["clore_time_left_seconds"] <= 1440 * 3600 - 1800
        assert inv.vars("clore-1")["clore_mrl"] == 1440 and inv.vars("clore-1")["clore_mrl_seconds"] == 1440 * 3600

    def test_strict_compose_error_fails(self, parse_inventory):
        with pytest.raises(AnsibleParserError, match="Could not set broken"):
            parse_inventory({"strict": True, "compose": {"broken": "no_such_variable + 1"}}, [order(1)])

    def test_lenient_compose_error_skips_the_variable(self, parse_inventory):
        inv = parse_inventory({"compose": {"broken": "no_such_variable + 1"}}, [order(1)])
        assert inv.hosts == ["clore-1"] and "broken" not in inv.vars("clore-1")


class TestFilters:
    def test_filters_keep_and_drop(self, parse_inventory):
        orders = [order(1), order(2, specs={"gpu": "2x NVIDIA GeForce RTX 3090"}), order(3, spot=True)]
        inv = parse_inventory({"filters": ["'4090' in clore_gpu_model", "not clore_spot"]}, orders)
        assert inv.hosts == ["clore-1"]

    def test_filters_see_composed_variables(self, parse_inventory):
        config = {"compose": {"hourly": "clore_price_per_day / 24"}, "filters": ["hourly > 1"]}
        assert parse_inventory(config, [order(1, price=1.2), order(2, price=48)]).hosts == ["clore-2"]

    def test_failing_filter_drops_with_a_warning(self, parse_inventory):
        inv = parse_inventory({"filters": ["no_such_variable > 1"]}, [order(1)])
        assert inv.hosts == []
        assert any("clore-1" in w and "no_such_variable" in w for w in inv.warnings)

    def test_failing_filter_with_strict_fails(self, parse_inventory):
        with pytest.raises(AnsibleParserError, match="filter"):
            parse_inventory({"filters": ["no_such_variable > 1"], "strict": True}, [order(1)])


class TestHostnames:
    def test_template_over_host_variables(self, parse_inventory):
        config = {"hostname": "{{ clore_gpu_model | lower | regex_replace('[^a-z0-9]+', '-') }}-{{ order.id }}"}
        assert parse_inventory(config, [order(5)]).hosts == ["nvidia-geforce-rtx-4090-5"]

    def test_template_error_skips_that_host(self, parse_inventory):
        config = {"hostname": "{{ clore_gpu_model.split()[0] | lower }}-{{ order.id }}"}
        inv = parse_inventory(config, [order(1), order(2, specs={})])
        assert inv.hosts == ["nvidia-1"]
        assert len(inv.warnings) == 1 and "order 2" in inv.warnings[0] and "hostname" in inv.warnings[0]

    def test_empty_name_skips_that_host(self, parse_inventory):
        inv = parse_inventory({"hostname": "{{ clore_http_url or '' }}"}, [order(1, http_pub=None)])
        assert inv.hosts == [] and "order 1" in inv.warnings[0]

    def test_duplicates_skip_the_later_host(self, parse_inventory):
        inv = parse_inventory({"hostname": "box-{{ clore_country }}"}, [order(1), order(2), order(3, specs={"net": {"cc": "FR"}})])
        assert inv.hosts == ["box-DE", "box-FR"]
        assert inv.vars("box-DE")["clore_id"] == 1
        assert len(inv.warnings) == 1 and "order 2" in inv.warnings[0] and "box-DE" in inv.warnings[0]

    def test_a_filtered_host_does_not_take_a_name(self, parse_inventory):
        config = {"hostname": "box-{{ clore_country }}", "filters": ["not clore_spot"]}
        inv = parse_inventory(config, [order(1, spot=True), order(2)])
        assert inv.hosts == ["box-DE"] and inv.vars("box-DE")["clore_id"] == 2 and not inv.warnings


class TestMalformedOrders:
    @pytest.mark.parametrize(
        "bad",
        [
            {"id": 9, "si": 1, "tcp_ports": 22},
            {"id": 9, "si": 1, "pub_cluster": {"host": "x"}},
            {"id": 9, "si": 1, "price": "a lot"},
            {"id": 9},
            order(9, ct=float("inf")),
            order(9, ct="inf"),
            order(9, mrl=10**400),
            order(9, price=float("nan")),
            order(9, si=1e999),
            order(9, mon_container="-inf"),
            order(9, pub_cluster=["-oProxyCommand=touch /tmp/clore-pwned"]),
            order(9, pub_cluster="n1.example.net;reboot"),
            order(9, tcp_ports=["22:70000"]),
            order(9, pub_cluster=["-oProxyCommand=x"], tcp_ports=[], mon_container=0),
        ],
    )
    def test_one_bad_order_is_skipped_with_a_warning_naming_it(self, parse_inventory, bad):
        inv = parse_inventory({}, [order(1), bad, order(2)])
        assert inv.hosts == ["clore-1", "clore-2"]
        assert len(inv.warnings) == 1 and "order 9" in inv.warnings[0]

    def test_an_unsafe_endpoint_never_reaches_a_host_variable(self, parse_inventory):
        hostile = "-oProxyCommand=touch /tmp/clore-pwned"
        inv = parse_inventory({}, [order(1), order(2, pub_cluster=[hostile])])
        assert inv.hosts == ["clore-1"]
        assert "order 2" in inv.warnings[0] and "SSH endpoint" in inv.warnings[0] and "pub_cluster" in inv.warnings[0]
        assert hostile not in json.dumps(inv.vars("clore-1"))
        assert "clore_ssh_endpoint_error" not in inv.vars("clore-1")  # never set on a host

    def test_orders_without_id_or_not_mappings(self, parse_inventory):
        inv = parse_inventory({}, [order(1), {"si": 3}, "junk", None])
        assert inv.hosts == ["clore-1"]
        assert len(inv.warnings) == 3


class TestCache:
    def cache_config(self, tmp_path: Path) -> dict:
        return {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}

    def test_cached_parse_makes_no_call(self, parse_inventory, tmp_path: Path):
        config = self.cache_config(tmp_path)
        cold = parse_inventory(config, [order(1), pending(2)])
        assert cold.client.calls == 1
        warm = parse_inventory(config, [])
        assert warm.client.calls == 0
        assert warm.hosts == cold.hosts == ["clore-1", "clore-2"]
        assert warm.vars("clore-1")["ansible_port"] == 10001
        assert warm.group("clore_pending") == ["clore-2"]

    def test_cache_file_holds_no_secret(self, parse_inventory, tmp_path: Path):
        parse_inventory(self.cache_config(tmp_path), [order(1, ssh_password="Pw12345secret", env={"K": "envsecret"})])
        files = list((tmp_path / "cache").iterdir())
        assert len(files) == 1
        text = files[0].read_text()
        assert "Pw12345secret" not in text and "envsecret" not in text and "unit-test-key" not in text
        assert "101" in text and "n1.example.net" in text  # the order itself is there

    def test_secret_looking_fields_inside_specs_are_not_cached(self, parse_inventory, tmp_path: Path):
        specs = {"gpu": "1x RTX 4090", "net": {"cc": "DE", "token": "net-secret-7"}, "password": "spec-secret-9"}
        parse_inventory(self.cache_config(tmp_path), [order(1, specs=specs)])
        [cached] = (tmp_path / "cache").iterdir()
        text = cached.read_text()
        assert "net-secret-7" not in text and "spec-secret-9" not in text and "DE" in text

    def test_the_cache_file_and_a_new_cache_dir_are_private(self, parse_inventory, tmp_path: Path):
        old = os.umask(0o022)
        try:
            parse_inventory(self.cache_config(tmp_path), [order(1)])
        finally:
            os.umask(old)
        [cached] = (tmp_path / "cache").iterdir()
        assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
        assert stat.S_IMODE(cached.stat().st_mode) == 0o600

    def test_a_cache_dir_already_in_use_is_left_as_it_is(self, parse_inventory, tmp_path: Path):
        (tmp_path / "cache").mkdir()
        os.chmod(tmp_path / "cache", 0o755)
        (tmp_path / "cache" / "facts_somehost").write_text("{}")
        os.chmod(tmp_path / "cache" / "facts_somehost", 0o644)
        parse_inventory(self.cache_config(tmp_path), [order(1)])
        assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o755
        others = [p for p in (tmp_path / "cache").iterdir() if p.name != "facts_somehost"]
        assert [stat.S_IMODE(p.stat().st_mode) for p in others] == [0o600]  # only the plugin's own file
        assert stat.S_IMODE((tmp_path / "cache" / "facts_somehost").stat().st_mode) == 0o644

    def test_flush_cache_calls_again_and_refreshes(self, parse_inventory, tmp_path: Path):
        config = self.cache_config(tmp_path)
        parse_inventory(config, [order(1)])
        flushed = parse_inventory(config, [order(2)], cache=False)
        assert flushed.client.calls == 1 and flushed.hosts == ["clore-2"]
        warm = parse_inventory(config, [])
        assert warm.client.calls == 0 and warm.hosts == ["clore-2"]

    def test_expired_cache_calls_again(self, parse_inventory, tmp_path: Path):
        config = self.cache_config(tmp_path) | {"cache_timeout": 1}
        parse_inventory(config, [order(1)])
        # The cache plugin's clock is its files' mtime: age them past the timeout instead of waiting it out.
        past = time.time() - 2
        for cached in (tmp_path / "cache").iterdir():
            os.utime(cached, (past, past))
        refreshed = parse_inventory(config, [order(2)])
        assert refreshed.client.calls == 1 and refreshed.hosts == ["clore-2"]

    def test_another_key_does_not_read_this_cache(self, parse_inventory, tmp_path: Path):
        config = self.cache_config(tmp_path)
        parse_inventory(config, [order(1)])
        other = parse_inventory(config | {"api_key": "another-key"}, [order(2)])
        assert other.client.calls == 1 and other.hosts == ["clore-2"]

    def test_without_cache_every_parse_calls(self, parse_inventory):
        assert parse_inventory({}, [order(1)]).client.calls == 1
        assert parse_inventory({}, [order(1)]).client.calls == 1


class TestSourceAndErrors:
    @pytest.mark.parametrize(
        ("name", "text", "accepted"),
        [("clore.yml", "plugin: clore.ai.clore\n", True), ("prod.clore.yaml", "plugin: clore.ai.clore\n", True),
         ("my_clore.yml", "plugin: clore.ai.clore\n", True), ("clore.json", "plugin: clore.ai.clore\n", False),
         ("clore.yml.bak", "plugin: clore.ai.clore\n", False),
         # Named otherwise but saying it is ours: taken, so that parse names the file-name rule.
         ("inventory.yml", "# rented GPUs\nplugin: 'clore.ai.clore'  # the plugin\n", True),
         ("inventory.yaml", "plugin: clore.ai.clore", True),
         ("inventory.yml", "plugin: amazon.aws.aws_ec2\n", False),
         ("inventory.yml", "all:\n  hosts:\n    plugin: clore.ai.clore\n", False)],
    )
    def test_verify_file(self, tmp_path: Path, name, text, accepted):
        from ansible.plugins.loader import inventory_loader

        path = tmp_path / name
        path.write_text(text)
        assert inventory_loader.get("clore.ai.clore").verify_file(str(path)) is accepted

    def test_a_file_named_otherwise_is_refused_naming_the_rule(self, parse_inventory):
        from ansible.errors import AnsibleParserError

        with pytest.raises(AnsibleParserError, match=r"the file name must end in clore\.yml or clore\.yaml "
                                                     r"\(for example rented\.clore\.yaml\)") as caught:
            parse_inventory({}, [order(1)], file_name="rented.yaml")
        assert "rented.yaml" in str(caught.value)

    def test_api_error_names_code_and_fix(self, parse_inventory):
        from ansible_collections.clore.ai.plugins.module_utils.errors import api_error_from_answer

        error = api_error_from_answer("my_orders", 401, {"code": 3})
        with pytest.raises(AnsibleParserError) as caught:
            parse_inventory({}, error=error)
        message = str(caught.value)
        assert "code 3" in message and "CLORE_API_KEY" in message and "unit-test-key" not in message

    def test_options_from_environment(self, parse_inventory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
        monkeypatch.setenv("CLORE_API_KEY", "key-from-env")
        monkeypatch.setenv("CLORE_API_URL", "http://127.0.0.1:8199/v1")
        monkeypatch.setenv("CLORE_KNOWN_HOSTS_DIR", str(tmp_path / "kh-from-env"))
        inv = parse_inventory({"api_key": None, "api_url": None, "known_hosts_dir": None}, [order(1)])
        assert inv.plugin.get_option("api_key") == "key-from-env"
        assert inv.plugin.get_option("api_url") == "http://127.0.0.1:8199/v1"
        assert inv.vars("clore-1")["clore_known_hosts_file"].startswith(str(tmp_path / "kh-from-env") + "/")

    def test_known_hosts_default_under_the_state_dir(self, parse_inventory, tmp_path: Path):
        inv = parse_inventory({"known_hosts_dir": None, "api_state_dir": str(tmp_path / "state")}, [order(1)])
        assert inv.vars("clore-1")["clore_known_hosts_file"].startswith(str(tmp_path / "state" / "known_hosts") + "/")


class TestConfigurationRefused:
    """A wrong configuration fails the parse, naming the option, before any API call (never an empty inventory)."""

    NO_CALL = AssertionError("the API was called before the configuration was checked")

    def refused(self, parse_inventory, config: dict) -> str:
        with pytest.raises(AnsibleParserError) as caught:
            parse_inventory(config, [order(1)], error=self.NO_CALL)
        return str(caught.value)

    @pytest.mark.parametrize("value", ["maybe", "2", "sometimes"])
    def test_a_boolean_that_is_not_one(self, parse_inventory, value):
        message = self.refused(parse_inventory, {"include_pending": value})
        assert "include_pending" in message and value in message

    def test_a_real_boolean_still_works(self, parse_inventory):
        assert parse_inventory({"include_pending": "no"}, [order(1), pending(2)]).hosts == ["clore-1"]

    def test_an_unknown_option_names_it_and_the_likely_one(self, parse_inventory):
        message = self.refused(parse_inventory, {"include_pendng": False})
        assert "unknown option 'include_pendng'" in message and "'include_pending'" in message

    @pytest.mark.parametrize("template", ["{{ order.id", "{{ order.id | no_such_filter }}", "{% if %}x"])
    def test_a_hostname_template_that_does_not_compile(self, parse_inventory, template):
        message = self.refused(parse_inventory, {"hostname": template})
        assert "hostname" in message and template in message

    def test_a_filter_that_does_not_compile(self, parse_inventory):
        message = self.refused(parse_inventory, {"filters": ["clore_spot and"]})
        assert "filters" in message and "clore_spot and" in message

    def test_a_template_needing_order_variables_is_fine(self, parse_inventory):
        config = {"hostname": "gpu-{{ order.id }}", "filters": ["clore_price_per_day < 10"]}
        assert parse_inventory(config, [order(1)]).hosts == ["gpu-1"]

    def test_a_known_hosts_dir_that_cannot_be_created(self, parse_inventory, tmp_path: Path):
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        message = self.refused(parse_inventory, {"known_hosts_dir": str(blocker / "known_hosts")})
        assert "known_hosts_dir" in message and "writable" in message

    def test_a_known_hosts_dir_that_cannot_be_written(self, parse_inventory, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
        import os

        read_only = tmp_path / "read-only"
        real_access = os.access
        # Root writes anywhere, so the test stands in for a directory of another user or a read-only mount.
        monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(read_only)
                            else real_access(path, mode))
        message = self.refused(parse_inventory, {"known_hosts_dir": str(read_only)})
        assert "known_hosts_dir" in message and "Permission denied" in message

    def test_an_invalid_hostvars_prefix(self, parse_inventory):
        message = self.refused(parse_inventory, {"hostvars_prefix": "clore-"})
        assert "hostvars_prefix" in message and "'clore-'" in message
