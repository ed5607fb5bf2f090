# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore.ai.orders: an ansible-rulebook event source of changes to my Clore.ai orders."""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any


def _collections_on_path() -> None:
    """ansible-rulebook runs a source as a file (runpy), with no collection on sys.path: put this collection's
    collections directory there (the one holding ansible_collections/clore/ai/extensions/eda/...), so that the
    collection's own module_utils can be imported."""
    path = os.path.abspath(__file__)
    for _level in range(7):
        path = os.path.dirname(path)
    if os.path.basename(path) == "ansible_collections" and os.path.dirname(path) not in sys.path:
        sys.path.insert(0, os.path.dirname(path))


_collections_on_path()

# pylint: disable=wrong-import-position
from ansible_collections.clore.ai.plugins.module_utils.event_source import (
    check_args,
    connection_option,
    others_calling,
    poll_timing,
    run_source,
    source_client,
)
from ansible_collections.clore.ai.plugins.module_utils.order_poll import OrderPoll
from ansible_collections.clore.ai.plugins.module_utils.order_watch import ORDERS_ARGS

DOCUMENTATION = r"""
---
short_description: Changes to my Clore.ai orders, as events
description:
  - An ansible-rulebook event source that reads my orders every O(interval) seconds and puts an event on the queue
    for each change since the poll before.
  - "Every event is a mapping with C(type) and the record it is about - C(order) (as M(clore.ai.clore_order_info)
    returns it in RV(clore.ai.clore_order_info#module:orders): ids, image, prices, spend, C(spend_usd), C(age_hours),
    C(time_left_seconds), C(ssh_host), C(ssh_port), C(ready), ...) or C(wallet) (as M(clore.ai.clore_wallet_info)
    returns it) - and what changed (C(previous), C(reason))."
  - C(order_created) - a new active order. C(order_ready) - its SSH endpoint appeared.
  - C(order_ended) - an order is listed as ended (or is missing from two listings in a row, C(listed=false)), or
    began and ended between two polls; C(reason) is
    V(expired) (its rental length passed), V(outbid) (a spot order seen outbid, or whose server runs another
    renter's bid), V(balance) (the wallet of its currency is empty), V(cancelled) (none of these), or null when the
    evidence could not be read; C(reason_detail) says how it was judged (the API itself gives no reason).
  - C(order_outbid) - a spot order still listed whose server runs another renter's bid (C(spot) - C(running),
    C(top_bid), C(top_currency), C(top_mine), C(top_usd)); told again only after the order ran again.
  - C(spot_top_bid_changed) - the bid that runs on a spot order's server changed (C(spot), C(previous)).
  - C(spend_over) - an order spent more than O(spend_over) (once per order). C(ending_soon) - an order has less
    than O(ending_soon_hours) left (once per order; C(hours_left)). C(wallet_low) - a balance under O(wallet_low)
    (once, again only after it was back at the threshold).
  - The first poll is the baseline - orders that exist then are not told as created, nor those ended then as ended;
    the conditions (outbid, spend, time left, balance) are told at the first poll too.
  - The calls (my_orders, one spot_marketplace per spot order, wallets when needed) go through the collection's
    client and its rate limiter shared by every process of the controller with the same key.
  - While another process calls with the same key (the playbook a rule started, reading then creating), the next
    poll waits until the key has been quiet for 1.5 request intervals, at most 20 s (or one O(interval), if
    longer) - a poll between that playbook's calls would push each of them, and its create, back (docs/eda.md).
  - A failed poll puts one C(orders_error) event on the queue (C(message), C(endpoint), C(http_status), C(code),
    C(reason), C(failures), C(retry_in)) for a run of failures, and polls again after a wait that doubles up to
    O(backoff_max); the source goes on when the API answers again. The API key is never in an event or a log.
options:
  interval:
    description: Seconds between two polls, at least V(2).
    type: float
    default: 60
  backoff_max:
    description: The longest wait between two polls after failed polls, in seconds; at least O(interval).
    type: float
    default: 300
  spend_over:
    description:
      - Tell when an order has spent more than this - a number in US dollars, or C(amount) and C(currency) (V(USD),
        or a coin to compare the spend of orders paid in that coin).
      - In US dollars, an order in a coin its own record does not price needs a rate - from its spot market, else
        O(usd_rates); without one the poll fails with an C(orders_error) naming the coin.
    type: raw
  ending_soon_hours:
    description: Tell when an order has less than this many hours of its rental length left.
    type: float
  wallet_low:
    description:
      - Tell when a balance falls under a threshold - a mapping of a coin (V(bitcoin), V(CLORE-Blockchain),
        V(USD-Blockchain), or V(BTC), V(CLORE), V(USD)) to the least balance.
      - Adds one C(wallets) call to each poll.
    type: dict
  spot_markets:
    description:
      - Read the spot market of each active spot order at each poll (one C(spot_marketplace) call each), for
        C(order_outbid), C(spot_top_bid_changed) and the V(outbid) reason of C(order_ended).
    type: bool
    default: true
  usd_rates:
    description: US dollars per unit of a coin nothing else prices, as in M(clore.ai.clore_order_info).
    type: dict
  api_key:
    description:
      - The Clore.ai API key; if not set, the environment variable E(CLORE_API_KEY).
      - One of the two is required; the source refuses to start without a key.
    type: str
  api_url:
    description: The base URL of the API (clore-sim, for example V(http://127.0.0.1:8199/v1)); if not set, E(CLORE_API_URL).
    type: str
    default: https://api.clore.ai/v1
  api_timeout:
    description: Seconds to wait for the API per HTTP request; if not set, E(CLORE_API_TIMEOUT).
    type: float
    default: 30
  api_user_agent:
    description: The User-Agent header; if not set, E(CLORE_API_USER_AGENT).
    type: str
  api_request_interval:
    description: Minimum seconds between two requests with the same key, across the controller; if not set, E(CLORE_API_REQUEST_INTERVAL).
    type: float
    default: 1.0
  api_create_interval:
    description: Minimum seconds between two creates with the same key (the source itself never creates); if not set, E(CLORE_API_CREATE_INTERVAL).
    type: float
    default: 5.0
  api_state_dir:
    description: Directory of the shared rate limiter's files; if not set, E(CLORE_STATE_DIR), else the user's cache directory.
    type: path
  api_retry_timeout:
    description: Seconds one call is retried within a poll (a failed poll is tried again at the next one); if not set, E(CLORE_API_RETRY_TIMEOUT).
    type: float
    default: 30
notes:
  - Bad arguments stop the source at start with a message naming the argument, before any API call.
"""

EXAMPLES = r"""
- name: Keep a spot fleet whole, and watch the money
  hosts: localhost
  sources:
    - clore.ai.orders:
        interval: 30
        spend_over: 50
        ending_soon_hours: 6
        wallet_low:
          CLORE-Blockchain: 500
  rules:
    - name: An order ended or was outbid
      condition: event.type == "order_outbid" or (event.type == "order_ended" and event.reason == "outbid")
      action:
        run_playbook:
          name: playbooks/spot_fleet.yml
    - name: Money
      condition: event.type in ["spend_over", "ending_soon", "wallet_low"]
      action:
        debug:
          msg: "{{ event.type }}: {{ event.order.id | default(event.wallet.currency) }}"

- name: Say when a rented machine can be reached, against clore-sim
  hosts: localhost
  sources:
    - clore.ai.orders:
        api_url: http://127.0.0.1:8199/v1
        interval: 5
  rules:
    - name: Ready
      condition: event.type == "order_ready"
      action:
        debug:
          msg: "{{ event.order.ssh_command }}"
    - name: The API failed
      condition: event.type == "orders_error"
      action:
        debug:
          msg: "{{ event.message }}"
"""

logger = logging.getLogger(__name__)


async def main(queue: asyncio.Queue[Any], args: dict[str, Any]) -> None:
    """Put an event on `queue` for each change to my orders, every `interval` seconds, until cancelled.

    Bad arguments raise before any API call (CloreConfigError, its message naming the argument)."""
    args = check_args(args, ORDERS_ARGS)
    interval, backoff_max = poll_timing(args)
    client = source_client(args, warn=logger.warning)
    poll = OrderPoll(client, args, warn=logger.warning)
    await run_source(queue, "orders", poll, interval, backoff_max, logger, close=client.close,
                     secret=connection_option(args, "api_key"), busy=others_calling(client))


if __name__ == "__main__":
    # python orders.py: print the events (the connection from CLORE_API_KEY and CLORE_API_URL).

    class _PrintQueue(asyncio.Queue):
        async def put(self, item: Any) -> None:
            print(item)  # noqa: T201

    asyncio.run(main(_PrintQueue(), {"interval": 10}))
