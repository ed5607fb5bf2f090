"""clore.ai.clore against clore-sim: real ansible-inventory and real SSH to the rented containers."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ..playbook import VENV_BIN, run_inventory
from . import sim_orders


def write_config(directory: Path, **options) -> Path:
    """An inventory source; the key and URL come from the environment (CLORE_API_KEY / CLORE_API_URL)."""
    path = directory / "test.clore.yml"
    lines = ["plugin: clore.ai.clore"] + [f"{key}: {json.dumps(value)}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def plain(value):
    """ansible-inventory marks values from inventory plugins as unsafe ({"__ansible_unsafe": value}): unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def inventory_list(config: Path, env: dict[str, str], *args: str) -> dict:
    proc = run_inventory(config, env, "--list", *args)
    assert proc.returncode == 0, proc.stderr
    assert "Unable to parse" not in proc.stderr, proc.stderr
    return plain(json.loads(proc.stdout))


def hosts_of(listing: dict, group: str) -> list[str]:
    return sorted(listing.get(group, {}).get("hosts", []))


def ping_all(config: Path, env: dict[str, str], private_key: Path) -> subprocess.CompletedProcess:
    cmd = [str(VENV_BIN / "ansible"), "all", "-i", str(config), "-m", "ansible.builtin.ping",
           "-e", "ansible_python_interpreter=/usr/bin/python3", "--private-key", str(private_key), "--one-line"]
    # No ControlPersist: every run makes fresh connections, so each one checks the host key (and no ssh master
    # process outlives the test).
    return subprocess.run(cmd, env=env | {"ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}, capture_output=True, text=True,
                          timeout=300, check=False)


def my_orders_calls(sim) -> int:
    return sim.counters()["requests"].get("my_orders", 0)


def test_orders_are_hosts_reachable_over_ssh_with_per_order_known_hosts(sim, ansible_env, ssh_keypair, tmp_path):
    private_key, public_key = ssh_keypair
    for server in sim_orders.free_servers(sim, 2):
        sim_orders.rent(sim, server, public_key)
    orders = sim_orders.wait_until_reachable(sim, 2)
    config = write_config(tmp_path)

    listing = inventory_list(config, ansible_env)
    expected = {f"clore-{o['id']}": (o["pub_cluster"][0], sim_orders.ssh_port(o)) for o in orders}
    assert hosts_of(listing, "clore") == sorted(expected)
    assert hosts_of(listing, "clore_ready") == sorted(expected)
    assert hosts_of(listing, "clore_pending") == []
    hostvars = listing["_meta"]["hostvars"]
    for name, (host, port) in expected.items():
        assert (hostvars[name]["ansible_host"], hostvars[name]["ansible_port"]) == (host, port)
        assert hostvars[name]["ansible_user"] == "root"
        assert "StrictHostKeyChecking=accept-new" in hostvars[name]["ansible_ssh_common_args"]
    assert public_key.split()[1] not in json.dumps(listing)

    first = ping_all(config, ansible_env, private_key)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("SUCCESS") == 2, first.stdout
    for name in expected:
        host, port = expected[name]
        lookup = subprocess.run(["ssh-keygen", "-F", f"[{host}]:{port}", "-f", hostvars[name]["clore_known_hosts_file"]],
                                capture_output=True, text=True, check=False)
        assert lookup.returncode == 0 and "ssh-ed25519" in lookup.stdout, f"{name}: key not recorded"

    # Host key checking stays on: the recorded keys are used and accepted again.
    second = ping_all(config, ansible_env, private_key)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("SUCCESS") == 2, second.stdout

    # ...and a key that changes during an order is refused.
    name = sorted(expected)[0]
    host, port = expected[name]
    other_key = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    key_type, key_data = other_key.with_suffix(".pub").read_text().split()[:2]
    Path(hostvars[name]["clore_known_hosts_file"]).write_text(f"[{host}]:{port} {key_type} {key_data}\n")
    third = ping_all(config, ansible_env, private_key)
    assert third.returncode != 0
    assert f"{name} | UNREACHABLE" in third.stdout and "SUCCESS" in third.stdout, third.stdout
    assert "host key verification failed" in third.stdout.lower(), third.stdout

    # A cancelled order is no longer a host.
    cancelled = orders[0]["id"]
    sim_orders.cancel(sim, cancelled)
    after = inventory_list(config, ansible_env)
    assert hosts_of(after, "clore") == sorted(n for n in expected if n != f"clore-{cancelled}")


def test_unprovisioned_order_is_pending_only(sim, ansible_env, ssh_keypair, tmp_path):
    sim.configure(provisioning_delay=3600)
    sim_orders.rent(sim, sim_orders.free_servers(sim, 1)[0], ssh_keypair[1])
    (order,) = sim_orders.my_orders(sim)
    listing = inventory_list(write_config(tmp_path), ansible_env)
    name = f"clore-{order['id']}"
    assert hosts_of(listing, "clore_pending") == [name]
    assert hosts_of(listing, "clore_ready") == []
    hostvars = listing["_meta"]["hostvars"][name]
    assert "ansible_host" not in hostvars and "ansible_port" not in hostvars
    assert hostvars["clore_pending"] is True and hostvars["clore_status"] == "deploying"


def test_cached_parse_makes_no_api_call(sim, ansible_env, tmp_path):
    sim.seed_orders(sim.api_key, 3)
    config = write_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(tmp_path / "inventory-cache"), cache_timeout=3600)
    before = my_orders_calls(sim)
    cold = inventory_list(config, ansible_env)
    assert my_orders_calls(sim) == before + 1
    warm = inventory_list(config, ansible_env)
    assert my_orders_calls(sim) == before + 1
    assert hosts_of(warm, "clore") == hosts_of(cold, "clore") and len(hosts_of(cold, "clore")) == 3
    inventory_list(config, ansible_env, "--flush-cache")
    assert my_orders_calls(sim) == before + 2


def test_wrong_key_fails_naming_code_and_fix(sim, ansible_env, tmp_path):
    env = ansible_env | {"CLORE_API_KEY": "not-a-valid-key", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"}
    proc = run_inventory(write_config(tmp_path), env, "--list")
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "code 3" in message and "CLORE_API_KEY" in message, proc.stderr
    assert "not-a-valid-key" not in proc.stderr


@pytest.mark.parametrize("policy", ["strict", "off"])
def test_host_key_policy_option(sim, ansible_env, tmp_path, policy):
    sim.seed_orders(sim.api_key, 1)
    listing = inventory_list(write_config(tmp_path, host_key_checking=policy), ansible_env)
    (hostvars,) = listing["_meta"]["hostvars"].values()
    expected = "StrictHostKeyChecking=yes" if policy == "strict" else "StrictHostKeyChecking=no"
    assert expected in hostvars["ansible_ssh_common_args"]


def test_one_bad_order_is_skipped_and_the_others_stay(sim, ansible_env, tmp_path):
    hostile_host = "-oProxyCommand=touch /tmp/clore-inventory-pwned"
    unreadable, hostile, fine = sim.seed_orders(sim.api_key, 3)
    sim.admin("POST", "order_fields", {"order_id": unreadable, "fields": {"ct": float("inf")}})  # JSON 1e999
    sim.admin("POST", "order_fields", {"order_id": hostile, "fields": {"pub_cluster": [hostile_host]}})

    proc = run_inventory(write_config(tmp_path), ansible_env, "--list")
    assert proc.returncode == 0 and "Unable to parse" not in proc.stderr, proc.stderr
    listing = plain(json.loads(proc.stdout))
    assert hosts_of(listing, "clore") == [f"clore-{fine}"]
    assert hostile_host not in proc.stdout
    warnings = " ".join(proc.stderr.split())
    assert f"order {unreadable}: ct inf is not a finite number" in warnings
    assert f"skipping order {hostile}: its SSH endpoint is unusable" in warnings


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("include_pending", "maybe", "include_pending"), ("include_pendng", True, "'include_pendng'"),
     ("hostname", "{{ order.id", "hostname")],
)
def test_a_wrong_option_fails_the_parse_before_the_api_call(sim, ansible_env, tmp_path, option, value, named):
    sim.seed_orders(sim.api_key, 1)
    before = my_orders_calls(sim)
    env = ansible_env | {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"}
    proc = run_inventory(write_config(tmp_path, **{option: value}), env, "--list")
    assert proc.returncode != 0
    assert named in " ".join(proc.stderr.split()), proc.stderr
    assert my_orders_calls(sim) == before
