# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore.ai.market: an ansible-rulebook event source of Clore.ai marketplace offers."""
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
from ansible_collections.clore.ai.plugins.module_utils.market_watch import MARKET_ARGS, MarketPoll

DOCUMENTATION = r"""
---
short_description: Offers of the Clore.ai GPU marketplace, as events
description:
  - An ansible-rulebook event source that reads the Clore.ai marketplace every O(interval) seconds and puts an
    C(offer) event on the queue for each server that matches the filters of M(clore.ai.clore_market_info) - when it
    appears (or is freed), when its price falls to or under O(max_price), and when its price falls further.
  - Each server is offered once per price - nothing again while its price stays the same, or rises and comes back.
    A server that is rented or leaves the market is forgotten, so that it is an offer again when it comes back free.
  - "Every event is a mapping - C(type) (V(offer)), C(server) (the record as
    M(clore.ai.clore_market_info) returns it in RV(clore.ai.clore_market_info#module:servers)), C(price) (the price
    per day judged, in C(currency) for the C(order_type) of O(max_price); the on-demand price in US dollars without
    it), C(reason) (V(new) or V(price_drop)) and C(previous) (C({price}) of the last offer of this server, or null)."
  - The calls go through the collection's client and its rate limiter shared by every process of the controller
    with the same key, so a source and the playbooks it starts meet no rate limit.
  - While another process calls with the same key (the playbook a rule started, reading then creating), the next
    poll waits until the key has been quiet for 1.5 request intervals, at most 20 s (or one O(interval), if
    longer) - a poll between that playbook's calls would push each of them, and its create, back (docs/eda.md).
  - A failed poll puts one C(market_error) event on the queue (C(message), C(endpoint), C(http_status), C(code),
    C(reason), C(failures), C(retry_in)) for a run of failures, and polls again after a wait that doubles up to
    O(backoff_max); the source goes on when the API answers again. The API key is never in an event or a log.
  - Servers recorded as bad by M(clore.ai.clore_order) on this controller are passed over for O(bad_server_ttl)
    hours, as M(clore.ai.clore_market_info) does.
options:
  interval:
    description: Seconds between two polls, at least V(2).
    type: float
    default: 60
  backoff_max:
    description: The longest wait between two polls after failed polls, in seconds; at least O(interval).
    type: float
    default: 300
  price_drop_percent:
    description:
      - Offer a server already offered again only when its price fell at least this many percent below the price
        of its last offer (above V(0), below V(100)). By default any fall is an offer.
    type: float
  bad_server_ttl:
    description: Pass over the servers recorded as bad on this controller within this many hours; V(0) offers them too.
    type: float
    default: 24
  usd_rates:
    description: US dollars per unit of a coin nothing else prices, as in M(clore.ai.clore_market_info).
    type: dict
  gpu:
    description: GPU models, any of the list (substrings or regular expressions), as in M(clore.ai.clore_market_info).
    type: list
    elements: str
  gpu_count_min:
    description: Servers with at least this many GPUs.
    type: int
  gpu_count_max:
    description: Servers with at most this many GPUs.
    type: int
  gpu_ram_min:
    description: Minimum memory per GPU, in GB.
    type: float
  ram_min:
    description: Minimum system memory, in GB.
    type: float
  cuda_min:
    description: Minimum CUDA version, compared as a version.
    type: str
  countries:
    description: Only servers in these countries (ISO 3166 two-letter codes).
    type: list
    elements: str
  exclude_countries:
    description: Leave out servers in these countries.
    type: list
    elements: str
  reliability_min:
    description: Minimum reliability, between V(0) and V(1).
    type: float
  currency:
    description: Only servers that accept this currency, priced in it (V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain), or V(BTC), V(CLORE), V(USD)).
    type: str
  currencies:
    description: The currencies an order may be paid in; each server is priced in the cheapest of them it accepts.
    type: list
    elements: str
  available_only:
    description: Only servers one can rent now (not rented, not known to be offline).
    type: bool
    default: true
  server_ids:
    description: Only these server ids.
    type: list
    elements: int
  max_price:
    description:
      - The most a server may cost, as in M(clore.ai.clore_market_info) - C(amount), C(currency) (V(USD) by default,
        or a coin), C(type) (V(on-demand) or V(spot)) and C(per) (V(day), V(hour) or V(gpu_hour)). A number alone
        is the amount in US dollars per day, on-demand.
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
  - Every poll downloads the whole marketplace (it has no server-side filters); with the default limits, an
    O(interval) under a few seconds leaves little room for the playbooks sharing the key.
"""

EXAMPLES = r"""
- name: Rent a free RTX 4090 under 0.40 USD an hour
  hosts: localhost
  sources:
    - clore.ai.market:
        gpu: ["RTX 4090"]
        max_price:
          amount: 0.40
          per: hour
        interval: 30
  rules:
    - name: An offer under the cap
      condition: event.type == "offer"
      action:
        run_playbook:
          name: clore.ai.auto_rent
          extra_vars:
            auto_rent_server_id: "{{ event.server.id }}"

- name: Say when a watched server gets 10 % cheaper, against clore-sim
  hosts: localhost
  sources:
    - clore.ai.market:
        api_url: http://127.0.0.1:8199/v1
        server_ids: [10001, 10042]
        price_drop_percent: 10
        interval: 10
  rules:
    - name: Cheaper
      condition: event.type == "offer" and event.reason == "price_drop"
      action:
        debug:
          msg: "{{ event.server.id }}: {{ event.previous.price }} -> {{ event.price }} USD a day"
    - name: The API failed
      condition: event.type == "market_error"
      action:
        debug:
          msg: "{{ event.message }}"
"""

logger = logging.getLogger(__name__)


async def main(queue: asyncio.Queue[Any], args: dict[str, Any]) -> None:
    """Put an event on `queue` for each offer, every `interval` seconds, until cancelled.

    Bad arguments raise before any API call (CloreConfigError, its message naming the argument)."""
    args = check_args(args, MARKET_ARGS)
    interval, backoff_max = poll_timing(args)
    client = source_client(args, warn=logger.warning)
    poll = MarketPoll(client, args)
    await run_source(queue, "market", poll, interval, backoff_max, logger, close=client.close,
                     secret=connection_option(args, "api_key"), busy=others_calling(client))


if __name__ == "__main__":
    # python market.py: print the events (the connection from CLORE_API_KEY and CLORE_API_URL).

    class _PrintQueue(asyncio.Queue):
        async def put(self, item: Any) -> None:
            print(item)  # noqa: T201

    asyncio.run(main(_PrintQueue(), {"interval": 10}))
