"""The marketplace read row by row: json_stream's decoder, CloreClient.marketplace_each and MarketSelection."""
from __future__ import annotations

import io
import json
import random

import pytest
import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible_collections.clore.ai.plugins.module_utils import client as client_module
from ansible_collections.clore.ai.plugins.module_utils import json_stream
from ansible_collections.clore.ai.plugins.module_utils import market as market_module
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreApiError
from ansible_collections.clore.ai.plugins.module_utils.json_stream import decode_object, text_chunks
from ansible_collections.clore.ai.plugins.module_utils.market import MarketSelection, select_servers


# ----- the decoder -----
def decoded(text: str, piece: int, key: str = "servers") -> tuple[dict, list, int]:
    """(the rest of the object, the rows handed over, restarts) from `text` served `piece` characters at a time."""
    rows: list = []
    restarts = []

    def restart() -> None:
        restarts.append(1)
        rows.clear()

    rest = decode_object((text[i:i + piece] for i in range(0, len(text), piece)), key, restart, rows.append)
    return rest, rows, len(restarts)


DOCUMENTS = [
    '{"servers":[{"id":1,"price":{"usd":{"spot":1.25e-3}}},{"id":22},null,7,"x"],"my_servers":[3],"code":0}',
    ' {\n "code" : 0 , "servers" : [ ] , "my_servers" : [ ] }\n',
    '{"my_servers":[],"servers":[{"name":"RTX \\u00e9\\"4090\\"","n":-12345678901234567890,"f":NaN}],"code":0}',
    '{"servers":{"not":"a list"},"code":0}',
    '{"servers":[1.5e-3,-0.25E+10,12.75,true,-7],"code":1.5e-3,"rate":-0.25E+10,"n":12.75,"ok":false}',
    '{"servers":[{"id":1}],"code":0,"servers":[{"id":2},{"id":3}]}',
    '{}',
]


@pytest.mark.parametrize("text", DOCUMENTS)
@pytest.mark.parametrize("piece", [1, 2, 5, 1 << 20])
def test_the_decoder_reads_what_json_loads_reads_at_any_chunk_size(monkeypatch, text, piece):
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", 3)  # a small window, so that values straddle its end
    whole = json.loads(text)
    rest, rows, restarts = decoded(text, piece)
    servers = whole.pop("servers", None)
    if isinstance(servers, list):
        assert json.dumps(rows) == json.dumps(servers)  # NaN compares unequal to itself; its text does not
    else:
        assert rows == []
        if servers is not None:
            whole["servers"] = servers
    assert rest == whole
    assert restarts == text.count('"servers"')


def random_value(chance: random.Random, depth: int = 0):
    kinds = ["int", "float", "str", "bool", "null"] + (["list", "dict"] if depth < 3 else [])
    kind = chance.choice(kinds)
    if kind == "int":
        return chance.randint(-10**12, 10**12)
    if kind == "float":
        return chance.choice([chance.uniform(-1e6, 1e6), chance.uniform(-1, 1) * 10 ** chance.randint(-30, 30)])
    if kind == "str":
        return "".join(chance.choice('ab "\\/\n\té✓\u0001') for _i in range(chance.randint(0, 12)))
    if kind == "bool":
        return chance.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [random_value(chance, depth + 1) for _i in range(chance.randint(0, 4))]
    return {f"k{i}": random_value(chance, depth + 1) for i in range(chance.randint(0, 4))}


@pytest.mark.parametrize("seed", range(40))
def test_random_documents_decode_as_json_loads_decodes_them(monkeypatch, seed):
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", 4)
    chance = random.Random(seed)
    document = {"servers": [random_value(chance) for _i in range(chance.randint(0, 20))]}
    document.update({f"m{i}": random_value(chance) for i in range(chance.randint(0, 5))})
    text = json.dumps(document, indent=chance.choice([None, 1]), ensure_ascii=chance.random() < 0.5)
    rest, rows, _restarts = decoded(text, chance.randint(1, 9))
    assert rows == document.pop("servers")
    assert rest == document


@pytest.mark.parametrize("text", [
    "", '{"servers":[1,]}', '{"servers":[1 2]}', '{"a":1,}', '{"a" 1}', "{1: 2}", '{"servers":[1]} x',
    '{"servers":[{"id":1}', '{"servers":[1', '{"a":tru}', "\ufeff{}",
])
def test_what_json_loads_refuses_the_decoder_refuses(text):
    with pytest.raises(ValueError):
        json.loads(text)
    for piece in (1, 4, 100):
        with pytest.raises(ValueError):
            decoded(text, piece)


@pytest.mark.parametrize("text", ["[1, 2]", '"servers"', "null"])
def test_json_that_is_not_an_object_is_refused(text):
    # The client reports it as it reports any answer that is not an object.
    for piece in (1, 100):
        with pytest.raises(ValueError):
            decoded(text, piece)


def test_text_chunks_decode_characters_split_between_chunks_and_detect_the_encoding():
    text = '{"a":"héllo wörld ✓"}'
    body = text.encode()
    assert "".join(text_chunks((body[i:i + 1] for i in range(len(body))), "utf-8")) == text
    assert "".join(text_chunks([text.encode("utf-16-le")], None)) == text
    assert "".join(text_chunks([b"\xef\xbb\xbf" + body], None)) == text  # a BOM, as requests' JSON guess drops it
    assert "".join(text_chunks([body], "no-such-charset")) == text
    assert "".join(text_chunks([b'{"a":"\xff"}'], "utf-8")) == '{"a":"\ufffd"}'
    assert "".join(text_chunks([], None)) == ""


# ----- the client -----
class _BreaksAfter(io.BytesIO):
    """A body whose connection drops after `limit` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self.limit = limit

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.limit:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(size if size and size > 0 else self.limit, self.limit - self.tell()))

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)


class StreamingAdapter(BaseAdapter):
    """Answers with real streamed bodies (urllib3 responses read as they go): (status, body[, break_after])."""

    def __init__(self, script: list) -> None:
        super().__init__()
        self.script = script
        self.streamed: list[bool] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.streamed.append(stream)
        status, payload, *rest = self.script.pop(0)
        data = (json.dumps(payload) if isinstance(payload, dict) else payload).encode()
        body = _BreaksAfter(data, rest[0]) if rest else io.BytesIO(data)
        raw = urllib3.HTTPResponse(body=body, headers={"Content-Type": "application/json"}, status=status,
                                   preload_content=False)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.raw = raw
        response.request = request
        response.url = request.url
        if not stream:  # read now, as requests does
            response.content  # pylint: disable=pointless-statement
        return response


def streaming_client(make_client, script: list):
    client, _fake = make_client([])
    adapter = StreamingAdapter(list(script))
    client.session.mount("http://clore.test/", adapter)
    return client, adapter


def market_answer(count: int) -> dict:
    return {"servers": [{"id": i, "rented": i % 3 == 0} for i in range(1, count + 1)] + [None], "my_servers": [5],
            "code": 0}


def test_marketplace_each_streams_the_rows_in_order_as_marketplace_lists_them(make_client):
    client, adapter = streaming_client(make_client, [(200, market_answer(2500)), (200, market_answer(2500))])
    rows: list = []
    assert client.marketplace_each(rows.clear, rows.append) == {"my_servers": [5]}
    assert rows == client.marketplace()["servers"]
    assert adapter.streamed == [True, False]


@pytest.mark.parametrize(("failure", "rows_before"), [
    pytest.param((200, {"servers": [{"id": 9}], "code": 1}), True, id="code1-after-rows"),
    pytest.param((429, {"code": 5}), False, id="rate-limited"),
    pytest.param((200, json.dumps(market_answer(3000)), 1 << 16), True, id="connection-dropped-mid-body"),
])
def test_a_retried_marketplace_hands_each_row_over_once(make_client, monkeypatch, failure, rows_before):
    monkeypatch.setattr(client_module, "CHUNK_BYTES", 4096)  # rows are handed over before the connection drops
    client, adapter = streaming_client(make_client, [failure, (200, market_answer(3000))])
    selection = MarketSelection({})
    added = []

    def add(row):
        added.append(row)
        selection.add(row)

    client.marketplace_each(selection.restart, add)
    assert len(adapter.streamed) == 2 and (len(added) > 3000) == rows_before
    assert selection.total == 3000
    servers, excluded = selection.result()
    assert excluded == {"available_only": 1000} and len(servers) == 2000


def test_rows_of_a_failed_attempt_are_forgotten_even_when_the_next_answer_has_none(make_client, monkeypatch):
    monkeypatch.setattr(client_module, "CHUNK_BYTES", 4096)
    dropped = (200, json.dumps(market_answer(3000)), 1 << 16)
    client, _adapter = streaming_client(make_client, [dropped, (200, {"code": 0, "my_servers": []})])
    rows: list = []
    added = []

    def add(row):
        added.append(row)
        rows.append(row)

    assert client.marketplace_each(rows.clear, add) == {"my_servers": []}
    assert added and rows == []


@pytest.mark.parametrize("start", ['{"servers":[{"id":1},', "<html><body>"])
@pytest.mark.parametrize("chunk_bytes", [16, client_module.CHUNK_BYTES])
def test_a_body_that_is_not_json_is_reported_with_its_first_bytes(make_client, monkeypatch, start, chunk_bytes):
    monkeypatch.setattr(client_module, "CHUNK_BYTES", chunk_bytes)  # 16: the page is refused at its first chunk
    client, _adapter = streaming_client(make_client, [(200, start + "x" * 5000)])
    with pytest.raises(CloreApiError) as caught:
        client.marketplace_each(lambda: None, lambda row: None)
    text = str(caught.value)
    assert "HTTP 200 with a body that is not JSON" in text and start + "x" * 130 in text
    assert len(text) < 800


# ----- MarketSelection -----
def random_market(count: int, seed: int) -> list:
    chance = random.Random(seed)
    rows: list = []
    for _i in range(count):
        server_id = chance.randint(1, count // 2)  # some ids twice
        price = chance.choice([None, 1.0, 2.5, chance.uniform(0.5, 30)])
        rows.append({
            "id": server_id,
            "rented": chance.random() < 0.2,
            "specs": {"gpu": f"{chance.randint(1, 8)}x NVIDIA GeForce RTX {chance.choice(['3090', '4090'])}",
                      "net": {"cc": chance.choice(["DE", "US", None])}},
            "cuda_version": chance.choice(["11.8", "12.4", "12.10", None]),
            "price": {"usd": {"on_demand_clore": price}} if price is not None else {},
        })
    return rows + [None, {"id": "x"}]


@pytest.mark.parametrize("sort_by", ["price", "gpu_count", "cuda_version", "country", "spot_price"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [0, 1, 7])
def test_a_limited_selection_keeps_only_the_best_and_returns_what_a_full_sort_would(monkeypatch, sort_by,
                                                                                    descending, limit):
    monkeypatch.setattr(market_module, "_KEEP_AT_MOST", 4)  # trimmed many times over 600 rows
    rows = random_market(600, seed=limit)
    everything, excluded = select_servers(rows, {}, sort_by, descending)
    selection = MarketSelection({}, sort_by, descending, limit)
    for row in rows:
        selection.add(row)
        assert len(selection.matching) < max(2 * limit, 4)
    servers, counts = selection.result()
    assert [s["id"] for s in servers] == [s["id"] for s in everything[:limit]]
    assert servers == everything[:limit]
    assert counts == excluded and counts["invalid_row"] == 2
    assert selection.matched == len(everything) and selection.total == len(rows)


def test_restart_forgets_every_row():
    selection = MarketSelection({"gpu": ["4090"]}, limit=2)
    for row in random_market(50, seed=1):
        selection.add(row)
    selection.restart()
    assert (selection.total, selection.matched, selection.result()) == (0, 0, ([], {"available_only": 0, "gpu": 0}))


def test_bad_filters_sort_or_limit_are_refused_when_the_selection_is_made():
    for args in ({"filters": {"gpu": ["("]}}, {"filters": {}, "sort_by": "nope"}, {"filters": {}, "limit": -1}):
        with pytest.raises(market_module.MarketFilterError):
            MarketSelection(**args)


# ----- nesting: a deep server row is skipped, a deep member fails the answer (test_client_depth.py: the rest)
DEEP = "[" * 5000 + "]" * 5000


def test_the_streamed_marketplace_skips_a_deep_server_row(make_client):
    warnings: list[str] = []
    body = f'{{"code": 0, "servers": [{{"id": 1, "nested": {DEEP}}}, {{"id": 2}}], "my_servers": []}}'
    client, _adapter = streaming_client(make_client, [(200, body)])
    client.warn = warnings.append
    rows: list = []
    rest = client.marketplace_each(rows.clear, rows.append)
    assert [row["id"] for row in rows] == [2] and rest == {"my_servers": []}
    assert warnings and warnings[0].startswith("Clore.ai API marketplace: skipped servers row 1: it is nested deeper")


def test_a_deep_member_of_the_streamed_marketplace_fails_naming_it(make_client):
    client, _adapter = streaming_client(make_client, [(200, '{"code": 0, "servers": [], "my_servers": ' + DEEP + "}")])
    with pytest.raises(CloreApiError, match="^Clore.ai API marketplace: the answer .* nested deeper than"):
        client.marketplace_each(lambda: None, lambda row: None)
