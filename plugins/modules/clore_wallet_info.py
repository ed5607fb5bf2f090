#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""clore_wallet_info: the balances of the account, per currency."""
from __future__ import annotations

DOCUMENTATION = r"""
module: clore_wallet_info
short_description: Read the balances of a Clore.ai account
version_added: 0.1.0
description:
  - Returns the account's wallets from the Clore.ai C(wallets) endpoint, one per currency
    (C(bitcoin), C(CLORE-Blockchain), C(USD-Blockchain)), with balance, deposit address and withdrawal fee.
  - Returns them both as a list and as a dictionary keyed by currency, for use in C(when:) conditions.
  - The module only reads; it never changes anything and runs the same in check mode.
author:
  - clore.ai collection maintainers (@clore-ai)
options:
  currencies:
    description:
      - Return only the wallets of these currencies - V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain), or the
        aliases V(BTC) and V(CLORE), compared case-insensitively.
      - Any other name is refused before the API call, naming the known currencies.
      - By default every wallet is returned.
    type: list
    elements: str
extends_documentation_fragment:
  - clore.ai.clore
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
"""

EXAMPLES = r"""
- name: Read the balances (the key from CLORE_API_KEY)
  clore.ai.clore_wallet_info:
  register: clore_wallets

- name: Stop when there is too little to rent with
  ansible.builtin.assert:
    that: clore_wallets.balances['CLORE-Blockchain'] | default(0) >= 100
    fail_msg: "Top up your CLORE wallet: {{ clore_wallets.wallets_by_currency['CLORE-Blockchain'].deposit_address }}"

- name: Only the USD wallet, against clore-sim
  clore.ai.clore_wallet_info:
    api_url: http://127.0.0.1:8199/v1
    api_key: "{{ lookup('ansible.builtin.env', 'CLORE_SIM_KEY') }}"
    currencies: [USD-Blockchain]
  register: clore_usd
"""

RETURN = r"""
wallets:
  description: The wallets, in the order the API lists them.
  returned: success
  type: list
  elements: dict
  contains:
    currency:
      description: The currency, as used in an order's C(currency).
      type: str
      sample: CLORE-Blockchain
    balance:
      description: The balance in that currency (null when the API gave none).
      type: float
      sample: 1250.5
    deposit_address:
      description: The address to send funds to for this currency.
      type: str
      sample: bc1qexampleaddress
    withdrawal_fee:
      description: The fee for a withdrawal in this currency (null when the API gave none).
      type: float
      sample: 0.0001
wallets_by_currency:
  description: The same wallets keyed by currency.
  returned: success
  type: dict
  sample: {"bitcoin": {"currency": "bitcoin", "balance": 0.01, "deposit_address": "bc1q...", "withdrawal_fee": 0.0001}}
balances:
  description: The balance of each currency, keyed by currency.
  returned: success
  type: dict
  sample: {"bitcoin": 0.01, "CLORE-Blockchain": 1250.5, "USD-Blockchain": 40.0}
"""

from ansible_collections.clore.ai.plugins.module_utils.common import run_module
from ansible_collections.clore.ai.plugins.module_utils.wallet_info import run_wallet_info

ARGUMENT_SPEC = {"currencies": {"type": "list", "elements": "str"}}


def main() -> None:
    run_module(ARGUMENT_SPEC, run_wallet_info)


if __name__ == "__main__":
    main()
