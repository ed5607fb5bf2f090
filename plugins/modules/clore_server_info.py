#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_server_info: the servers this API key offers on Clore.ai (the host side), as flat records."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_server_info
short_description: Read the servers you offer on Clore.ai as a host
version_added: 0.1.0
description:
  - Returns the servers the API key hosts (Clore's C(my_servers)), each as one flat record - visibility, connection
    and health, whether it is rented and until when, GPUs, prices per coin for on-demand and the spot minimum, USD
    pricing and autoprice, the fair price Clore suggests, and specs.
  - With O(config=true) each returned server's C(server_config) is read as well (one call per server), which adds its
    maximum rental length RV(servers[].mrl), its accepted coins and whether it is rented on-demand or spot.
  - Rows are read defensively - any field may be missing or odd and then reads as null; a row without a name is
    skipped with a warning naming it, never the whole answer. A server listed twice is returned once.
  - Secrets a row may carry (the server's init token, a background job's environment) are never returned.
  - The module only reads; it never changes anything and runs the same in check mode.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  names:
    description:
      - Return only the servers with these names; an entry may be a shell-style pattern (V(rig-*), V(gpu-?)).
        An empty entry is refused.
      - Entries that match no server are listed in RV(unmatched).
      - By default every server is returned.
    type: list
    elements: str
    aliases: [name]
  config:
    description:
      - Also read each returned server's C(server_config), one call per server (about a second each under the rate
        limit).
      - Without it RV(servers[].mrl) and RV(servers[].rental_type) are null, since C(my_servers) does not give them.
    type: bool
    default: false
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing and returns the same.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
seealso:
  - module: clore.ai.clore_server
notes:
  - See docs/hosts.md in the collection for the host's walk-through and playbooks/host_pricing.yml for pricing from
    the live market.
"""

EXAMPLES = r"""
- name: Every server I host, with its settings (the key from CLORE_API_KEY)
  clore.ai.clore_server_info:
    config: true
  register: clore_hosted

- name: Show which are rented and until when
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.gpu_count }}x {{ item.gpu_model }}, {{ 'rented until ' ~ item.rented_until
      if item.rented else 'free' }}, {{ item.usd_pricing.on_demand | default('-') }} USD/day"
  loop: "{{ clore_hosted.servers }}"
  loop_control:
    label: "{{ item.name }}"

- name: Only the rigs of one rack
  clore.ai.clore_server_info:
    names: ["rack1-*"]
  register: clore_rack1
"""

RETURN = r"""
servers:
  description:
    - The hosted servers that match O(names), in the order Clore lists them.
    - Any field may be null when Clore does not give it.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The server id (the one renters see in the marketplace).
      type: int
      sample: 73340
    name:
      description: The server's name, which M(clore.ai.clore_server) takes.
      type: str
      sample: rig-a
    public_name:
      description: The host's public name.
      type: str
      sample: host-a
    visibility:
      description: C(public) (offered on the market) or C(hidden), as Clore gives it.
      type: str
      sample: public
    available:
      description: Whether the server is offered on the market (RV(servers[].visibility) is C(public)).
      type: bool
      sample: true
    connected:
      description: Whether the server's agent is connected to Clore.
      type: bool
    online:
      description: Whether the server is online.
      type: bool
    working_properly:
      description: Whether Clore considers the server to work properly.
      type: bool
    rented:
      description:
        - Whether someone rents the server now (C(my_servers) lists C(rented) only while it is; with O(config=true)
          C(server_config)'s C(rental_status) decides).
      type: bool
      sample: true
    rental_type:
      description: C(on-demand) or C(spot) while rented, with O(config=true) only.
      type: str
      sample: on-demand
    remaining_time:
      description: The raw C(remaining_time) Clore gives while the server is rented (it reads as a Unix time in ms).
      type: float
      sample: 1754149391786
    rented_until:
      description: RV(servers[].remaining_time) as an ISO 8601 UTC time, when it reads as a Unix time.
      type: str
      sample: "2025-08-02T15:43:11+00:00"
    gpu_model:
      description: The GPU model, from C(specs.gpu), else from C(gpu_array).
      type: str
      sample: NVIDIA GeForce RTX 4090
    gpu_count:
      description: The number of GPUs (C(gpu_count), else from C(specs.gpu) or C(gpu_array)).
      type: int
      sample: 5
    gpu_array:
      description: The GPU names as Clore lists them (flattened when nested).
      type: list
      elements: str
      sample: [RTX 4090, RTX 4090]
    coins:
      description:
        - The coins the server accepts - C(allowed_coins) when Clore gives it, else the coins it has an on-demand
          price in.
      type: list
      elements: str
      sample: [CLORE-Blockchain, bitcoin]
    on_demand_price:
      description: The on-demand price per day in each coin.
      type: dict
      sample: {"bitcoin": 0.00020855, "CLORE-Blockchain": 1174.03}
    spot_min_price:
      description: The minimum spot price per day in each coin.
      type: dict
      sample: {"bitcoin": 0.00011376, "CLORE-Blockchain": 640.38}
    usd_pricing:
      description: The prices set in US dollars per day, C(on_demand) and C(spot) (empty when Clore gives none).
      type: dict
      sample: {"on_demand": 22.0, "spot": 12.0}
    autoprice:
      description: Whether Clore derives the coin prices from RV(servers[].usd_pricing) (C(autoprice) is C(usd)).
      type: bool
      sample: true
    max_fair_price_usd:
      description: The highest fair on-demand price per day, in US dollars, that Clore suggests for the server.
      type: float
      sample: 42.79
    mrl:
      description: The maximum rental length in hours, with O(config=true) only.
      type: int
      sample: 240
    specs:
      description: The server's specs as Clore gives them (CPU, RAM, disk, network, PCIe, board).
      type: dict
    oc_gpus:
      description: The GPUs with their overclocking ranges (Clore sends them as a JSON string; read into a list).
      type: list
      elements: dict
    energy_price:
      description: The energy price the host entered, when given.
      type: float
    max_poh_capacity:
      description: Clore's Proof-of-Holding capacity of the server.
      type: float
    is_vpn_enabled:
      description: Whether the server runs behind Clore's VPN.
      type: bool
    mass_price_changeable:
      description: Whether the server takes part in mass price changes.
      type: bool
    enable_btc_and_clore:
      description: The flag as Clore gives it.
      type: bool
    enable_only_clore:
      description: The flag as Clore gives it.
      type: bool
    enable_only_btc:
      description: The flag as Clore gives it.
      type: bool
    config_read:
      description: Whether the record includes the server's C(server_config).
      type: bool
count:
  description: The number of servers returned.
  returned: success
  type: int
  sample: 2
names:
  description: The names of every server the key hosts, whatever O(names) selected.
  returned: success
  type: list
  elements: str
  sample: [rig-a, rig-b]
unmatched:
  description: The entries of O(names) that match no hosted server.
  returned: success
  type: list
  elements: str
  sample: []
"""

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.host import run_server_info

ARGUMENT_SPEC = {
    "names": {"type": "list", "elements": "str", "aliases": ["name"]},
    "config": {"type": "bool", "default": False},
}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_server_info)


if __name__ == "__main__":
    main()
