"""clore_wallet_info's task (wallet_info.py): the asked currencies checked before the call, wallets read
defensively and filtered."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.wallet_info import run_wallet_info, wanted_coins
from module_fake import FakeModule


class Wallets:
    def __init__(self) -> None:
        self.calls = 0

    def wallets(self) -> list:
        self.calls += 1
        return [{"name": "bitcoin", "balance": "0.5", "deposit": ""}, {"name": "CLORE-Blockchain", "balance": True},
                {"balance": 3}, "odd"]


def test_wanted_coins_reads_aliases_and_refuses_another_name_naming_the_known_ones():
    assert wanted_coins(["btc", "CLORE"]) == {"bitcoin", "CLORE-Blockchain"}
    with pytest.raises(CloreConfigError) as caught:
        wanted_coins(["DOGE"])
    assert caught.value.option == "currencies" and "bitcoin" in str(caught.value)


def test_run_filters_the_wallets_and_keys_them_by_currency():
    result = run_wallet_info(FakeModule({"currencies": ["BTC"]}), Wallets())
    assert result["balances"] == {"bitcoin": 0.5} and result["wallets"][0]["deposit_address"] is None
    every = run_wallet_info(FakeModule({"currencies": None}), Wallets())
    assert every["balances"] == {"bitcoin": 0.5, "CLORE-Blockchain": None} and every["changed"] is False


def test_a_bad_currency_is_refused_before_the_call():
    api = Wallets()
    with pytest.raises(CloreConfigError):
        run_wallet_info(FakeModule({"currencies": ["DOGE"]}), api)
    assert api.calls == 0
