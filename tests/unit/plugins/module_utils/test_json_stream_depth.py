"""The nesting bound of every JSON the collection reads (json_stream.MAX_DEPTH), under json's C decoder and under its
pure-Python fallback: they fail differently on deep text (RecursionError at about 1,000 and 330 levels), and must
read and refuse the same values."""
from __future__ import annotations

import json
import json.scanner

import pytest

from ansible_collections.clore.ai.plugins.module_utils import json_stream
from ansible_collections.clore.ai.plugins.module_utils.json_stream import (
    MAX_DEPTH,
    TooDeep,
    decode_object,
    loads,
    text_chunks,
    within_depth,
)


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


@pytest.fixture(params=["c", "python"])
def decoder(request, monkeypatch):
    """json_stream's decoder: json's own (the C scanner here) or one forced onto the pure-Python scanner."""
    if request.param == "python":
        pure = json.JSONDecoder()
        pure.scan_once = json.scanner.py_make_scanner(pure)
        monkeypatch.setattr(json_stream, "_DECODER", pure)
    else:
        assert json.scanner.c_make_scanner is not None, "this Python has no C scanner to test"
    return request.param


def test_the_two_decoders_fail_differently_on_deep_text(decoder):
    """What the bound protects from: 500 levels is read by the C scanner but not by the pure-Python one."""
    text = nested(500)
    if decoder == "c":
        # How deep the C scanner itself goes depends on the Python (3.11 fails from about 1,000 levels, 3.13 reads
        # 5,000): the bound must not rely on it.
        assert json_stream._DECODER.decode(text) is not None
    else:
        with pytest.raises(RecursionError):
            json_stream._DECODER.decode(text)
        with pytest.raises(RecursionError):
            json_stream._DECODER.decode(nested(5000))


@pytest.mark.parametrize("levels", [1, MAX_DEPTH - 1, MAX_DEPTH])
def test_loads_reads_up_to_the_bound(decoder, levels):
    value = loads(nested(levels))
    for _level in range(levels):
        value = value[0]
    assert value == 1


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 400, 5000, 100_000])
def test_loads_refuses_beyond_the_bound_whichever_decoder(decoder, levels):
    with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH} levels"):
        loads(nested(levels))


def test_loads_takes_bytes_and_a_bound(decoder):
    assert loads(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(TooDeep):
        loads(b'{"a": [[1]]}', limit=2)
    with pytest.raises(ValueError):
        loads("{not json")


@pytest.mark.parametrize("text, limit, within", [
    ('{"a": [1, {"b": 2}]}', 3, True),
    ('{"a": [1, {"b": 2}]}', 2, False),
    ('[[], [], [], [], []]', 2, True),  # many brackets, little depth: counted, not guessed from the total
    ('["[[[[[[", {"x": "{{{{{{"}]', 2, True),  # brackets inside strings are text
    ('["\\"[[[[", [["]"]]]', 3, True),  # an escaped quote does not end the string
    ('["\\"[[[[", [["]"]]]', 2, False),
])
def test_within_depth(text, limit, within):
    assert within_depth(text, limit=limit) is within
    assert within_depth("xx" + text + "yy", 2, len(text) + 2, limit) is within


def rows_text(*rows: str) -> str:
    return '{"code": 0, "orders": [' + ", ".join(rows) + '], "tail": true}'


def decode_rows(text: str, chunk: int | None = None, **kwargs):
    body = [text.encode()] if chunk is None else [text[i:i + chunk].encode() for i in range(0, len(text), chunk)]
    rows: list = []
    skipped: list[int] = []
    rest = decode_object(text_chunks(body, "utf-8"), "orders", rows.clear, rows.append, skipped.append, **kwargs)
    return rest, rows, skipped


@pytest.mark.parametrize("chunk", [None, 3, 64])
def test_a_deep_row_is_skipped_and_the_others_read(decoder, monkeypatch, chunk):
    if chunk is not None:
        monkeypatch.setattr(json_stream, "CHUNK_CHARS", chunk)
    deep_row = '{"id": 2, "s": "]]}", "x": ' + nested(5000, '"]\\"["') + "}"
    rest, rows, skipped = decode_rows(rows_text('{"id": 1}', deep_row, '{"id": 3, "s": "[[{"}', nested(MAX_DEPTH + 1)),
                                      chunk)
    assert rest == {"code": 0, "tail": True}
    assert rows == [{"id": 1}, {"id": 3, "s": "[[{"}]
    assert skipped == [1, 3]


def test_a_row_at_the_bound_is_read(decoder):
    _rest, rows, skipped = decode_rows(rows_text(nested(MAX_DEPTH)))
    assert len(rows) == 1 and skipped == []


def test_a_deep_member_outside_the_rows_fails_the_answer(decoder):
    text = '{"code": 0, "orders": [], "deep": ' + nested(5000) + "}"
    with pytest.raises(TooDeep):
        decode_rows(text)


def test_without_a_skipper_a_deep_row_fails_the_answer(decoder):
    rows: list = []
    with pytest.raises(TooDeep):
        decode_object(text_chunks([rows_text(nested(5000)).encode()], None), "orders", rows.clear, rows.append)


def test_a_deep_row_cut_short_is_not_json(decoder):
    with pytest.raises(ValueError):
        decode_rows('{"orders": [' + "[" * 5000)
