"""clore_wallet_info's task: the key's wallets as returned, each read defensively, only the asked currencies."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.currencies import KNOWN_CURRENCIES, canonical_currency
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.wallets import normalize_wallet


def wanted_coins(names: list[str]) -> set[str]:
    """The API's names of the asked currencies; CloreConfigError naming the known ones for any other name."""
    wanted = set()
    for name in names:
        coin = canonical_currency(name)
        if coin is None:
            raise CloreConfigError(
                f"currencies: {name!r} is not a currency; use {', '.join(KNOWN_CURRENCIES)} (or the aliases BTC, "
                "CLORE)",
                option="currencies",
            )
        wanted.add(coin)
    return wanted


def run_wallet_info(module, client) -> dict:
    """clore_wallet_info's run(module, client) for common.run_module."""
    wanted = wanted_coins(module.params["currencies"] or [])  # before the API call
    wallets = [w for w in map(normalize_wallet, client.wallets()) if w is not None]
    if wanted:
        wallets = [w for w in wallets if (canonical_currency(w["currency"]) or w["currency"]) in wanted]
    return {
        "changed": False,
        "wallets": wallets,
        "wallets_by_currency": {w["currency"]: w for w in wallets},
        "balances": {w["currency"]: w["balance"] for w in wallets},
    }
