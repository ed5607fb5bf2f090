"""CloreClient and answers nested without end: a too-deep listing row is skipped with a warning naming the endpoint
and the row, the other rows are read; any other too-deep part fails the call naming the endpoint, without a retry."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError
from ansible_collections.clore.ai.plugins.module_utils.json_stream import MAX_DEPTH

DEEP = "[" * 5000 + "]" * 5000


def order(order_id: int) -> str:
    return f'{{"id": {order_id}, "si": {order_id + 100}, "specs": {{"net": {{"cc": "DE"}}}}}}'


def deep_row(order_id: int) -> str:
    return f'{{"id": {order_id}, "nested": {DEEP}}}'


@pytest.mark.parametrize("call, endpoint, key", [
    (lambda client: client.my_orders(), "my_orders", "orders"),
    (lambda client: client.my_servers(), "my_servers", "servers"),
    (lambda client: client.wallets(), "wallets", "wallets"),
    (lambda client: client.marketplace()["servers"], "marketplace", "servers"),
])
def test_a_deep_row_is_skipped_with_a_warning(make_client, call, endpoint, key):
    warnings: list[str] = []
    body = f'{{"code": 0, "{key}": [{order(1)}, {deep_row(2)}, {order(3)}]}}'
    client, adapter = make_client([(200, body, {"Content-Type": "application/json"})], warn=warnings.append)
    rows = call(client)
    assert [row["id"] for row in rows] == [1, 3]
    assert rows[0]["specs"] == {"net": {"cc": "DE"}}
    assert warnings == [f"Clore.ai API {endpoint}: skipped {key} row 2: it is nested deeper than {MAX_DEPTH} "
                        "levels, which no row of the API is; the other rows are read"]
    assert len(adapter.sent) == 1


@pytest.mark.parametrize("body", [
    '{"code": 0, "exists": true, "market": {"offers": [], "deep": ' + DEEP + "}}",
    '{"code": 0, "exists": true, "market": {"offers": [' + DEEP + "]}}",
    '{"code": 0, "exists": true, "market": {"offers": [' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "]}}",
])
def test_a_deep_answer_fails_naming_the_endpoint_without_a_retry(make_client, body):
    client, adapter = make_client([(200, body), (200, {"code": 0, "exists": True, "market": {}})])
    with pytest.raises(CloreApiError) as caught:
        client.spot_marketplace(7)
    message = str(caught.value)
    assert message.startswith("Clore.ai API spot_marketplace: the answer (HTTP 200) was not read: it is JSON nested "
                              f"deeper than {MAX_DEPTH} levels")
    assert caught.value.endpoint == "spot_marketplace"
    assert "Traceback" not in message and "recursion" not in message
    assert len(adapter.sent) == 1  # the same answer would come again


def test_an_answer_at_the_bound_is_read_whole(make_client):
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # inside `market`, itself one level
    client, _adapter = make_client([(200, '{"code": 0, "exists": true, "market": {"offers": [], "x": ' + inner
                                     + "}}")])
    assert client.spot_marketplace(7)["exists"] is True


def test_non_json_and_non_object_answers_read_as_before(make_client):
    client, _adapter = make_client([(200, "[1, 2]"), (200, "<html>oops</html>")])
    for _answer in range(2):
        with pytest.raises(CloreApiError, match="my_orders"):
            client.my_orders()
