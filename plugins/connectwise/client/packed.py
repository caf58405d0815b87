"""A page of records kept as the JSON text of each until its consumer reads it.

A page of 1,000 contacts is 1.8 MB of JSON and 6 MB of Python objects. Parallel readers keep
a page each, and one more waits for the consumer: held as text, each costs its body. The sync
decodes the page it maps a part at a time (:func:`parts_of`), so the objects of only one part
exist at once. A reader needs just the last record's key to ask for the next page, and decodes
only that record.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

import msgspec
import requests

from connectwise.client.bodies import DECODER, decode
from connectwise.errors import ConnectWiseRequestError

Record = dict[str, Any]

# A page's syntax checked in one pass, each record kept as the slice of the body that holds it.
_PAGE_DECODER = msgspec.json.Decoder(list[msgspec.Raw])
UTF8_SLICE = 64 * 1024


class PackedPage:
    """A page's records as the slices of its body that hold them (checked JSON, valid UTF-8)."""

    __slots__ = ("_texts",)

    def __init__(self, texts: list[msgspec.Raw]) -> None:
        self._texts = texts

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index: int) -> Any:
        return _decode_record(self._texts[index])

    def records(self, start: int = 0, stop: int | None = None) -> list[Any]:
        """Decode the records from ``start`` to ``stop`` (once: the caller keeps the list)."""
        return [_decode_record(text) for text in self._texts[start:stop]]


Page = list[Record] | PackedPage
"""A page as read: packed, or decoded whole when msgspec refused its body."""


def decode_page(response: requests.Response) -> Any:
    """Return a JSON array body as a :class:`PackedPage`; any other body as ``decode`` does.

    A body that is not UTF-8, or that msgspec refuses, is decoded whole. A spooled body
    (``bodies.spool_body``) stays in its file: the page's slices read it from the mapping.
    """
    body = response.content
    if response.status_code != 204 and body and _is_utf8(body):
        try:
            return PackedPage(_PAGE_DECODER.decode(body))
        except msgspec.MsgspecError:  # not an array, or what only the standard library reads
            pass
    if isinstance(body, memoryview):  # what reads a whole body takes bytes
        response._content = body.tobytes()
    return decode(response)


def records_of(page: Page) -> list[Record]:
    """Return a page's records, decoding a packed page."""
    return page.records() if isinstance(page, PackedPage) else page


def parts_of(page: Page, size: int) -> Iterator[list[Record]]:
    """Yield a page's records ``size`` at a time, decoding a packed page part by part."""
    if not isinstance(page, PackedPage):
        yield page
        return
    for start in range(0, len(page), size):
        yield page.records(start, start + size)


def _is_utf8(body: bytes | memoryview) -> bool:
    if isinstance(body, bytes) and body.isascii():
        return True
    # Slice by slice: decoding a page whole made a str of it (up to four times its bytes).
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    try:
        for start in range(0, len(view), UTF8_SLICE):
            decoder.decode(view[start : start + UTF8_SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_record(text: msgspec.Raw) -> Any:
    try:
        return DECODER.decode(text)
    except msgspec.MsgspecError:
        pass
    # A float beyond double range: the standard library reads it as infinity, as it reads a
    # whole page msgspec refuses (``bodies.decode``). The page's syntax and UTF-8 were checked.
    try:
        return json.loads(bytes(text))
    except ValueError as exc:
        raise ConnectWiseRequestError(
            f"ConnectWise sent a record that is not valid JSON ({exc}).", status=200
        ) from None
