"""The client's host-side endpoints: my_servers, server_config (a GET with a JSON body) and set_server_settings."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError


def test_my_servers_returns_the_rows_as_listed(make_client):
    rows = [{"name": "rig-a", "id": 1}, "odd", None]
    client, adapter = make_client([(200, {"code": 0, "servers": rows, "limit": 100})])
    assert client.my_servers() == [{"name": "rig-a", "id": 1}, "odd"]
    assert adapter.sent[0].method == "GET" and adapter.sent[0].url.endswith("/v1/my_servers")


def test_server_config_is_a_get_with_a_json_body(make_client):
    config = {"name": "rig-a", "mrl": 240}
    client, adapter = make_client([(200, {"code": 0, "config": config}), (200, {"code": 0, "config": "odd"})])
    assert client.server_config("rig-a") == config
    sent = adapter.sent[0]
    assert sent.method == "GET" and sent.url.endswith("/v1/server_config") and sent.body == {"server_name": "rig-a"}
    assert sent.headers["Content-Type"] == "application/json"
    assert client.server_config("rig-a") == {}


def test_set_server_settings_posts_the_body_and_raises_on_refusal(make_client):
    body = {"name": "rig-a", "mrl": 96}
    client, adapter = make_client([(200, {"code": 0}), (200, {"code": 2, "error": "mrl"})])
    client.set_server_settings(body)
    assert adapter.sent[0].method == "POST" and adapter.sent[0].body == body
    with pytest.raises(CloreApiError) as caught:
        client.set_server_settings(body)
    assert caught.value.code == 2 and caught.value.endpoint == "set_server_settings"
