"""Decoding a JSON object with one array member too large to hold decoded: each of its elements is handed to a
callback as soon as it is decoded, and is dropped unless the callback keeps it.

The marketplace answer is such an object: 50,000 servers are 36 MB of JSON but 160 MB of Python objects. Decoding
reads the body chunk by chunk and works on a window of text of about one chunk that moves along it; the values
themselves are decoded by the json module (so numbers, strings, NaN and every error are as json.loads reads them).

Nesting is bounded (MAX_DEPTH): the json module recurses once per level, and fails differently by implementation
(measured on CPython 3.11 at the default recursion limit of 1000): its C decoder raises RecursionError "maximum
recursion depth exceeded while decoding a JSON array from a unicode string" from about 1,000 levels, the pure-Python
fallback a bare RecursionError from about 330 (three frames a level, fewer still on a deep stack). A value that
decodes under either is still held to MAX_DEPTH by its text, so both read the same values and refuse the same ones
(TooDeep), and nothing deeper ever reaches code that walks decoded values recursively.
"""
from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from typing import Any

CHUNK_BYTES = 1 << 20  # the body is read this much at a time
CHUNK_CHARS = CHUNK_BYTES
_WHITESPACE_CHARS = " \t\n\r"
_WHITESPACE = re.compile(f"[{_WHITESPACE_CHARS}]*")
_DECODER = json.JSONDecoder()
_NUMBER_TAIL = 2
# Levels of arrays and objects a value may nest: real answers nest 5 (a server row's price.usd), so 64 leaves room for
# any growth while staying far below where the json module or Python code walking the value would fail.
MAX_DEPTH = 64
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a string's rest after its opening quote
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_PLAIN = re.compile(r'[^"\[\]{}]*')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeep(ValueError):
    """A JSON value nested deeper than MAX_DEPTH levels."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


def within_depth(text: str, start: int = 0, end: int | None = None, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text `text[start:end]` nests arrays and objects at most `limit` levels deep.

    Without recursion, at the speed of str methods: a text with no more opening brackets than `limit` cannot be
    deeper; otherwise the brackets outside strings are counted as they open and close.
    """
    end = len(text) if end is None else end
    if text.count("[", start, end) + text.count("{", start, end) <= limit:
        return True
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text[start:end]))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= limit


def loads(text: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """json.loads, with nesting bounded: TooDeep (a ValueError) beyond `limit` levels, whichever decoder runs."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise TooDeep(limit) from None
    if not within_depth(text, limit=limit):
        raise TooDeep(limit)
    return value


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
        """The next complete JSON value; TooDeep, not consumed, when it nests deeper than MAX_DEPTH."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except RecursionError:
                raise TooDeep() from None
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
            if not within_depth(self.text, self.pos, end):
                raise TooDeep()
            self.pos = end
            return value

    def skip(self) -> None:
        """Move past the next value without decoding it (one too deep to decode), keeping count of the brackets
        outside strings instead of recursing. ValueError when the text ends first."""
        self.peek()
        depth = 0
        while True:
            if self.pos >= len(self.text) and not self.extend():
                raise ValueError("JSON: the text ends inside a value")
            char = self.text[self.pos]
            if char == '"':
                match = _STRING_REST.match(self.text, self.pos + 1)
                if match is None:  # the string goes on past the window
                    if not self.extend(max(CHUNK_CHARS, len(self.text) - self.pos)):
                        raise ValueError("JSON: unterminated string")
                    continue
                self.pos = match.end()
            elif char in "[{":
                depth += 1
                self.pos += 1
            elif char in "]}":
                depth -= 1
                self.pos += 1
            else:
                self.pos = _PLAIN.match(self.text, self.pos).end()
            if depth <= 0:
                if depth < 0:
                    raise ValueError("JSON: unbalanced brackets")
                return


def decode_object(chunks: Iterable[str], key: str | None, restart: Callable[[], None],
                  each: Callable[[Any], None], too_deep: Callable[[int], None] | None = None) -> dict:
    """The JSON object in the text `chunks`, with the elements of its array member `key` handed to each() in order
    instead of kept; `key` is then absent from the result (a `key` that is not an array stays in it). key None: the
    object whole.

    restart() is called at each occurrence of `key`, so that a repeated key keeps only its last value, as json.loads
    does. An element nested deeper than MAX_DEPTH is skipped and too_deep(its index) called; without too_deep, and
    for any other value too deep, TooDeep. ValueError (json.JSONDecodeError included) when the text is not one JSON
    object.
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
                    _each_element(window, each, too_deep)
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


def _each_element(window: _Window, each: Callable[[Any], None], too_deep: Callable[[int], None] | None) -> None:
    window.take("[")
    if window.peek() == "]":
        window.pos += 1
        return
    index = 0
    while True:
        try:
            element = window.value()
        except TooDeep:
            if too_deep is None:
                raise
            window.skip()
            too_deep(index)
        else:
            each(element)
        index += 1
        separator = window.peek()
        window.pos += 1
        if separator == "]":
            return
        if separator != ",":
            raise ValueError(f"JSON: expected ',' or ']' in an array, found {separator or 'the end'!r}")
