#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_order_info: my orders, normalised (SSH endpoint, HTTP URL, price, spend, age, time left), never a secret."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_order_info
short_description: List your Clore.ai orders with their SSH endpoint, price and spend
version_added: 0.1.0
description:
  - Reads your orders from the Clore.ai C(my_orders) endpoint, active ones by default, and returns each one
    normalised for people and for C(when:) conditions - the SSH host, port, user and command, the HTTPS URL, the
    price per day, the spend so far, the age and the time left.
  - C(pub_cluster) and C(tcp_ports) are read in both shapes the API is known to send (list or string, list of
    C("22:10000") or dictionary).
  - An order whose fields cannot be read (an id, price or time that is not a finite number, ...) is left out with a
    warning naming it; the others are still returned.
  - An order whose SSH endpoint is not safe to hand to ssh (a host name other than letters, digits and C(.-_:), or
    one starting with C(-); a port outside 1-65535) is still returned, since it exists and costs money, but without
    an SSH endpoint (RV(orders[].ready) false, no RV(orders[].ssh_command)), with a warning and the reason in
    RV(orders[].ssh_endpoint_error).
  - No secret is ever returned - the API does not send SSH passwords, keys, Jupyter tokens or env values in orders,
    and the module copies only the fields it knows.
  - The module only reads; it never changes anything and runs the same in check mode.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  order_ids:
    description:
      - Return only the orders with these ids.
      - An id that is not among your orders is simply absent from the result (see RV(missing_order_ids)).
      - Each id is 1 or more; a boolean or a negative number is refused before any API call.
    type: list
    elements: int
    aliases: [ids]
  server_ids:
    description: Return only the orders of these servers (the C(si) of an order, the C(id) of a marketplace server);
      each 1 or more.
    type: list
    elements: int
  return_completed:
    description:
      - Include ended orders (C(expired=true)) as well as the active ones.
    type: bool
    default: false
  older_than:
    description:
      - Return only orders older than this duration - a number with V(s), V(m), V(h), V(d) or V(w) (V(36h), V(90m),
        V(2d)); a bare number is hours.
      - Ages are measured on the service's clock (the C(Date) header of the C(my_orders) answer), against which the
        orders' creation times are given.
    type: str
  spend_over:
    description:
      - Return only orders that spent more than this so far. In V(USD) every order is compared by its spend in US
        dollars; in a coin, only the orders paid in that coin are compared.
      - A number alone is its O(spend_over.amount) in USD.
      - A spend in a coin is priced in dollars by the price model (docs/market.md, section How prices are compared) -
        the order's own C(original_price_usd), else the coin's rate from the marketplace answer, one
        C(spot_marketplace) call, or O(usd_rates). When nothing prices an order's coin, a V(USD)
        comparison fails naming the coin rather than leave the order out.
    type: dict
    suboptions:
      amount:
        description: The amount, a finite number (V(.nan) and V(.inf) are refused).
        type: float
        required: true
      currency:
        description: V(USD) or a coin (V(CLORE-Blockchain), V(bitcoin), V(USD-Blockchain) or the aliases V(CLORE), V(BTC)).
        type: str
        default: USD
  images:
    description:
      - Return only orders of these images, in any spelling of the same Docker image.
      - V(ubuntu), V(ubuntu:latest), V(library/ubuntu) and V(docker.io/library/ubuntu:latest) are one image; with a
        digest (V(ubuntu@sha256:...)) the digest names the image.
    type: list
    elements: str
  gpu:
    description: Return only orders whose GPU model contains one of these (V(RTX 4090) matches C(NVIDIA GeForce RTX 4090)).
    type: list
    elements: str
  lifetime_expired:
    description:
      - V(true) returns only the orders whose lifetime, recorded on this controller by M(clore.ai.clore_order)'s
        O(clore.ai.clore_order#module:lifetime_hours), has passed; V(false) only the others.
    type: bool
  host_key_checking:
    description: The host-key policy for each order's RV(orders[].ssh_common_args), as in M(clore.ai.clore_order).
    type: str
    choices: [per_order, strict, "off"]
    default: per_order
  known_hosts_dir:
    description:
      - Directory of the per-order known_hosts files (the same as M(clore.ai.clore_order) and the inventory use).
      - Defaults to E(CLORE_KNOWN_HOSTS_DIR), else C(known_hosts) in the state directory.
    type: path
extends_documentation_fragment:
  - clore.ai.clore
  - clore.ai.pricing
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
seealso:
  - plugin: clore.ai.clore
    plugin_type: inventory
    description: The same orders as inventory hosts, ready for SSH.
  - module: clore.ai.clore_order
"""

EXAMPLES = r"""
- name: My active orders (the key from CLORE_API_KEY)
  clore.ai.clore_order_info:
  register: clore_orders

- name: Each order's server, spend so far and SSH endpoint
  ansible.builtin.debug:
    msg: >-
      order {{ item.id }} on server {{ item.server_id }} ({{ item.gpu_count }}x {{ item.gpu_model }}):
      spent {{ item.spend }} {{ item.currency }},
      {{ item.ssh_command if item.ready else 'not reachable yet (' ~ item.status ~ ')' }}
  loop: "{{ clore_orders.orders }}"
  loop_control:
    label: "{{ item.id }}"

- name: One order, including it if it has ended
  clore.ai.clore_order_info:
    order_ids: [41234]
    return_completed: true
  register: clore_one

- name: Fail when it has ended
  ansible.builtin.assert:
    that: not clore_one.orders[0].expired
  when: clore_one.count == 1

- name: The orders on two servers, against clore-sim
  clore.ai.clore_order_info:
    api_url: http://127.0.0.1:8199/v1
    server_ids: [12, 17]
  register: clore_on_servers
"""

RETURN = r"""
orders:
  description: The orders, in the order the API lists them.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The order id (for O(clore.ai.clore_order#module:order_id), and C(cancel_order)).
      type: int
      sample: 41234
    server_id:
      description: The id of the rented server (C(si)).
      type: int
      sample: 17
    image:
      description: The Docker image of the order.
      type: str
      sample: cloreai/ubuntu22.04-jupyter
    currency:
      description: The currency the order is paid in.
      type: str
      sample: USD-Blockchain
    price:
      description: Same as RV(orders[].price_per_day).
      type: float
      sample: 4.8
    price_per_day:
      description: The price per day in RV(orders[].currency); for a spot order, the current bid.
      type: float
      sample: 4.8
    price_per_hour:
      description: RV(orders[].price_per_day) divided by 24.
      type: float
      sample: 0.2
    usd_per_day:
      description:
        - The price per day in US dollars by the price model - the order's own RV(orders[].original_price_usd), else
          for an order paid in a coin the coin's rate (from the marketplace answer, one C(spot_marketplace) call, or
          O(usd_rates)); null when no rate is known. RV(orders[].usd_source) says which.
      type: float
      sample: 4.8
    usd_per_hour:
      description: RV(orders[].usd_per_day) divided by 24, or null.
      type: float
      sample: 0.2
    usd_source:
      description:
        - Where RV(orders[].usd_per_day) came from - C(usd_coin) (an order paid in USD-Blockchain),
          C(original_price_usd) (the order's own dollar price), or a coin rate (C(market_rates), C(spot_marketplace),
          C(usd_rates), in M(clore.ai.clore_order_info) only); null when nothing prices the order.
      type: str
      sample: original_price_usd
    original_price_usd:
      description: The order's price per day in US dollars as the API gives it (newer API versions); else null.
      type: float
      sample: 4.8
    spend:
      description: The amount spent so far, in the order's currency.
      type: float
      sample: 0.35
    creation_fee:
      description: The creation fee charged for the order.
      type: float
      sample: 0.0
    created_at:
      description: The creation time, Unix seconds.
      type: int
      sample: 1718000000
    age_seconds:
      description: Seconds since the order was created.
      type: int
      sample: 3600
    mrl:
      description:
        - The order's maximum rental length C(mrl) as the API sends it, in hours (recorded rentals end exactly
          C(mrl) hours after they start). A value above 3000, the longest rental Clore allows, is in seconds, as
          older sources send it.
      type: float
      sample: 240
    mrl_seconds:
      description: The order's maximum rental length in seconds (RV(orders[].mrl) hours x 3600, or as sent when
        above 3000).
      type: int
      sample: 864000
    time_left_seconds:
      description:
        - How long the rental may still run, RV(orders[].mrl_seconds) - (now - C(ct)), never below 0.
      type: int
      sample: 860400
    spot:
      description: Whether the order is a spot order (else on-demand).
      type: bool
      sample: false
    expired:
      description: Whether the order has ended (only with O(return_completed=true)).
      type: bool
      sample: false
    online:
      description: Whether the server is online.
      type: bool
      sample: true
    status:
      description: V(running) when the container runs, else V(deploying).
      type: str
      choices: [deploying, running]
      sample: running
    gpu_model:
      description: The GPU model of the rented server.
      type: str
      sample: NVIDIA GeForce RTX 4090
    gpu_count:
      description: The number of GPUs.
      type: int
      sample: 1
    gpu_ram_gb:
      description: GPU memory per GPU, GB.
      type: float
      sample: 24
    country:
      description: The server's country code.
      type: str
      sample: DE
    ssh_host:
      description: The public host name for SSH (the first of C(pub_cluster)); null until provisioned.
      type: str
      sample: n1.c1.clorecloud.net
    ssh_port:
      description: The public port mapped to the container's port 22; null until provisioned.
      type: int
      sample: 10000
    ssh_user:
      description: The SSH user of Clore containers.
      type: str
      sample: root
    ssh_command:
      description: The command to log in, once RV(orders[].ready); else null.
      type: str
      sample: ssh -p 10000 root@n1.c1.clorecloud.net
    http_port:
      description: The container port served over HTTPS, if any.
      type: str
      sample: "8888"
    http_url:
      description: The HTTPS URL of that port (C(https://<http_pub>)), if any.
      type: str
      sample: https://abc123.clorecloud.net
    ready:
      description:
        - Whether the SSH host and port are known. The container's SSH may still refuse connections for a while;
          after M(clore.ai.clore_order) with O(clore.ai.clore_order#module:wait) and port 22 published, its SSH
          banner has answered too.
      type: bool
      sample: true
    ssh_endpoint_error:
      description:
        - Why the order has no SSH endpoint although the API sent one - its host name or a port is not safe to hand
          to ssh, or cannot be read. Null otherwise.
        - Such an order is never RV(orders[].ready) and never contacted, but M(clore.ai.clore_order) counts, keeps and
          cancels it like any other (it costs money). Cancel it, or ask Clore.ai support about it.
      type: str
      sample: null
    tcp_ports:
      description: Container port to public port, for every TCP port of the order.
      type: dict
      sample: {"22": 10000, "8888": 10001}
    age_hours:
      description: The order's age in hours on the service's clock (null without a creation time).
      type: float
      sample: 26.5
    spend_usd:
      description: The spend so far in US dollars (at the market's rates for a coin; null when no rate is known).
      type: float
      sample: 3.12
    lifetime_due_at:
      description: When the lifetime recorded by M(clore.ai.clore_order) ends (Unix seconds), or null.
      type: float
      sample: null
    lifetime_expired:
      description: Whether that lifetime has passed.
      type: bool
      sample: false
    known_hosts_file:
      description:
        - With O(host_key_checking=per_order), this order's own known_hosts file under O(known_hosts_dir)
          (C(order-<id>-<created_at>)), the file the C(clore.ai.clore) inventory uses for the same order; else null.
      type: str
      sample: /home/me/.cache/clore.ai/known_hosts/order-41234-1718000000
    ssh_common_args:
      description:
        - The SSH options of the O(host_key_checking) policy, ready for C(ansible_ssh_common_args) (for example in
          C(ansible.builtin.add_host)); the same the C(clore.ai.clore) inventory sets.
      type: str
      sample: "-o UserKnownHostsFile=/home/me/.cache/clore.ai/known_hosts/order-41234-1718000000
        -o StrictHostKeyChecking=accept-new"
orders_by_id:
  description: The same orders keyed by order id (as a string).
  returned: success
  type: dict
  sample: {"41234": {"id": 41234, "server_id": 17, "ssh_command": "ssh -p 10000 root@n1.c1.clorecloud.net"}}
count:
  description: The number of orders returned.
  returned: success
  type: int
  sample: 2
spend_by_currency:
  description: The spend of the returned orders added up per currency (rounded to 8 decimals).
  returned: success
  type: dict
  sample: {"USD-Blockchain": 1.25}
usd_per_day_total:
  description: What the returned orders cost per day together, in US dollars (orders without a known rate left out).
  returned: success
  type: float
  sample: 12.4
missing_order_ids:
  description: The requested O(order_ids) not among the returned orders (ended ones are returned only with O(return_completed)).
  returned: success
  type: list
  elements: int
  sample: []
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.currencies import USD
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import HOST_KEY_POLICIES
from ansible_collections.clore.ai.plugins.module_utils.order_info import run_order_info
from ansible_collections.clore.ai.plugins.module_utils.pricing import USD_RATES_SPEC

ARGUMENT_SPEC = {
    "order_ids": {"type": "list", "elements": "int", "aliases": ["ids"]},
    "server_ids": {"type": "list", "elements": "int"},
    "return_completed": {"type": "bool", "default": False},
    "older_than": {"type": "str"},
    "spend_over": {"type": "dict", "options": {"amount": {"type": "float", "required": True},
                                               "currency": {"type": "str", "default": USD}}},
    "images": {"type": "list", "elements": "str"},
    "gpu": {"type": "list", "elements": "str"},
    "lifetime_expired": {"type": "bool"},
    "host_key_checking": {"type": "str", "default": "per_order", "choices": list(HOST_KEY_POLICIES)},
    "known_hosts_dir": {"type": "path", "fallback": (env_fallback, ["CLORE_KNOWN_HOSTS_DIR"])},
    **USD_RATES_SPEC,
}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_order_info)


if __name__ == "__main__":
    main()
