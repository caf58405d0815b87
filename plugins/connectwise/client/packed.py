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
import math
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
    """A page's records kept in its body (checked JSON, valid UTF-8) until its consumer reads them.

    The body is split into each record's slice as it is read, which checks its syntax; only the
    count and the last record (a reader's next key) are kept, so a page waiting for the sync
    (one per parallel reader, and one more) holds no Python objects beyond its body, which a
    spooled page keeps in a file. The consumer splits it again when it first reads it (under
    a millisecond for a page of 1,000 contacts).
    """

    __slots__ = ("_body", "_count", "_last", "_texts")

    def __init__(self, body: bytes | memoryview, texts: list[msgspec.Raw]) -> None:
        """Keep ``body``, whose split into record slices (``texts``) has just been checked."""
        self._body = body
        self._count = len(texts)
        self._last = texts[-1] if texts else None
        self._texts: list[msgspec.Raw] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> Any:
        if self._texts is None and self._last is not None and index in (-1, self._count - 1):
            return _decode_record(self._last)
        return _decode_record(self._slices()[index])

    def records(self, start: int = 0, stop: int | None = None) -> list[Any]:
        """Decode the records from ``start`` to ``stop`` (once: the caller keeps the list)."""
        return [_decode_record(text) for text in self._slices()[start:stop]]

    def part_ends(self, size: int, max_bytes: float) -> Iterator[int]:
        """Yield where each part ends: ``size`` records at most, ``max_bytes`` of JSON at most."""
        texts = self._slices()
        start, taken = 0, 0
        for index, text in enumerate(texts):
            if index > start and (index - start >= size or taken + len(text) > max_bytes):
                yield index
                start, taken = index, 0
            taken += len(text)
        if start < len(texts):
            yield len(texts)

    def _slices(self) -> list[msgspec.Raw]:
        if self._texts is None:
            try:
                self._texts = _PAGE_DECODER.decode(self._body)
            except msgspec.MsgspecError as exc:  # the body changed since it was checked
                raise ConnectWiseRequestError(
                    f"ConnectWise sent a page that is not valid JSON ({exc}).", status=200
                ) from None
        return self._texts


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
            return PackedPage(body, _PAGE_DECODER.decode(body))
        except msgspec.MsgspecError:  # not an array, or what only the standard library reads
            pass
    if isinstance(body, memoryview):  # what reads a whole body takes bytes
        response._content = body.tobytes()
    return decode(response)


def records_of(page: Page) -> list[Record]:
    """Return a page's records, decoding a packed page."""
    return page.records() if isinstance(page, PackedPage) else page


def parts_of(page: Page, size: int, max_bytes: int | None = None) -> Iterator[list[Record]]:
    """Yield a page's records in parts, decoding a packed page part by part.

    A part holds ``size`` records at most and, with ``max_bytes``, no more of their JSON than
    that (one record at least): a record's objects take some three times its JSON, so the
    bytes bound what a part costs, whatever the width of the entity's records.
    """
    if not isinstance(page, PackedPage):
        yield page
        return
    limit = max_bytes if max_bytes is not None else math.inf
    start = 0
    for stop in page.part_ends(size, limit):
        yield page.records(start, stop)
        start = stop


def each_record(page: Page, part: int = 100) -> Iterator[Record]:
    """Yield a page's records one by one, decoding a packed page ``part`` records at a time.

    For a consumer that keeps little of each record: the page's objects never all exist.
    """
    for records in parts_of(page, part):
        yield from records


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
