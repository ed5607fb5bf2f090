#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_order: rent and cancel Clore.ai servers, exactly once, with fail-over, a budget and readiness by SSH."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_order
short_description: Rent and cancel Clore.ai GPU servers, idempotently and exactly once
version_added: 0.1.0
description:
  - Rents servers on the Clore.ai marketplace (on-demand or spot), keeps a fleet at a given size, changes spot bids,
    and cancels orders.
  - "Orders carry no name or label, so a task says which orders it means in exactly one way: O(order_id) (that
    order), O(server_id) (my active order on that server), or a fleet: O(count) plus O(image) and the same server
    filters as M(clore.ai.clore_market_info). A fleet's members are my active orders whose image equals O(image) and
    whose server specs pass the hardware filters (O(gpu), O(gpu_count_min), O(gpu_count_max), O(gpu_ram_min),
    O(ram_min), O(cuda_min), O(countries), O(exclude_countries))."
  - For a fleet, the market filters choose which free servers are rented and O(sort_by) in which order they are tried.
    With O(server_id), O(max_price) is checked on that server's live price and the task refuses when it is above.
  - O(max_price) holds for the currency the order pays in. Without O(currency), the first of USD-Blockchain,
    CLORE-Blockchain, bitcoin whose price (on-demand, or the spot bid) is within the cap is used; a server with none
    is skipped. An explicit O(currency) whose price is above the cap is refused.
  - "Exactly once: my orders are read before anything is created. create_order answers without an order id, so the
    new order is found in my_orders (same server, same image, created after the attempt). When the outcome of a
    create is unclear (timeout, dropped connection, HTTP 5xx, code 1) the module looks for the order for up to
    O(reconcile_timeout) seconds and adopts it when found; it creates again only when the order is proven absent."
  - Fail-over - when the chosen server is taken or refuses (server-already-rented, server-offline, too_low_price,
    currency-not-allowed, or it vanished from the market) the next candidate is tried, up to O(max_attempts) per
    order; every skipped candidate is returned with its reason.
  - A second run with the same arguments reports C(changed=false) and sends no POST.
  - Check mode sends no POST and returns what it would rent (servers and prices), cancel or re-bid; the budget is
    enforced in check mode too. With C(--diff) the orders before and after are shown, without secrets.
  - Tasks on the same controller that use the same API key and image are serialised by a lock file next to the rate
    limiter's state, so that forks or several hosts running the same fleet task never rent it twice.
  - See docs/order.md in the collection for a walk-through of every mode.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  state:
    description:
      - V(present) makes the identified orders exist (renting what is missing); V(absent) cancels them.
    type: str
    choices: [present, absent]
    default: present
  order_id:
    description:
      - Identify one order by its id. With O(state=present) the order must exist (it is kept, its spot bid adjusted);
        an order cannot be created by id.
      - Mutually exclusive with O(server_id) and O(count); one of the three is required. 1 or more.
    type: int
  server_id:
    description:
      - Identify my active order on this server (there is at most one). With O(state=present) the server is rented
        when I have no order on it.
      - Mutually exclusive with O(order_id) and O(count). 1 or more.
    type: int
  count:
    description:
      - Identify a fleet; the number of orders it should have. Needs O(image).
      - With O(state=present) the missing ones are rented from the best matching free servers (sorted by O(sort_by)).
      - Mutually exclusive with O(order_id) and O(server_id). A whole number, 0 or more (a boolean such as V(true)
        is refused, not read as 1).
    type: int
  exact:
    description:
      - For a fleet with O(state=present), also cancel the members beyond O(count), most expensive first.
    type: bool
    default: false
  image:
    description:
      - The Docker image to run, for example V(cloreai/ubuntu22.04-jupyter); a leading V(docker.io/) is dropped.
      - Required with O(state=present) for O(server_id) and for every fleet (it tells a fleet's orders from others).
    type: str
  type:
    description: On-demand or spot (a bid that can be outbid).
    type: str
    choices: [on-demand, spot]
    default: on-demand
  spot_price:
    description:
      - The spot bid per day, in O(currency), a finite number above 0. Required when O(type=spot) (and then
        O(currency) is required too).
      - When an existing spot order's bid differs, it is changed with set_spot_price. Raising is immediate; Clore
        limits lowering (a step limit, and once every 600 seconds) and the module then fails saying by how much or
        when.
    type: float
  currency:
    description:
      - The currency to pay in (V(USD-Blockchain), V(CLORE-Blockchain), V(bitcoin); V(USD), V(CLORE), V(BTC) accepted).
        Only servers that accept it are rented.
      - By default the first currency the server accepts in the order USD-Blockchain, CLORE-Blockchain, bitcoin.
    type: str
  ports:
    description:
      - 'Ports to publish: C({"<container port>": "tcp" or "http"}), at most one V(http).'
      - 'Defaults to C({"22": "tcp"}), which the SSH readiness check needs. Without port 22, waiting ends when the order
        is listed.'
    type: dict
  ssh_key:
    description: An SSH public key for root in the container (at most 3072 characters).
    type: str
  ssh_password:
    description:
      - A root password for SSH; letters and digits only, 8 to 32 characters. Never returned or logged.
      - Ansible hides every occurrence of it in the task's output, so a shorter one would also make messages unreadable.
    type: str
  jupyter_token:
    description: A Jupyter token, 8 to 32 characters. Never returned or logged.
    type: str
  env:
    description:
      - Environment variables for the container. Keys at most 128 characters, values at most 1536 and without C(&)
        (Clore answers code 1 to it), all of it at most 12288 characters as JSON. Values are never returned or logged.
    type: dict
  command:
    description: A shell command run when the container starts.
    type: str
  required_price:
    description:
      - The per-day price you expect (a finite number above 0); Clore refuses the order if the live price differs.
    type: float
  autossh_entrypoint:
    description: Wrap the image's entrypoint so that sshd runs (for images without their own sshd).
    type: bool
  recreate:
    description:
      - When an existing order differs from the task in what cannot be changed in place (image, type, currency), cancel
        it and rent again. Without it such a difference is only reported as a warning.
      - Secrets, ports, env and command are not returned by the API and so cannot be compared.
    type: bool
    default: false
  budget:
    description:
      - The most the fleet may cost per day after renting (its kept orders plus the new ones), checked on live market
        prices before any create and again for each fail-over candidate; refusing says by how much it would exceed.
    type: dict
    suboptions:
      amount:
        description: The per-day amount, a finite number, 0 or more.
        type: float
        required: true
      currency:
        description: V(USD) (converted with the market's own dollar figures) or a coin.
        type: str
        default: USD
  max_attempts:
    description: How many servers to try for each order before giving up (fail-over).
    type: int
    default: 5
  reconcile_timeout:
    description: Seconds to look for an order in my_orders after a create or cancel whose outcome was unclear.
    type: int
    default: 60
  wait:
    description:
      - Wait until every order of the task is ready - listed, its host and the public port of container port 22 known,
        and that port answering with an C(SSH-) banner.
    type: bool
    default: true
  wait_timeout:
    description:
      - One deadline in seconds for the whole task. On timeout the task fails naming the stage reached and the order
        ids; the orders stay (they cost money) unless O(cancel_on_failure=true).
    type: int
    default: 900
  cancel_on_failure:
    description:
      - When the task fails after it rented orders (wait timeout, fail-over exhausted), cancel the orders this run
        rented. Orders that existed before the task are never cancelled by this.
    type: bool
    default: false
  issue:
    description: With O(state=absent), a report of a problem with the server sent with the cancel (at most 2048 characters).
    type: str
  available_only:
    description: Only free, online servers are rented whatever this says; kept for symmetry with clore_market_info.
    type: bool
    default: true
extends_documentation_fragment:
  - clore.ai.clore
  - clore.ai.market_filters
attributes:
  check_mode:
    support: full
    description: No POST is sent; the result says what would be rented (servers, prices), cancelled or re-bid.
  diff_mode:
    support: full
    description: The identified orders before and after, without secrets.
notes:
  - Renting costs money from the second the order exists. Test playbooks against clore-sim first.
"""

EXAMPLES = r"""
- name: Rent the cheapest free RTX 4090 (a fleet of one), wait for SSH
  clore.ai.clore_order:
    count: 1
    gpu: ["RTX 4090"]
    image: cloreai/ubuntu22.04-jupyter
    ssh_key: "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
    max_price: {amount: 0.5, currency: USD, per: hour}
  register: rented

- name: Show how to reach it
  ansible.builtin.debug:
    msg: "{{ rented.orders[0].ssh_command }}"

- name: Keep exactly four spot servers with 2+ GPUs, bidding 3 CLORE a day each, within 20 USD a day in all
  clore.ai.clore_order:
    count: 4
    exact: true
    gpu_count_min: 2
    image: nvidia/cuda:12.1.0-devel-ubuntu22.04
    autossh_entrypoint: true
    type: spot
    currency: CLORE-Blockchain
    spot_price: 3
    budget: {amount: 20, currency: USD}
    ssh_key: "{{ my_public_key }}"

- name: Rent one particular server
  clore.ai.clore_order:
    server_id: 1234
    image: cloreai/ubuntu22.04-jupyter
    ports: {"22": "tcp", "8888": "http"}
    jupyter_token: "{{ vault_jupyter_token }}"

- name: Raise the bid of an existing spot order
  clore.ai.clore_order:
    order_id: 98765
    type: spot
    currency: CLORE-Blockchain
    spot_price: 4.5
    wait: false

- name: Cancel the fleet, reporting a problem
  clore.ai.clore_order:
    state: absent
    count: 0
    gpu: ["RTX 4090"]
    image: cloreai/ubuntu22.04-jupyter
    issue: GPU 0 fell off the bus twice
"""

RETURN = r"""
orders:
  description: The identified orders after the task (kept, created and adopted; none of them with a secret).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The order id.
      type: int
    server_id:
      description: The rented server.
      type: int
    image:
      description: The image the order runs.
      type: str
    gpu_model:
      description: GPU model of the server.
      type: str
    gpu_count:
      description: Number of GPUs.
      type: int
    price:
      description: Price per day in RV(orders[].currency) (for spot, the current bid).
      type: float
    price_per_day:
      description: Same as RV(orders[].price).
      type: float
    currency:
      description: The currency the order pays in.
      type: str
    spot:
      description: Whether it is a spot order.
      type: bool
    status:
      description: V(deploying) or V(running), as the API reports it.
      type: str
    ready:
      description: Whether the SSH host and port are known.
      type: bool
    ssh_host:
      description: Host to connect to.
      type: str
    ssh_port:
      description: Public port of the container's port 22.
      type: int
    ssh_user:
      description: Always V(root).
      type: str
    ssh_command:
      description: A ready ssh command line.
      type: str
      sample: ssh -p 10000 root@n1.c1.clorecloud.net
    http_url:
      description: The HTTPS URL of the order's http port, if one was published.
      type: str
    created_at:
      description: Creation time, Unix seconds.
      type: int
created:
  description: Ids of the orders this run rented.
  returned: always
  type: list
  elements: int
adopted:
  description: Ids of the orders found after a create whose outcome was unclear (rented by this run all the same).
  returned: always
  type: list
  elements: int
kept:
  description: Ids of the orders that already existed and stay.
  returned: always
  type: list
  elements: int
cancelled:
  description: Ids of the orders this run cancelled.
  returned: always
  type: list
  elements: int
repriced:
  description: Ids of the spot orders whose bid this run changed.
  returned: always
  type: list
  elements: int
skipped:
  description: Candidates passed over by fail-over or the budget, each with its reason.
  returned: always
  type: list
  elements: dict
  sample: [{"server_id": 12, "price_per_day": 7.2, "currency": "USD-Blockchain", "reason": "server-already-rented"}]
excluded:
  description: When a fleet looked for servers, how many each filter (or order constraint) excluded.
  returned: always
  type: dict
would_create:
  description: In check mode, the servers that would be rented, with price, currency and GPU.
  returned: check mode
  type: list
  elements: dict
would_cancel:
  description: In check mode, the ids of the orders that would be cancelled.
  returned: check mode
  type: list
  elements: int
would_reprice:
  description: In check mode, the bids that would change (id, from, to, currency).
  returned: check mode
  type: list
  elements: dict
msg:
  description: A one-line summary of what was (or would be) done.
  returned: always
  type: str
"""

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils._order.args import ORDER_ARGUMENT_RULES, ORDER_ARGUMENT_SPEC
from ansible_collections.clore.ai.plugins.module_utils.order import run_order


def main() -> None:
    run_module(ORDER_ARGUMENT_SPEC, run_order, **ORDER_ARGUMENT_RULES)


if __name__ == "__main__":
    main()
