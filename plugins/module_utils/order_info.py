"""clore_order_info's task: the key's orders, read once, filtered, priced in dollars, with their SSH settings.

Read only: nothing is written but the per-order known_hosts files' directory setting. The filters are checked before
any API call; the market's dollar rates are read only when an order in a coin has no dollar price of its own.
"""
from __future__ import annotations

from collections.abc import Callable

from ansible_collections.clore.ai.plugins.module_utils.currencies import USD, USD_COIN, canonical_currency
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order
from ansible_collections.clore.ai.plugins.module_utils.images import image_reference
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import known_hosts_dir, ssh_settings
from ansible_collections.clore.ai.plugins.module_utils.pricing import (
    RateBook,
    check_usd_rates,
    complete_rates,
    market_rates,
    require_rates,
)
from ansible_collections.clore.ai.plugins.module_utils.reaping import (
    Lifetimes,
    add_money_and_age,
    gpu_matches,
    needs_rates,
    parse_duration,
    service_now,
    spend_above,
)


def check_filters(params: dict) -> dict:
    """The filters, checked before any API call: {older_than: seconds|None, spend_over: dict|None, images: set}."""
    older = params.get("older_than")
    try:
        seconds = parse_duration(older, "older_than") if older not in (None, "") else None
    except ValueError as err:
        raise CloreConfigError(str(err), option="older_than") from None
    spend_over = params.get("spend_over")
    if spend_over is not None:
        currency = canonical_currency(spend_over.get("currency") or USD, allow_usd=True)
        if currency is None:
            raise CloreConfigError(f"spend_over.currency: {spend_over.get('currency')!r} is not USD or a known coin",
                                   option="spend_over")
        spend_over = dict(spend_over, currency=currency)
    images = {image_reference(i) for i in params.get("images") or []}
    return {"older_than": seconds, "spend_over": spend_over, "images": images,
            "usd_rates": check_usd_rates(params.get("usd_rates"))}


def order_rates(client, orders: list[dict], user_rates: dict | None, spend_over: dict | None):
    """The coin rates that price these orders in dollars (pricing.py): the marketplace answer's own, only when an
    order needs one; then one spot_marketplace call and usd_rates for a coin still unpriced. A spend_over in USD
    fails (NoUsdRate) rather than leave out an order it cannot price."""
    needed = {o["currency"] for o in orders
              if o.get("currency") not in (None, USD_COIN) and o.get("usd_source") is None}
    book = RateBook(market_rates(client.marketplace()["servers"]) if needs_rates(orders) else None)
    if needed:
        server_id = next(o["server_id"] for o in orders if o.get("currency") in needed)
        complete_rates(book, needed, user_rates, lambda: client.spot_marketplace(server_id))
    if spend_over is not None and spend_over["currency"] == USD:
        require_rates(book, needed, "spend_over in USD")
    return book.as_dict()


def _wanted(order: dict, params: dict, images: set) -> bool:
    """Whether an order passes the filters that need no price: ended, ids, servers, images, GPUs."""
    return ((params["return_completed"] or not order["expired"])
            and (not params["order_ids"] or order["id"] in params["order_ids"])
            and (not params["server_ids"] or order["server_id"] in params["server_ids"])
            and (not images or image_reference(order["image"]) in images)
            and (not params["gpu"] or gpu_matches(order, params["gpu"])))


def listed_orders(raw_orders: list, params: dict, images: set, now: float, warn: Callable[[str], None]) -> list[dict]:
    """The orders my_orders lists that pass the filters needing no price; a malformed entry is skipped with a
    warning, and an order without an SSH endpoint is returned with one."""
    orders = []
    for raw in raw_orders:
        try:
            order = normalize_order(raw, now)
        except ValueError as err:
            warn(f"Skipping a malformed {err}")
            continue
        if not _wanted(order, params, images):
            continue
        if order["ssh_endpoint_error"]:
            warn(f"Order {order['id']} is returned without an SSH endpoint: {order['ssh_endpoint_error']}")
        orders.append(order)
    return orders


def priced_filters(orders: list[dict], params: dict, filters: dict, rates: dict) -> list[dict]:
    """The orders that pass the filters needing a price or an age: older_than, spend_over, lifetime_expired."""
    if filters["older_than"] is not None:
        orders = [o for o in orders if o["age_seconds"] is not None and o["age_seconds"] > filters["older_than"]]
    if filters["spend_over"] is not None:
        orders = [o for o in orders if spend_above(o, filters["spend_over"], rates)]
    if params["lifetime_expired"] is not None:
        orders = [o for o in orders if o["lifetime_expired"] is params["lifetime_expired"]]
    return orders


def summary(orders: list[dict], order_ids: list[int]) -> dict:
    """clore_order_info's result for the orders kept."""
    spend: dict[str, float] = {}
    for order in orders:
        if order["spend"] is not None and order["currency"]:
            spend[order["currency"]] = round(spend.get(order["currency"], 0.0) + order["spend"], 8)
    found = {order["id"] for order in orders}
    return {
        "changed": False,
        "orders": orders,
        "orders_by_id": {str(order["id"]): order for order in orders},
        "count": len(orders),
        "spend_by_currency": spend,
        "usd_per_day_total": round(sum(o["usd_per_day"] or 0.0 for o in orders), 8),
        "missing_order_ids": [order_id for order_id in dict.fromkeys(order_ids) if order_id not in found],
    }


def run_order_info(module, client) -> dict:
    """clore_order_info's run(module, client) for common.run_module."""
    params = dict(module.params, order_ids=module.params["order_ids"] or [],
                  server_ids=set(module.params["server_ids"] or []))
    filters = check_filters(params)
    raw_orders = client.my_orders(return_completed=params["return_completed"])
    now = service_now(client)
    orders = listed_orders(raw_orders, params, filters["images"], now, module.warn)
    # The market's dollar rates only when an order in a coin has no dollar price of its own (a large read).
    rates = order_rates(client, orders, filters["usd_rates"], filters["spend_over"])
    due = Lifetimes(client.state_path, client.account).due_times()
    orders = [add_money_and_age(o, rates, now, due.get(o["id"])) for o in orders]
    orders = priced_filters(orders, params, filters, rates)
    directory = known_hosts_dir(params.get("known_hosts_dir"), str(client.state_path))
    orders = [o | ssh_settings(o, directory, params["host_key_checking"]) for o in orders]
    return summary(orders, params["order_ids"])
