# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The market selection filters, shared by clore_market_info (search) and clore_order (fleet selection)."""
from __future__ import annotations


class ModuleDocFragment:
    """Filters and sort order over the normalised marketplace servers (plugins/module_utils/_market/filters.py)."""

    DOCUMENTATION = r"""
options:
  server_ids:
    description:
      - Only these server ids.
      - Excluded servers are counted under C(server_ids).
    type: list
    elements: int
  available_only:
    description:
      - Only servers one can rent now, that is not rented and not known to be offline.
      - A server whose rented or online state the API does not give is not held against it. The real marketplace
        gives no C(online) field at all, so there only C(rented) decides.
    type: bool
    default: true
  gpu:
    description:
      - GPU models to accept, any of the list.
      - Each entry matches as a case-insensitive substring of the GPU model (V(4090) matches
        C(NVIDIA GeForce RTX 4090)) or as a case-insensitive regular expression searched in it
        (V(RTX 40[89]0), V(^NVIDIA A100)).
      - An entry that is not a valid regular expression is refused; escape special characters to match them literally.
      - A server whose GPU model is unknown does not match.
    type: list
    elements: str
  gpu_count_min:
    description: Servers with at least this many GPUs.
    type: int
  gpu_count_max:
    description: Servers with at most this many GPUs; not less than O(gpu_count_min).
    type: int
  gpu_ram_min:
    description: Minimum memory per GPU, in GB.
    type: float
  ram_min:
    description: Minimum system memory, in GB.
    type: float
  cuda_min:
    description:
      - Minimum CUDA version, compared as a version (V(12.10) is above V(12.4)).
      - A server whose CUDA version is unknown does not match.
    type: str
  countries:
    description:
      - Only servers in these countries (ISO 3166 two-letter codes, case-insensitive, for example V(DE)).
      - A server whose country is unknown does not match.
    type: list
    elements: str
  exclude_countries:
    description: Leave out servers in these countries (case-insensitive). A server whose country is unknown is kept.
    type: list
    elements: str
  reliability_min:
    description: Minimum reliability, between V(0) and V(1) (V(0.98) is 98%).
    type: float
  currency:
    description:
      - Only servers that accept this currency, priced and paid in it; the same as O(currencies) with one element.
      - V(bitcoin), V(CLORE-Blockchain) or V(USD-Blockchain); the aliases V(BTC), V(CLORE) and V(USD) are accepted,
        case-insensitively.
    type: str
  currencies:
    description:
      - The currencies an order may be paid in; by default every currency the server accepts.
      - Only servers that accept at least one of them match. Each server's price in US dollars is that of the
        cheapest of these currencies it accepts (its C(cheapest_currency)), and servers are compared and
        sorted by that price, the price an order would pay.
      - Same names and aliases as O(currency). With both, O(currency) must be one of these and alone counts.
    type: list
    elements: str
  max_price:
    description:
      - The most a server may cost.
      - A server without a price of the requested kind does not match.
      - A number alone is its O(max_price.amount) with the defaults of the other sub-options (V(max_price=5) is 5 USD
        per day, on-demand).
    type: dict
    suboptions:
      amount:
        description: The limit, in O(max_price.currency) per O(max_price.per).
        type: float
        required: true
      currency:
        description:
          - V(USD) compares each server's price in US dollars in the cheapest currency it may be paid in (see
            O(currencies)), from the best evidence there is (docs/market.md, "How prices are compared"). When no
            dollar price can be had for a currency, the task fails before anything is rented, naming it and asking
            for O(usd_rates).
          - A coin (V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain) or the aliases V(BTC), V(CLORE)) compares
            the host's own price in that coin; a server without a price in that coin does not match.
        type: str
        default: USD
      type:
        description: Compare the on-demand price or the spot price (the host's minimum spot price).
        type: str
        choices: [on-demand, spot]
        default: on-demand
      per:
        description: The unit of O(max_price.amount). V(gpu_hour) divides the hourly price by the number of GPUs.
        type: str
        choices: [day, hour, gpu_hour]
        default: day
  sort_by:
    description:
      - The order in which matching servers are listed (and, for M(clore.ai.clore_order), tried).
      - V(price) is the on-demand US-dollar price per day in the cheapest currency the server may be paid in (see
        O(currencies)); V(price_per_hour); V(price_per_gpu) is per GPU-hour;
        V(spot_price) and V(spot_price_per_gpu) are the same for the host's minimum spot price; V(gpu_ram) and
        V(ram) are in GB.
      - Any other field of a returned server with a single value is accepted as well, for example V(reliability),
        V(gpu_count), V(rating), V(cuda_version) (compared as a version), V(disk_speed), V(mrl_hours) or V(id).
      - Servers without a value for the key come last, whatever the direction; ties keep id order. A dollar sort
        never falls back to id order - without a dollar price for a currency it fails, asking for O(usd_rates).
    type: str
    default: price
  descending:
    description: Sort from the highest value down.
    type: bool
    default: false
"""
