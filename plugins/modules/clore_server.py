#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_server: keep the settings of one server you offer on Clore.ai as declared (idempotent)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_server
short_description: Declare what a server you host on Clore.ai is offered for
version_added: 0.1.0
description:
  - Keeps the market settings of one server the API key hosts, found by O(name) - whether it is offered, its maximum
    rental length, its prices per coin, the coins it accepts, its USD prices and autoprice.
  - Reads the server's current settings (C(my_servers) and C(server_config)), compares them with the declared
    options, and changes only what differs with one C(set_server_settings) call; when nothing differs it reports
    C(changed=false) and sends nothing.
  - Options left out are kept as they are - nothing is reset by omission. The call carries the server's current value
    of every setting that is not declared.
  - The call uses Clore's current per-currency form; only if the API refuses it (code 2) and the change fits in the
    older form (availability, mrl and CLORE-Blockchain prices) is the older form sent, with a warning.
  - After the change the settings are read back; a declared setting Clore does not show is reported as a warning.
  - Every option is checked before any API call - a price of 0 or below or not finite, an O(mrl) outside 6 to 3000
    hours, or a coin that is not one of the three fails naming the field. An unknown O(name) fails before any write,
    listing the names the key hosts.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  name:
    description: The server's name, as M(clore.ai.clore_server_info) lists it.
    type: str
    required: true
  available:
    description: V(true) offers the server on the market (visibility C(public)), V(false) hides it.
    type: bool
  mrl:
    description: The maximum rental length, in hours, from 6 to 3000.
    type: int
  on_demand_price:
    description:
      - The on-demand price per day in each coin, for example V(CLORE-Blockchain) 1174.03 and V(bitcoin) 0.0002.
      - Coins are V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain) or the aliases V(BTC) and V(CLORE); coins not
        named keep their price.
      - Needs autoprice off (O(autoprice=false), or already off) - with autoprice Clore derives the coin prices from
        O(usd_pricing).
    type: dict
  spot_min_price:
    description:
      - The minimum spot price per day in each coin, as O(on_demand_price).
    type: dict
  coins:
    description:
      - The coins the server accepts - any of V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain) (aliases V(BTC),
        V(CLORE)).
      - A coin added without autoprice needs a price in it (its current one, or one declared here).
    type: list
    elements: str
  usd_pricing:
    description:
      - The prices in US dollars per day; with O(autoprice=true) Clore derives each coin's price from them.
    type: dict
    suboptions:
      on_demand:
        description: The on-demand price in US dollars per day.
        type: float
      spot:
        description: The minimum spot price in US dollars per day.
        type: float
  autoprice:
    description:
      - V(true) lets Clore derive the coin prices from O(usd_pricing) (sent as C(autoprice=usd)); V(false) keeps the
        coin prices as set.
    type: bool
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: Reads as a real run does and reports the change it would make; sends no C(set_server_settings).
  diff_mode:
    support: full
    description: Shows the server's settings before and after.
seealso:
  - module: clore.ai.clore_server_info
notes:
  - See docs/hosts.md in the collection for the host's walk-through and playbooks/host_pricing.yml for pricing from
    the live market.
"""

EXAMPLES = r"""
- name: Offer rig-a at 22 USD per day on demand, spot from 12, prices following the dollar
  clore.ai.clore_server:
    name: rig-a
    available: true
    usd_pricing:
      on_demand: 22
      spot: 12
    autoprice: true

- name: Fixed coin prices, a week at most, CLORE and bitcoin only
  clore.ai.clore_server:
    name: rig-b
    mrl: 168
    coins: [CLORE-Blockchain, bitcoin]
    autoprice: false
    on_demand_price:
      CLORE-Blockchain: 266.83
      bitcoin: 0.0000474
    spot_min_price:
      CLORE-Blockchain: 106.73
      bitcoin: 0.00001896

- name: Take rig-b off the market for maintenance (prices stay as they are)
  clore.ai.clore_server:
    name: rig-b
    available: false
"""

RETURN = r"""
server:
  description:
    - The server after the task, as M(clore.ai.clore_server_info) with C(config=true) describes it; after a change it
      is read back from Clore, in check mode it is the predicted state.
  returned: success
  type: dict
  sample: {"name": "rig-a", "available": true, "mrl": 240, "usd_pricing": {"on_demand": 22.0, "spot": 12.0}}
changes:
  description: Each declared setting that differed, with its value before and after.
  returned: success
  type: dict
  sample: {"mrl": {"before": 240, "after": 168}}
form:
  description:
    - The C(set_server_settings) form sent - C(per-currency), or C(older) when the API refused the first; null when
      nothing was sent (no change, or check mode).
  returned: success
  type: str
  sample: per-currency
msg:
  description: What changed, or would change in check mode.
  returned: success
  type: str
  sample: changed mrl of server 'rig-a'
"""

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.host import SERVER_ARGUMENT_SPEC, run_server


def main() -> None:
    run_module(SERVER_ARGUMENT_SPEC, run_server)


if __name__ == "__main__":
    main()
