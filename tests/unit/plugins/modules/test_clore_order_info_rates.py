"""clore_order_info's rates: read only when an order needs one, one spot_marketplace call for a coin still unpriced,
usd_rates last, and a spend_over in USD that cannot price an order fails instead of leaving it out."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.pricing import NoUsdRate
from ansible_collections.clore.ai.plugins.module_utils.order_info import order_rates


class Client:
    def __init__(self, servers: list[dict], spot_rates: dict | None = None) -> None:
        self.servers, self.spot_rates, self.calls = servers, spot_rates, []

    def marketplace(self) -> dict:
        self.calls.append("marketplace")
        return {"servers": self.servers}

    def spot_marketplace(self, server_id: int) -> dict:
        self.calls.append(("spot_marketplace", server_id))
        return {"currency_rates_in_usd": self.spot_rates or {}, "exists": True}


def order(order_id: int, currency: str, price: float, **extra) -> dict:
    return normalize_order({"id": order_id, "si": 40 + order_id, "currency": currency, "price": price, "spend": 2.0,
                            "ct": 1_750_000_000, **extra}, now=1_750_003_600)


def test_orders_priced_by_themselves_need_no_read():
    client = Client([])
    order_rates(client, [order(1, "USD-Blockchain", 5.0), order(2, "bitcoin", 0.0001, original_price_usd=6.0)],
                None, {"amount": 1, "currency": "USD"})
    assert client.calls == []


def test_a_coin_the_market_does_not_price_takes_one_spot_marketplace_call_then_usd_rates():
    client = Client([], {"bitcoin": 60000.0})
    rates = order_rates(client, [order(1, "bitcoin", 0.0001), order(2, "CLORE-Blockchain", 100.0)],
                        {"CLORE-Blockchain": 0.03}, None)
    assert client.calls == ["marketplace", ("spot_marketplace", 41)]
    assert rates.sources == {"USD-Blockchain": "usd_coin", "bitcoin": "spot_marketplace",
                             "CLORE-Blockchain": "usd_rates"}


def test_a_spend_over_in_usd_without_a_rate_fails_naming_the_coin():
    with pytest.raises(NoUsdRate, match=r"^spend_over in USD needs a US-dollar price, .* for bitcoin"):
        order_rates(Client([]), [order(1, "bitcoin", 0.0001)], None, {"amount": 1, "currency": "USD"})
    # Without a USD comparison the order is returned unpriced.
    assert "bitcoin" not in order_rates(Client([]), [order(1, "bitcoin", 0.0001)], None, None)
