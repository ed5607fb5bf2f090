"""Who an API call is made for: one digest of (API URL, API key) names every file kept per account.

The rate limiter, clore_order's locks, claims and shared reads, and the inventory cache all key their state by it,
so that two keys (or one key against clore-sim and the real API) never share state, and the key itself never
appears in a file name.
"""
from __future__ import annotations

import hashlib

DIGEST_LENGTH = 24


def account_digest(api_url: str, api_key: str) -> str:
    """A short hex digest of the API URL (without a trailing slash) and the key."""
    text = f"{api_url.strip().rstrip('/')}\0{api_key}"
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]
