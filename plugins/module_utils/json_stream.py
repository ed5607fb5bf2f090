"""Decoding a JSON object with one array member too large to hold decoded: each of its elements is handed to a
callback as soon as it is decoded, and is dropped unless the callback keeps it.

The marketplace answer is such an object: 50,000 servers are 36 MB of JSON but 160 MB of Python objects. Decoding
reads the body chunk by chunk and works on a window of text of about one chunk that moves along it; the values
themselves are decoded by the json module (so numbers, strings, NaN and every error are as json.loads reads them).
"""
from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

CHUNK_BYTES = 1 << 20  # the body is read this much at a time
CHUNK_CHARS = CHUNK_BYTES
_WHITESPACE_CHARS = " \t\n\r"
_WHITESPACE = re.compile(f"[{_WHITESPACE_CHARS}]*")
_DECODER = json.JSONDecoder()
_NUMBER_TAIL = 2


def text_chunks(body: Iterable[bytes], encoding: str | None) -> Iterator[str]:
    """The text of a body read chunk by chunk. Without an encoding, JSON's own detection (UTF-8, -16 or -32 by the
    first bytes) decides; undecodable bytes become U+FFFD, as in requests' Response.text."""
    chunks = iter(body)
    head = b""
    while len(head) < 4:
        chunk = next(chunks, None)
        if chunk is None:
            break
        head += chunk
    try:
        decoder = codecs.getincrementaldecoder(encoding or json.detect_encoding(head))(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    yield decoder.decode(head)
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


class _Window:
    """The part of the text not decoded yet: `text[pos:]`, extended from the chunks when a value runs past it."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)
        self._ended = False
        self.text = ""
        self.pos = 0

    def extend(self, at_least: int = 1) -> bool:
        """Drop the decoded text and read on until `at_least` more characters are at hand (`pos` then 0); False,
        changing nothing, at the end of the text."""
        pieces = [self.text[self.pos:]]
        wanted = len(pieces[0]) + at_least
        have = len(pieces[0])
        while have < wanted and not self._ended:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._ended = True
            elif chunk:
                pieces.append(chunk)
                have += len(chunk)
        if len(pieces) == 1:
            return False  # the text and positions in it stay as they were
        self.text = "".join(pieces)
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character after whitespace ("" at the end of the text), not consumed."""
        if self.pos < len(self.text) and self.text[self.pos] not in _WHITESPACE_CHARS:
            return self.text[self.pos]  # compact JSON: no whitespace to skip
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.extend():
                return ""

    def take(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise ValueError(f"JSON: expected {char!r} but found {found or 'the end'!r}")
        self.pos += 1

    def value(self) -> Any:
        """The next complete JSON value."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                # Perhaps cut off by the end of the window: read on (doubling, so that a long value is decoded a
                # bounded number of times); at the end of the text the error is real.
                if self.extend(max(CHUNK_CHARS, len(self.text) - self.pos)):
                    continue
                raise
            if end + _NUMBER_TAIL >= len(self.text) and self.extend():
                # A number at the window's end may go on in the next chunk: "12" of "125", or "1" of "1.5" or
                # "1e+5" (the decoder reads the longest number it can, leaving at most "e+" unread).
                continue
            self.pos = end
            return value


def decode_object(chunks: Iterable[str], key: str, restart: Callable[[], None],
                  each: Callable[[Any], None]) -> dict:
    """The JSON object in the text `chunks`, with the elements of its array member `key` handed to each() in order
    instead of kept; `key` is then absent from the result (a `key` that is not an array stays in it).

    restart() is called at each occurrence of `key`, so that a repeated key keeps only its last value, as json.loads
    does. ValueError (json.JSONDecodeError included) when the text is not one JSON object.
    """
    window = _Window(chunks)
    window.take("{")
    result: dict[str, Any] = {}
    if window.peek() == "}":
        window.pos += 1
    else:
        while True:
            if window.peek() != '"':
                raise ValueError("JSON: expected a property name in double quotes")
            name = window.value()
            window.take(":")
            if name == key:
                restart()
                result.pop(key, None)
                if window.peek() == "[":
                    _each_element(window, each)
                else:
                    result[name] = window.value()
            else:
                result[name] = window.value()
            separator = window.peek()
            window.pos += 1
            if separator == "}":
                break
            if separator != ",":
                raise ValueError(f"JSON: expected ',' or '}}' after a property, found {separator or 'the end'!r}")
    if window.peek():
        raise ValueError("JSON: extra data after the object")
    return result


def _each_element(window: _Window, each: Callable[[Any], None]) -> None:
    window.take("[")
    if window.peek() == "]":
        window.pos += 1
        return
    while True:
        each(window.value())
        separator = window.peek()
        window.pos += 1
        if separator == "]":
            return
        if separator != ",":
            raise ValueError(f"JSON: expected ',' or ']' in an array, found {separator or 'the end'!r}")
