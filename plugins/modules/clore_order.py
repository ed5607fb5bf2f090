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
    filters as M(clore.ai.clore_market_info). A fleet's members are my active orders whose image is O(image)
    (compared as Docker references, so V(ubuntu), V(ubuntu:latest) and V(docker.io/library/ubuntu:latest) are one
    image) and whose server specs pass the hardware filters (O(gpu), O(gpu_count_min), O(gpu_count_max), O(gpu_ram_min),
    O(ram_min), O(cuda_min), O(countries), O(exclude_countries))."
  - For a fleet, the market filters choose which free servers are rented and O(sort_by) in which order they are tried.
    With O(server_id), O(max_price) is checked on that server's live price and the task refuses when it is above.
  - "The price paid is the price compared: an on-demand order pays in the cheapest, in US dollars, of the currencies
    the server accepts that O(currencies) allows (docs/market.md, How prices are compared), and servers are tried
    in that price's order. O(max_price) holds for that currency; when the cheapest is above a cap in a coin, the
    cheapest within it is used; a server with none is skipped. RV(would_create) and RV(currency_choices) say which
    currency was chosen, its dollar price, where that figure came from and why."
  - A rental in a currency O(currencies) does not allow never happens.
  - "Exactly once: my orders are read before anything is created. create_order answers without an order id, so the
    new order is found in my_orders (an id not seen before, same server, same image, created no earlier than the
    newest creation time seen before the create: Clore's own clock, so the controller's clock may be off by any
    amount). After an accepted create, a new order on that server listed under another spelling of the image is
    still the new order. When the outcome of a create is unclear (timeout, dropped connection, HTTP 5xx, code 1) the
    module looks for the order for up to O(reconcile_timeout) seconds and adopts it when found; it creates again only
    when the order is proven absent, and never tries another server while the first one may be rented."
  - "Each create is recorded in the state directory (O(api_state_dir)) before it is queued behind the rate limiter,
    marked each time it leaves for the wire (every retry after a 429 too), and cleared once its order is found or
    proven absent. A run killed in between leaves the record: the next run with the same key and image first waits
    for that order to be listed (up to O(reconcile_timeout) + 30 seconds after its last sending, however long it had
    waited before) and adopts it, or drops the record with a warning saying nothing was rented, before it rents
    anything. A record never marked sent by a process that is gone is dropped at once: that create never left."
  - Fail-over - when the chosen server is taken or refuses (server-already-rented, server-offline, too_low_price,
    currency-not-allowed, or it vanished from the market) the next candidate is tried, up to O(max_attempts) per
    order; every candidate passed over is returned in RV(skipped_servers) with its reason.
  - A server the same API key hosts (the marketplace's C(my_servers)) is never rented - renting it would cost a fee
    for nothing. With O(server_id) the task refuses before any create; a fleet skips such servers, each listed in
    RV(skipped_servers) and counted as C(own_server) in RV(excluded).
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
  allow_partial:
    description:
      - For a fleet with O(state=present), rent what matches when fewer than the missing servers match (or fit
        O(budget) or O(max_price), or are won within O(spot_max_price), or fail-over runs out of servers) and
        return how far short the fleet is in RV(shortfall), instead of failing without renting.
      - Check mode says what it would rent and the shortfall. A later run rents what has become available and reports
        what is still short.
      - An unclear create, a refusal that no other server would change (C(not_enough_balance)), and
        O(account_budget) still fail the task.
      - Only for a fleet (O(count)).
    type: bool
    default: false
  surplus:
    description:
      - For a fleet with O(state=present), what to do when, after this run rented, more active orders match the
        fleet (its image and hardware filters) than O(count). That happens only when another run rented the same
        fleet at the same time without sharing this controller's locks and records (another controller, or a run
        after the state directory was deleted).
      - V(release) cancels the newest orders beyond O(count), warns, and lists them in RV(released); every run that
        sees the surplus picks the same newest ones, so two racing runs agree on which to cancel.
      - V(keep) leaves them, warns, and lists them in RV(surplus).
    type: str
    choices: [release, keep]
    default: release
  image:
    description:
      - The Docker image to run, for example V(cloreai/ubuntu22.04-jupyter); a leading V(docker.io/) is dropped.
      - It must be a reference Docker accepts (a lowercase repository, an optional V(:tag) or V(@digest)); anything
        else, such as V(UPPER/Case::bad), is refused before any API call.
      - Required with O(state=present) for O(server_id) and for every fleet (it tells a fleet's orders from others).
    type: str
  type:
    description: On-demand or spot (a bid that can be outbid).
    type: str
    choices: [on-demand, spot]
    default: on-demand
  spot_price:
    description:
      - A fixed spot bid per day, in O(currency), a finite number above 0. With O(type=spot) give this or
        O(spot_max_price), not both (and O(currency) is required).
      - When an existing spot order's bid differs, it is changed with set_spot_price. Raising is immediate; Clore
        limits lowering (a step limit, and once every 600 seconds) and the module then fails saying by how much or
        when.
    type: float
  spot_max_price:
    description:
      - The most you will pay per day for one spot order, in O(currency). The module then bids the least that wins
        each server - the larger of the host's minimum and the top rival bid plus O(spot_bid_step) - and never bids
        above this cap. See C(docs/spot.md).
      - A fleet also considers servers other renters hold on spot when winning them stays within the cap, after the
        free servers, whenever those are too few or fail (offline or taken) - one C(spot_marketplace) read each, only
        as needed, at most O(spot_candidates). Those that need more are listed in RV(skipped_servers) with the bid
        needed.
      - With O(server_id), a server held by a rival on spot is bid for within the cap, or the task fails naming the
        rival bid and the cap.
      - Mutually exclusive with O(spot_price); only with O(type=spot).
    type: float
  spot_bid_step:
    description:
      - How much above the top rival bid the module bids, per day in O(currency), with O(spot_max_price).
      - Default about one US cent a day - V(0.01) USD-Blockchain, V(1) CLORE-Blockchain, V(0.0000002) bitcoin.
    type: float
  spot_rebid:
    description:
      - With O(spot_max_price), raise the bid of a spot order that does not run (outbid, or waiting below another
        bid) to the least that wins, when that is within the cap. An order that cannot win within the cap is
        cancelled (it holds no server) and reported in RV(outbid); a fleet rents a replacement.
      - Default true with O(spot_max_price). Set false to report such orders without raising their bid.
    type: bool
  spot_candidates:
    description:
      - With O(spot_max_price), at most this many servers rented by others are read (one C(spot_marketplace) call
        each) when a fleet looks for servers to outbid, and at most this many ended orders are checked for being
        outbid. V(0) considers free servers only.
    type: int
    default: 10
  currency:
    description:
      - The currency to pay in (V(USD-Blockchain), V(CLORE-Blockchain), V(bitcoin); V(USD), V(CLORE), V(BTC) accepted).
        Only servers that accept it are rented. The same as O(currencies) with one element.
      - Required for O(type=spot) (or O(currencies) with one coin), as a bid is a number in one currency.
    type: str
  currencies:
    description:
      - The currencies the order may be paid in; by default every currency the server accepts. Same names and
        aliases as O(currency).
      - Each server is paid in the cheapest of these in US dollars per day (ties in the order USD-Blockchain,
        CLORE-Blockchain, bitcoin), and servers are ranked by that price. A wallet that holds only USD-Blockchain
        says V([USD-Blockchain]).
    type: list
    elements: str
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
  dockerhub_auth:
    description:
      - Credentials for a B(private) Docker Hub O(image), sent to Clore as C(dockerhub_auth). Clore does not document
        their format; its newest public client passes them as one string.
      - A secret, as O(ssh_password) is. Never returned, logged or shown in a diff.
    type: str
  remember_password:
    description: Ask Clore to keep O(ssh_password) for later orders (C(remember_password)).
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
      - A number alone is its O(budget.amount) in USD (V(budget=20) means 20 USD per day).
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
  account_budget:
    description:
      - The most all active orders of the key may cost per day together, whoever rented them. Before any create the
        module adds the live price of every active order of the key to what it is about to rent and refuses (before
        any POST, in check mode too) when the sum would pass this cap, saying the current total, the new total and
        the cap. Orders this task cancels do not count.
      - On top of O(budget) (this task's fleet) and O(max_price) (each server); fail-over holds each server to both.
      - Runs of this controller with the same key take turns from the cap's check until their new orders are listed
        (whatever their images), each reading the key's orders afresh, so that two of them cannot both pass the cap
        on one reading. Controllers that share no state directory do not take turns (see C(docs/awx.md)).
      - Set it once for every task with C(module_defaults) for C(clore.ai.clore_order).
      - A number alone is its O(account_budget.amount) in USD per day (V(account_budget=25) means 25 USD per day); a
        boolean or any other value that is not a dict is refused naming the option.
    type: dict
    suboptions:
      amount:
        description: The per-day amount, a finite number (V(.inf) and V(.nan) are refused).
        type: float
        required: true
      currency:
        description: V(USD) (converted with the market's own dollar figures) or a coin.
        type: str
        default: USD
  bad_server_ttl:
    description:
      - Hours a server recorded as bad on this controller is passed over when a fleet chooses servers (see
        M(clore.ai.clore_bad_servers)). V(0) turns the memory off (nothing is recorded or skipped).
      - A server is recorded when its order's SSH never answered with a banner within O(wait_timeout), or when an
        on-demand order this task rented ended by itself while the task waited for it. The reason is sent as the
        C(issue) when O(cancel_on_failure) cancels that order.
      - A finite number of hours, 0 or more.
    type: float
    default: 24
  lifetime_hours:
    description:
      - A lifetime for the orders of this task, recorded on this controller (in the state directory); each order
        without one is due this many hours after its creation. Running the task again does not push it back.
      - C(playbooks/reap.yml) cancels orders whose lifetime has passed, even if the playbook that rented them never
        ran its release step; M(clore.ai.clore_order_info) shows it as C(lifetime_due_at).
      - A finite number of hours above 0 (V(.nan) and V(.inf) are refused, since such an order would never be due).
    type: float
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
      - The banners of a fleet are probed in parallel, each probe within the time left. While banners are awaited,
        my_orders is still read every few seconds, so that an order that ends (outbid, cancelled elsewhere, expired)
        fails the task at once, naming it.
    type: bool
    default: true
  wait_timeout:
    description:
      - One deadline in seconds for the whole task; the wait ends by it (plus at most one short banner probe). On
        timeout the task fails naming the stage reached and the order ids; the orders stay (they cost money) unless
        O(cancel_on_failure=true). The message says which orders of this run still exist and which ended, as
        my_orders (ended orders included) shows them.
    type: int
    default: 900
  cancel_on_failure:
    description:
      - When the task fails after it rented orders (wait timeout, an order ended, fail-over exhausted), cancel the
        orders this run rented that still exist. Orders that existed before the task are never cancelled by this.
    type: bool
    default: false
  issue:
    description: With O(state=absent), a report of a problem with the server sent with the cancel (at most 2048 characters).
    type: str
  missing_ok:
    description:
      - With O(state=absent) and O(order_id) only. When the key has no such order, active or ended, the task fails
        naming O(order_id) (a mistyped id would otherwise cancel nothing in silence and drop the O(issue) report);
        V(true) accepts such an id as already absent (unchanged, with a warning if O(issue) was not sent).
      - An order that has already ended is absent as asked either way.
    type: bool
    default: false
  host_key_checking:
    description:
      - The host-key policy behind RV(orders[].ssh_common_args), the same as the C(clore.ai.clore) inventory's.
      - V(per_order) - a known_hosts file per order under O(known_hosts_dir), with
        C(StrictHostKeyChecking=accept-new); a new container is trusted on first contact, a key that changes during
        the order is refused.
      - V(strict) - C(StrictHostKeyChecking=yes) against your own known_hosts, which must already hold each
        container's key.
      - V(off) - no checking (C(UserKnownHostsFile=/dev/null), C(StrictHostKeyChecking=no)); only for throwaway tests.
    type: str
    choices: [per_order, strict, "off"]
    default: per_order
  known_hosts_dir:
    description:
      - Directory of the per-order known_hosts files, created (mode 0700) outside check mode when missing.
      - Default C(known_hosts) under the state directory (O(api_state_dir)), the same default the C(clore.ai.clore)
        inventory uses.
      - If not set, the environment variable E(CLORE_KNOWN_HOSTS_DIR) is used.
    type: path
  available_only:
    description: Only free, online servers are rented whatever this says; kept for symmetry with clore_market_info.
    type: bool
    default: true
extends_documentation_fragment:
  - clore.ai.clore
  - clore.ai.market_filters
  - clore.ai.pricing
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

- name: Reach it from the next play, its host key checked against its own known_hosts file
  ansible.builtin.add_host:
    name: "clore-{{ item.id }}"
    groups: rented
    ansible_host: "{{ item.ssh_host }}"
    ansible_port: "{{ item.ssh_port }}"
    ansible_user: root
    ansible_ssh_common_args: "{{ item.ssh_common_args }}"
  loop: "{{ rented.orders }}"

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

- name: Up to four RTX 4090 within 40 USD a day; fewer if that is all that matches (see shortfall)
  clore.ai.clore_order:
    count: 4
    allow_partial: true
    gpu: ["RTX 4090"]
    image: cloreai/ubuntu22.04-jupyter
    budget: {amount: 40, currency: USD}
    ssh_key: "{{ my_public_key }}"
  register: fleet

- name: Say how far short the fleet is, and why
  ansible.builtin.debug:
    msg: "{{ fleet.shortfall.count }} short: {{ fleet.shortfall.reasons }}"
  when: fleet.shortfall.count > 0

- name: Never let all my orders together cost more than 50 USD a day (every clore_order task of the play)
  module_defaults:
    clore.ai.clore_order:
      account_budget: {amount: 50, currency: USD}
  block:
    - name: Rent two more
      clore.ai.clore_order:
        count: 2
        image: cloreai/ubuntu22.04-jupyter

- name: Keep two spot RTX 4090 servers, paying at most 200 CLORE a day each, outbidding others within that
  clore.ai.clore_order:
    count: 2
    gpu: ["RTX 4090"]
    image: cloreai/ubuntu22.04-jupyter
    type: spot
    currency: CLORE-Blockchain
    spot_max_price: 200
    spot_bid_step: 2
  register: spot_fleet

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
surplus:
  description:
    - Fleet orders beyond O(count) found right after this run rented (another run rented the same fleet at the
      same time), newest last; cancelled with O(surplus=release) (then also in RV(released) and RV(cancelled)),
      kept with O(surplus=keep).
  returned: always
  type: list
  elements: int
  sample: []
released:
  description:
    - The orders of RV(surplus) this run cancelled (O(surplus=release)); also in RV(cancelled).
  returned: always
  type: list
  elements: int
  sample: []
orders:
  description:
    - The identified orders after the task (kept, created and adopted), none of them with a secret.
    - Each has the fields of an order as M(clore.ai.clore_order_info) returns it, described alike, but for the
      figures only that module adds (C(age_hours), C(spend_usd), C(lifetime_due_at), C(lifetime_expired)); here
      RV(orders[].usd_per_day) is known only for an order paid in C(USD-Blockchain).
    - Spot orders of a O(type=spot) task also carry the C(spot_*) fields of their spot market.
  returned: always
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
        - The price per day in US dollars, when the order is paid in C(USD-Blockchain) or carries its own
          RV(orders[].original_price_usd); else null.
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
      description: Whether the order has ended; always false here (only active orders are identified).
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
    ssh_endpoint_error:
      description:
        - Why the order has no SSH endpoint although the API sent one - its host name or a port is not safe to hand
          to ssh, or cannot be read. Null otherwise.
        - Such an order is never RV(orders[].ready) and never contacted, but M(clore.ai.clore_order) counts, keeps and
          cancels it like any other (it costs money). Cancel it, or ask Clore.ai support about it.
      type: str
      sample: null
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
    tcp_ports:
      description: Container port to public port, for every TCP port of the order.
      type: dict
      sample: {"22": 10000, "8888": 10001}
    spot_bid:
      description: A spot order's bid per day, in RV(orders[].currency), after any re-bid of this run.
      type: float
      returned: for spot orders of a O(type=spot) task
    spot_active:
      description: Whether the spot order's bid is the one that runs on its server (its spot market's C(active)).
      type: bool
      returned: for spot orders of a O(type=spot) task
    spot_top_rival_bid:
      description: The highest bid of another renter on the server (null when none), in RV(orders[].spot_top_rival_currency).
      type: float
      returned: for spot orders of a O(type=spot) task
    spot_top_rival_currency:
      description: The currency of RV(orders[].spot_top_rival_bid).
      type: str
      returned: for spot orders of a O(type=spot) task
    spot_status:
      description:
        - V(active) (the bid runs), V(waiting) (it stands below another bid), V(outbid) (it cannot win within the
          cap), V(ended) (no longer in its server's spot market), or in check mode V(would run) after a re-bid it
          would make.
      type: str
      returned: for spot orders of a O(type=spot) task
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
outbid:
  description:
    - Spot orders of this task that were outbid - ended because a higher bid took their server (and that server
      still runs a rival bid), or standing without running because a higher bid runs.
    - A standing one that cannot win within O(spot_max_price) is cancelled (C(cancelled) true) so that a fleet
      replaces it; with O(spot_price), the task fails at once instead of waiting for it.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The order id.
      type: int
    server_id:
      description: The server.
      type: int
    currency:
      description: The currency of our bid.
      type: str
    bid:
      description: Our bid, per day in RV(outbid[].currency).
      type: float
    winning_bid:
      description: The top rival bid on the server (the bid that won), per day in RV(outbid[].winning_currency).
      type: float
    winning_currency:
      description: The currency of the winning bid.
      type: str
    bid_needed:
      description: The least bid that would win the server now, in RV(outbid[].currency).
      type: float
    status:
      description: Always V(outbid).
      type: str
    ended:
      description: Whether the order has ended (true), or stands without running (false).
      type: bool
    cancelled:
      description: Whether this run cancelled the standing order because it cannot win within the cap.
      type: bool
      returned: when this run reviewed a standing order with O(spot_max_price)
  sample: [{"id": 412, "server_id": 12, "currency": "CLORE-Blockchain", "bid": 160.0, "winning_bid": 175.0,
            "winning_currency": "CLORE-Blockchain", "bid_needed": 176.0, "status": "outbid", "ended": true}]
created:
  description: Ids of the orders this run rented.
  returned: always
  type: list
  elements: int
adopted:
  description:
    - Ids of the orders found after a create whose outcome was unclear, or left in flight by an earlier run that
      stopped mid-create (rented all the same).
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
skipped_servers:
  description:
    - Candidate servers passed over by fail-over, the price cap, the budget, or because the key hosts them itself,
      each with its reason.
    - Named so (not C(skipped)) because Ansible reads a C(skipped) key as "the task was skipped".
    - With O(spot_max_price), servers rented by others whose win would cost more than the cap are listed too, with
      C(bid_needed) (also in C(price_per_day)) and C(top_rival_bid).
  returned: always
  type: list
  elements: dict
  sample: [{"server_id": 12, "price_per_day": 7.2, "currency": "USD-Blockchain", "reason": "server-already-rented"}]
ended:
  description:
    - Ids of the identified orders that ended while the task waited for them (outbid, cancelled elsewhere, out of
      balance or past their rental length), or that this run created and that ended before C(my_orders) listed them
      as active (a spot bid outbid within a second); they are no longer in RV(orders) and no longer cost money.
    - Only a failed task has any.
  returned: always
  type: list
  elements: int
excluded:
  description:
    - When a fleet looked for servers, how many each filter (or order constraint) excluded.
    - C(own_server) counts matching servers the key hosts itself, which are never rented.
  returned: always
  type: dict
shortfall:
  description:
    - How many servers a fleet lacks after this run (C(count)), and why (C(reasons)); C(count) is 0 when the fleet is
      complete, or the task is not a fleet. With O(allow_partial), the fleet rented what matched; without it, a fleet
      that is short fails, and this says by how much.
    - C(reasons) counts, per reason, the servers left out - under the names RV(excluded) uses (a filter, an order
      constraint, C(available_only) for servers others hold) and the reasons of the servers passed over as in
      RV(skipped_servers) (a fail-over refusal such as C(server-offline), C(over budget) for those over O(budget),
      C(spot_max_price) for those held by rivals whose win would cost more than the cap, C(rented, and not on spot)).
    - In check mode, the shortfall of the servers it would rent.
  returned: always
  type: dict
  contains:
    count:
      description: How many servers the fleet lacks.
      type: int
    reasons:
      description: Per reason, how many servers it left out; empty when nothing is short.
      type: dict
  sample: {"count": 1, "reasons": {"gpu": 41, "available_only": 6, "server-offline": 1}}
bad_servers_skipped:
  description: How many servers the fleet passed over because they are recorded as bad within O(bad_server_ttl).
  returned: always
  type: int
  sample: 0
would_create:
  description:
    - In check mode, the servers that would be rented, with price, currency and GPU, the price in US dollars
      (C(usd_per_day)), where that figure came from (C(usd_source), see M(clore.ai.clore_market_info)'s
      RV(clore.ai.clore_market_info#module:servers[].usd_source_by_currency)) and why that currency
      (C(currency_reason)).
  returned: check mode
  type: list
  elements: dict
  sample: [{"server_id": 10531, "currency": "USD-Blockchain", "price_per_day": 5.8981, "type": "on-demand",
            "gpu_model": "NVIDIA GeForce RTX 4090", "gpu_count": 1, "usd_per_day": 5.8981, "usd_source": "usd_coin",
            "currency_reason": "USD-Blockchain: the cheapest in US dollars per day (USD/day: USD-Blockchain 5.8981,
            CLORE-Blockchain 6.0021)"}]
currency_choices:
  description:
    - For each order this run created, the currency it is paid in and why - the same fields as RV(would_create)
      (C(server_id), C(currency), C(price_per_day), C(usd_per_day), C(usd_source)) with C(order_id), and the
      reason as C(reason).
  returned: always
  type: list
  elements: dict
  sample: [{"order_id": 412, "server_id": 10531, "currency": "USD-Blockchain", "price_per_day": 5.8981,
            "usd_per_day": 5.8981, "usd_source": "usd_coin", "reason": "USD-Blockchain: the only currency allowed
            with a price"}]
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
from ansible_collections.clore.ai.plugins.module_utils.order import ORDER_ARGUMENT_RULES, ORDER_ARGUMENT_SPEC, run_order


def main() -> None:
    run_module(ORDER_ARGUMENT_SPEC, run_order, **ORDER_ARGUMENT_RULES)


if __name__ == "__main__":
    main()
