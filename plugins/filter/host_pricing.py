# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_pricing filter: price each hosted server from comparable servers in the live market."""
from __future__ import annotations

DOCUMENTATION = r"""
name: host_pricing
version_added: 0.1.0
short_description: Price your hosted servers from comparable servers in the market
description:
  - Takes the servers you host (RV(clore.ai.clore_server_info#module:servers)) and the market
    (RV(clore.ai.clore_market_info#module:servers), with C(available_only=false) to count rented servers as well) and
    returns a pricing plan per hosted server and a text table of the plans.
  - Comparable servers have the same GPU model (ignoring case; a short model name matches the full name it ends) and
    the same GPU count; your own servers are never counted.
  - The new on-demand price is the O(percentile) of the comparables' US dollars per GPU-hour, clamped between O(floor)
    and O(ceiling), times 24 and the GPU count, in US dollars per day rounded to the cent; the spot minimum is
    O(spot_fraction) of it.
  - A server with fewer than O(min_comparables) comparables, or whose GPU is unknown, keeps its price (action C(keep))
    and its plan says why.
positional: _input, market
options:
  _input:
    description: The hosted servers, as clore.ai.clore_server_info returns them.
    type: list
    elements: dict
    required: true
  market:
    description: The market's servers, as clore.ai.clore_market_info returns them.
    type: list
    elements: dict
    required: true
  percentile:
    description: Which percentile of the comparables' prices to take, from 0 to 100 (50 is the median).
    type: float
    default: 50
  floor:
    description: The lowest price to set, in US dollars per GPU-hour.
    type: float
    default: 0.01
  ceiling:
    description: The highest price to set, in US dollars per GPU-hour; not below O(floor).
    type: float
    default: 100
  spot_fraction:
    description: The spot minimum as a fraction of the new on-demand price, above 0 and at most 1.
    type: float
    default: 0.6
  min_comparables:
    description: The fewest comparable servers that make a price; with fewer the server keeps its price.
    type: int
    default: 3
"""

EXAMPLES = r"""
- name: Price every hosted server at the median of its comparables, between 0.10 and 1.50 USD per GPU-hour
  ansible.builtin.set_fact:
    host_prices: >-
      {{ clore_hosted.servers | clore.ai.host_pricing(clore_market.servers, percentile=50, floor=0.10,
         ceiling=1.50, spot_fraction=0.6) }}

- name: Print the table
  ansible.builtin.debug:
    msg: "{{ host_prices.table }}"
"""

RETURN = r"""
_value:
  description: The plans and their table.
  type: dict
  contains:
    plans:
      description:
        - One plan per hosted server - C(name), C(id), C(gpu_model), C(gpu_count), C(comparables) (how many),
          C(market_low), C(market_median), C(market_high) and C(market_percentile) (US dollars per GPU-hour),
          C(current_usd_per_day), C(current_spot_usd_per_day), C(current_usd_per_gpu_hour), C(new_usd_per_gpu_hour),
          C(usd_pricing) (C({on_demand, spot}) per day to set, null when kept), C(clamped) (C(floor), C(ceiling) or
          null), C(action) (C(set) or C(keep)), C(changed) (whether setting it changes the server) and C(reason).
      type: list
      elements: dict
    table:
      description: The plans as aligned text lines, a header line first.
      type: list
      elements: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.clore.ai.plugins.module_utils.host import (
    PRICING_DEFAULTS as DEFAULTS,
    PricingError,
    price_plans,
    pricing_table as table,
)


def host_pricing(servers: Any, market: Any, percentile: Any = DEFAULTS["percentile"], floor: Any = DEFAULTS["floor"],
                 ceiling: Any = DEFAULTS["ceiling"], spot_fraction: Any = DEFAULTS["spot_fraction"],
                 min_comparables: Any = DEFAULTS["min_comparables"]) -> dict:
    if not isinstance(servers, list) or not isinstance(market, list):
        raise AnsibleFilterError("host_pricing: needs the list of hosted servers (clore_server_info's servers) and "
                                 "the list of market servers (clore_market_info's servers)")
    try:
        plans = price_plans(servers, market, percentile_rank=percentile, floor=floor, ceiling=ceiling,
                            spot_fraction=spot_fraction, min_comparables=min_comparables)
    except PricingError as err:
        raise AnsibleFilterError(f"host_pricing: {err}") from None
    return {"plans": plans, "table": table(plans)}


class FilterModule:
    def filters(self) -> dict:
        return {"host_pricing": host_pricing}
