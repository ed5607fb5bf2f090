"""Every host variable the clore.ai.clore inventory sets is documented, in the plugin's DOCUMENTATION (what ansible-doc
and the docsite show) and in docs/inventory.md, and nothing documented there is a variable it does not set."""
from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[4]
PLUGIN = REPO / "plugins" / "inventory" / "clore.py"
ANSIBLE_OWN = {"inventory_file", "inventory_dir"}
VARIABLE = r"(?:clore|ansible)_[a-z_]+"


def _raw_order(order_id: int, ready: bool) -> dict:
    """One order as my_orders lists it, with every field the plugin reads (a dollar price of its own included)."""
    return {
        "id": order_id, "si": 100 + order_id, "image": "ubuntu", "currency": "CLORE-Blockchain", "price": 120.0,
        "original_price_usd": 4.8, "spend": 0.5, "creation_fee": 0.0, "ct": int(time.time()) - 600, "mrl": 24,
        "spot": False, "expired": False, "online": True, "mon_container": 2 if ready else 0,
        "specs": {"gpu": "1x NVIDIA GeForce RTX 4090", "gpuram": 24, "net": {"cc": "DE"}},
        "pub_cluster": ["n1.example.net"] if ready else [], "tcp_ports": [f"22:{10000 + order_id}"] if ready else [],
        "http_port": "8888", "http_pub": f"o{order_id}.example.net",
    }


def _set_variables(parse_inventory) -> set[str]:
    """The variables of a ready host and a pending one, with every option that adds a variable set."""
    inv = parse_inventory({"python_interpreter": "/usr/bin/python3"}, [_raw_order(1, True), _raw_order(2, False)])
    assert inv.hosts == ["clore-1", "clore-2"] and not inv.warnings
    # the host's own variables, less those Ansible gives every host it adds and its magic ones (group_names, ...)
    return {name for host in inv.hosts for name in inv.data.get_host(host).vars} - ANSIBLE_OWN


def _documentation_variables() -> set[str]:
    match = re.search(r'^DOCUMENTATION\s*=\s*r?"""(.*?)"""', PLUGIN.read_text(), re.S | re.M)
    assert match
    bullets = [line for line in yaml.safe_load(match.group(1))["description"] if line.startswith("Host variables")]
    assert len(bullets) == 1, "DOCUMENTATION lists the host variables in one description item"
    return set(re.findall(rf"C\(({VARIABLE})\)", bullets[0]))


def _guide_variables() -> set[str]:
    text = (REPO / "docs" / "inventory.md").read_text()
    section = text.split("### Variables", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(rf"`({VARIABLE})`", row)}


def test_every_host_variable_is_in_the_plugin_documentation(parse_inventory):
    set_vars, documented = _set_variables(parse_inventory), _documentation_variables()
    assert (sorted(set_vars - documented), sorted(documented - set_vars)) == ([], [])


def test_every_host_variable_is_in_the_inventory_guide(parse_inventory):
    set_vars, documented = _set_variables(parse_inventory), _guide_variables()
    assert (sorted(set_vars - documented), sorted(documented - set_vars)) == ([], [])
