#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_market_info: search the Clore.ai marketplace with filters, sorted, and say why servers were left out."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_market_info
short_description: Search the Clore.ai GPU marketplace
version_added: 0.1.0
description:
  - Reads the whole Clore.ai marketplace with one C(marketplace) call and returns the servers that pass every filter,
    normalised into flat records for people, C(when:) conditions and sorting.
  - Prices are per day, as Clore lists them; US-dollar figures are also given per hour and per GPU-hour.
  - Each server's dollar price is that of the cheapest currency it may be paid in (O(currencies)), from the best
    evidence there is, which RV(servers[].usd_source) names; O(sort_by=price) and O(max_price) in USD use that
    price. When the marketplace rows price a coin neither directly nor by rate, one C(spot_marketplace) call brings
    the rates, then O(usd_rates); without any, a dollar filter or sort fails naming the coin, never answering
    nothing in silence.
  - Returns, for each filter, how many servers it excluded (each server counted under the first filter it fails, in
    the fixed order O(server_ids), O(available_only), O(gpu), O(gpu_count_min), O(gpu_count_max), O(gpu_ram_min),
    O(ram_min), O(cuda_min), O(countries), O(exclude_countries), O(reliability_min), O(currency), O(currencies),
    O(max_price)), so
    that an empty result explains itself.
  - Odd marketplace rows never fail the search; a row without a usable server id is left out and counted as
    C(invalid_row) in RV(excluded).
  - With O(server_ids) and O(spot_market=true) it adds each returned server's spot market (offers, the host's minimum
    per currency, currency rates) with one C(spot_marketplace) call per server.
  - Filter values are checked before any API call; a bad value fails naming the option.
  - The module only reads; it never changes anything and runs the same in check mode.
  - The same filters select servers in M(clore.ai.clore_order).
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  bad_server_ttl:
    description:
      - Leave out servers this controller recorded as bad (a failed rental) within this many hours; V(0) returns them
        too. The records are listed and cleared with M(clore.ai.clore_bad_servers).
    type: float
    default: 24
  limit:
    description: Return at most this many servers (after sorting). RV(matched) still counts all of them.
    type: int
  spot_market:
    description:
      - Add each returned server's spot market as RV(servers[].spot_market), one C(spot_marketplace) call per server.
      - Requires O(server_ids), so that the number of calls stays known.
    type: bool
    default: false
extends_documentation_fragment:
  - clore.ai.clore
  - clore.ai.market_filters
  - clore.ai.pricing
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing and returns the same.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - The marketplace is large and has no server-side filters, so every search downloads it whole; filtering, sorting
    and the excluded counts happen on the controller, one server at a time as the answer arrives, so that memory
    grows with the servers returned rather than with the market (with O(limit), only the best are kept).
seealso:
  - module: clore.ai.clore_order
  - module: clore.ai.clore_order_info
"""

EXAMPLES = r"""
- name: The five cheapest free RTX 4090 servers (the key from CLORE_API_KEY)
  clore.ai.clore_market_info:
    gpu: ["RTX 4090"]
    limit: 5
  register: clore_market

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.gpu_count }}x {{ item.gpu_model }} in {{ item.country }}, {{ item.usd_per_day }} USD/day"
  loop: "{{ clore_market.servers }}"

- name: Two or more 24 GB GPUs with CUDA 12.4+, under 0.40 USD per GPU-hour, in Europe, paid in CLORE
  clore.ai.clore_market_info:
    gpu: ["3090", "4090", "A6000"]
    gpu_count_min: 2
    gpu_ram_min: 24
    cuda_min: "12.4"
    countries: [DE, FR, NL, PL, FI, SE, CZ]
    currency: CLORE
    reliability_min: 0.95
    max_price:
      amount: 0.40
      per: gpu_hour
    sort_by: price_per_gpu
  register: clore_market

- name: Free RTX 4090s under 10 USD a day, for a wallet that holds only USD-Blockchain and CLORE
  clore.ai.clore_market_info:
    gpu: ["RTX 4090"]
    currencies: [USD-Blockchain, CLORE-Blockchain]
    max_price:
      amount: 10
    usd_rates:  # only for a coin the marketplace and spot_marketplace do not price
      CLORE-Blockchain: 0.025
  register: clore_market

- name: Say why nothing matched
  ansible.builtin.debug:
    msg: "No server matched of {{ clore_market.total }}; excluded per filter: {{ clore_market.excluded }}"
  when: clore_market.count == 0

- name: Spot offers on two known servers, rented or not
  clore.ai.clore_market_info:
    server_ids: [10001, 10042]
    available_only: false
    spot_market: true
  register: clore_spot

- name: The most reliable servers under 5 CLORE-Blockchain per hour on spot
  clore.ai.clore_market_info:
    max_price:
      amount: 5
      currency: CLORE-Blockchain
      type: spot
      per: hour
    sort_by: reliability
    descending: true
    limit: 10
"""

RETURN = r"""
servers:
  description:
    - The servers that passed every filter, sorted by O(sort_by) and cut to O(limit).
    - Any field may be null when the marketplace does not give it.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The server id, used by C(create_order) and M(clore.ai.clore_order).
      type: int
      sample: 10042
    owner:
      description: The id of the host offering the server.
      type: int
      sample: 4711
    gpu_model:
      description:
        - The GPU model, from C(specs.gpu) (C(2x NVIDIA GeForce RTX 4090)), else from C(gpu_array) (flattened when
          nested); distinct models are joined with C(, ).
      type: str
      sample: NVIDIA GeForce RTX 4090
    gpu_count:
      description: The number of GPUs.
      type: int
      sample: 2
    gpu_ram_gb:
      description: Memory per GPU, in GB.
      type: float
      sample: 24.0
    ram_gb:
      description: System memory, in GB.
      type: float
      sample: 64.0
    cpu:
      description: The CPU model.
      type: str
      sample: AMD Ryzen 9 7950X 16-Core Processor
    cpu_cores:
      description: CPU cores (from C(specs.cpus) "cores/threads").
      type: int
      sample: 16
    cpu_threads:
      description: CPU threads.
      type: int
      sample: 32
    disk:
      description: The disk as the host describes it, C(<drive model> <free space>GB).
      type: str
      sample: Samsung SSD 990 PRO 4TB 3450.9524GB
    disk_model:
      description: The drive model, RV(servers[].disk) without its last size (the model may hold sizes of its own).
      type: str
      sample: Samsung SSD 990 PRO 4TB
    disk_gb:
      description: The free disk space in GB, the last size in RV(servers[].disk) (a TB size times 1000).
      type: float
      sample: 3450.9524
    disk_speed:
      description: Disk speed, in MB/s.
      type: float
      sample: 3500.0
    net_up:
      description: Upload bandwidth, in Mbit/s.
      type: float
      sample: 900.0
    net_down:
      description: Download bandwidth, in Mbit/s.
      type: float
      sample: 950.0
    country:
      description: The server's country code, upper case.
      type: str
      sample: DE
    cuda_version:
      description: The highest CUDA version the server's driver supports.
      type: str
      sample: "12.4"
    reliability:
      description: Reliability between 0 and 1.
      type: float
      sample: 0.987
    rating:
      description: The average rating.
      type: float
      sample: 4.6
    rating_count:
      description: How many ratings the average is over.
      type: int
      sample: 120
    allowed_currencies:
      description: The currencies the host accepts (C(allowed_coins)).
      type: list
      elements: str
      sample: [CLORE-Blockchain, USD-Blockchain]
    rented:
      description: Whether the server is rented now.
      type: bool
      sample: false
    online:
      description:
        - Whether the server is online. Null on the real API, whose marketplace rows carry no C(online) field; an
          unknown state never excludes a server.
      type: bool
      sample: true
    mrl_hours:
      description: The maximum rental length, in hours.
      type: float
      sample: 168.0
    prices:
      description:
        - The host's prices per day in each currency, for C(on-demand) and C(spot) (the minimum spot price).
      type: dict
      sample: {"on-demand": {"CLORE-Blockchain": 288.5, "USD-Blockchain": 7.1}, "spot": {"CLORE-Blockchain": 160.0}}
    usd_per_day_by_currency:
      description:
        - The on-demand price per day in US dollars in each currency the server has a price in, from the best
          evidence for that currency (see RV(servers[].usd_source_by_currency)); a currency nothing prices is absent.
      type: dict
      sample: {"CLORE-Blockchain": 7.2125, "USD-Blockchain": 7.1}
    usd_source_by_currency:
      description:
        - Where each figure of RV(servers[].usd_per_day_by_currency) came from, best first - C(usd_coin)
          (USD-Blockchain is 1 USD), C(price.usd), C(price.on_demand.usd), C(price.original_usd), C(market_rates)
          (the coin's rate over this marketplace answer), C(spot_marketplace) (its C(currency_rates_in_usd)),
          C(usd_rates) (the option).
      type: dict
      sample: {"CLORE-Blockchain": "price.usd", "USD-Blockchain": "usd_coin"}
    cheapest_currency:
      description:
        - The currency in which an on-demand order would pay least, in US dollars, among the currencies the server
          accepts (narrowed to O(currencies)); the one M(clore.ai.clore_order) pays in. Null when none is priced.
      type: str
      sample: USD-Blockchain
    cheapest_usd_per_day:
      description: The on-demand price per day in US dollars in RV(servers[].cheapest_currency).
      type: float
      sample: 7.1
    cheapest_usd_per_hour:
      description: RV(servers[].cheapest_usd_per_day) / 24.
      type: float
      sample: 0.295833
    cheapest_usd_per_gpu_hour:
      description: RV(servers[].cheapest_usd_per_day) / 24 / RV(servers[].gpu_count).
      type: float
      sample: 0.147917
    usd_source:
      description: Where RV(servers[].cheapest_usd_per_day) came from (see RV(servers[].usd_source_by_currency)).
      type: str
      sample: usd_coin
    usd_per_day:
      description:
        - The same as RV(servers[].cheapest_usd_per_day), the figure O(sort_by=price) and O(max_price) in USD use.
      type: float
      sample: 7.1
    usd_per_hour:
      description: RV(servers[].usd_per_day) / 24.
      type: float
      sample: 0.295833
    usd_per_gpu_hour:
      description: RV(servers[].usd_per_day) / 24 / RV(servers[].gpu_count).
      type: float
      sample: 0.147917
    spot_usd_per_day_by_currency:
      description: The host's minimum spot price per day in US dollars in each currency, as for on-demand.
      type: dict
      sample: {"CLORE-Blockchain": 4.0}
    spot_usd_source_by_currency:
      description: Where each figure of RV(servers[].spot_usd_per_day_by_currency) came from.
      type: dict
      sample: {"CLORE-Blockchain": "price.usd"}
    spot_cheapest_currency:
      description: The currency with the lowest minimum spot price in US dollars (narrowed to O(currencies)).
      type: str
      sample: CLORE-Blockchain
    spot_usd_per_day:
      description: The host's minimum spot price per day, in US dollars, in RV(servers[].spot_cheapest_currency).
      type: float
      sample: 4.0
    spot_usd_per_hour:
      description: RV(servers[].spot_usd_per_day) / 24.
      type: float
      sample: 0.166667
    spot_usd_per_gpu_hour:
      description: RV(servers[].spot_usd_per_day) / 24 / RV(servers[].gpu_count).
      type: float
      sample: 0.083333
    spot_usd_source:
      description: Where RV(servers[].spot_usd_per_day) came from.
      type: str
      sample: price.usd
    spot_market:
      description: The server's spot market, with O(spot_market=true) only.
      returned: when O(spot_market=true)
      type: dict
      contains:
        exists:
          description: Whether Clore knows a spot market for the server.
          type: bool
        offers:
          description: The spot offers (bids) on the server.
          type: list
          elements: dict
          sample: [{"offer_id": 77, "bid": 150.0, "active": true, "my": false, "currency": "CLORE-Blockchain"}]
        min_pricing:
          description: The host's minimum spot price per day in each currency.
          type: dict
          sample: {"CLORE-Blockchain": 150.0, "bitcoin": 0.00006}
        currency_rates_in_usd:
          description: US dollars per unit of each currency.
          type: dict
          sample: {"CLORE-Blockchain": 0.025, "bitcoin": 60000.0}
        mrl:
          description: The maximum rental length the spot market gives.
          type: float
        visibility:
          description: The server's visibility.
          type: str
        online:
          description: Whether the server is online, as the spot market gives it.
          type: bool
        top_active_bid:
          description: The bid that runs on the server (null when none), per day in RV(servers[].spot_market.top_active_currency).
          type: float
        top_active_currency:
          description: The currency of RV(servers[].spot_market.top_active_bid).
          type: str
        top_active_usd:
          description: RV(servers[].spot_market.top_active_bid) in US dollars, at the spot market's rates.
          type: float
        top_active_mine:
          description: Whether the running bid is yours.
          type: bool
        bid_needed:
          description:
            - For each currency the host takes, the least bid per day that wins the server now - the host's minimum,
              or the top bid of other renters plus about one US cent a day (C(clore.ai.clore_order)'s default
              O(clore.ai.clore_order#module:spot_bid_step)); null when a bid cannot be converted.
          type: dict
          sample: {"CLORE-Blockchain": 176.0, "USD-Blockchain": 4.41}
count:
  description: The number of servers returned.
  returned: success
  type: int
  sample: 5
matched:
  description: The number of servers that passed every filter, before O(limit).
  returned: success
  type: int
  sample: 37
total:
  description: The number of rows in the marketplace.
  returned: success
  type: int
  sample: 1800
excluded:
  description:
    - For each filter that was set (and C(available_only) when on), how many servers it excluded; each server counts
      under the first filter it fails, in the order C(server_ids), C(available_only), C(gpu), C(gpu_count_min),
      C(gpu_count_max), C(gpu_ram_min), C(ram_min), C(cuda_min), C(countries), C(exclude_countries),
      C(reliability_min), C(currency), C(currencies), C(max_price).
    - C(invalid_row) counts marketplace rows without a usable server id (present only when there were any).
    - C(bad_server) counts servers recorded as bad on this controller within O(bad_server_ttl) (present only when
      there were any).
    - RV(total) = RV(matched) + the sum of these counts.
  returned: success
  type: dict
  sample: {"available_only": 310, "gpu": 1402, "max_price": 51}
bad_servers_skipped:
  description: How many servers that passed every filter were left out because this controller recorded them as bad
    within O(bad_server_ttl) (see M(clore.ai.clore_bad_servers)).
  returned: success
  type: int
  sample: 0
"""

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.bad_server_store import BAD_SERVER_TTL_SPEC
from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.market import MARKET_FILTER_SPEC
from ansible_collections.clore.ai.plugins.module_utils.market_info import run_market_info
from ansible_collections.clore.ai.plugins.module_utils.pricing import USD_RATES_SPEC

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    **MARKET_FILTER_SPEC,
    "sort_by": {"type": "str", "default": "price"},
    "descending": {"type": "bool", "default": False},
    "limit": {"type": "int"},
    "spot_market": {"type": "bool", "default": False},
    **BAD_SERVER_TTL_SPEC,
    **USD_RATES_SPEC,
}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_market_info)


if __name__ == "__main__":
    main()
