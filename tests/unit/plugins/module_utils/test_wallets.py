"""normalize_wallet: one wallets row as clore_wallet_info and the orders event source return it."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.wallets import normalize_wallet


def test_a_wallet_row_read_defensively():
    assert normalize_wallet({"name": "CLORE-Blockchain", "deposit": "addr", "balance": "12.5",
                             "withdrawal_fee": 1}) == {"currency": "CLORE-Blockchain", "balance": 12.5,
                                                       "deposit_address": "addr", "withdrawal_fee": 1.0}
    assert normalize_wallet({"name": "bitcoin", "deposit": "", "balance": True, "withdrawal_fee": "n/a"}) == \
        {"currency": "bitcoin", "balance": None, "deposit_address": None, "withdrawal_fee": None}


@pytest.mark.parametrize("row", [None, [], "bitcoin", {"balance": 5}, {"name": ""}])
def test_a_row_without_a_currency_is_none(row):
    assert normalize_wallet(row) is None
