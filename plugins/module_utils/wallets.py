"""One `wallets` row -> one flat wallet record (clore_wallet_info's, and the clore.ai.orders source's)."""
from __future__ import annotations

from typing import Any


def _amount(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def normalize_wallet(raw: Any) -> dict | None:
    """One wallet as returned; None for a row without a currency name."""
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    deposit = raw.get("deposit")
    return {
        "currency": str(raw["name"]),
        "balance": _amount(raw.get("balance")),
        "deposit_address": str(deposit) if deposit not in (None, "") else None,
        "withdrawal_fee": _amount(raw.get("withdrawal_fee")),
    }
